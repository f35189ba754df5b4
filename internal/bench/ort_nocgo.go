//go:build !cgo

package bench

const cgoEnabled = false

// bareORT needs cgo (onnxruntime_go); without it every model benchmark
// reports errNoCgo.
type bareORT struct{}

func newBareORT(string, int, int, []float32) (*bareORT, error) { return nil, errNoCgo }

func (*bareORT) run() error { return errNoCgo }

func (*bareORT) close() {}
