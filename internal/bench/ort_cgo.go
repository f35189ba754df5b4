//go:build cgo

package bench

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

const cgoEnabled = true

// bareORT is the baseline of pipeline_vs_bare_ort: a plain onnxruntime_go
// session with the model stage's settings (intra-op threads, one inter-op
// thread, full graph optimization, no spinning: gpu's defaults), run on
// one pre-made input tensor into one pre-made output tensor: no Arrow, no
// binding, no allocation per run.
type bareORT struct {
	sess    *ort.DynamicAdvancedSession
	in, out ort.Value
}

// newBareORT needs ONNX Runtime loaded in the process (a model stage's
// pool loads it: see gpu.Load).
func newBareORT(model string, threads, rows int, vals []float32) (*bareORT, error) {
	if !ort.IsInitialized() {
		return nil, fmt.Errorf("bare ONNX Runtime session: the library is not loaded yet")
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer func() { _ = so.Destroy() }()
	for _, err := range []error{
		so.SetIntraOpNumThreads(threads),
		so.SetInterOpNumThreads(1),
		so.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll),
		so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"),
		so.AddSessionConfigEntry("session.inter_op.allow_spinning", "0"),
	} {
		if err != nil {
			return nil, fmt.Errorf("bare ONNX Runtime session options: %w", err)
		}
	}
	sess, err := ort.NewDynamicAdvancedSession(model, []string{"pixels"}, []string{"logits"}, so)
	if err != nil {
		return nil, fmt.Errorf("bare ONNX Runtime session: %w", err)
	}
	in, err := ort.NewTensor(ort.Shape{int64(rows), 1, 8, 8}, vals)
	if err != nil {
		_ = sess.Destroy()
		return nil, err
	}
	out, err := ort.NewEmptyTensor[float32](ort.Shape{int64(rows), 10})
	if err != nil {
		_ = sess.Destroy()
		_ = in.Destroy()
		return nil, err
	}
	return &bareORT{sess: sess, in: in, out: out}, nil
}

func (b *bareORT) run() error { return b.sess.Run([]ort.Value{b.in}, []ort.Value{b.out}) }

func (b *bareORT) close() {
	_ = b.sess.Destroy()
	_ = b.in.Destroy()
	_ = b.out.Destroy()
}
