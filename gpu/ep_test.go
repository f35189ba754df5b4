//go:build cgo

package gpu

import (
	"slices"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// The OrtApi entries ep.go calls by index, and the session-options pointer
// it takes from onnxruntime_go, against the real library: list the
// execution-provider devices, append the CPU one with
// SessionOptionsAppendExecutionProvider_V2, and run the digits model in a
// session made so; its output equals a default session's.
func TestEpDeviceAPI(t *testing.T) {
	needLibrary(t)
	lib, _ := LoadedLibrary()
	if err := initEpAPI(lib); err != nil {
		t.Fatal(err)
	}
	devs, err := epDevices()
	if err != nil {
		t.Fatal(err)
	}
	var cpu *epDevice
	var names []string
	for i, d := range devs {
		names = append(names, d.name)
		if d.name == "CPUExecutionProvider" && !d.gpu {
			cpu = &devs[i]
		}
	}
	if cpu == nil {
		t.Fatalf("execution-provider devices %v: want CPUExecutionProvider on a CPU", names)
	}

	so, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = so.Destroy() }()
	if err := so.AddSessionConfigEntry("wasinfer.test", "1"); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"wasinfer.test": true, "wasinfer.absent": false} {
		if has, err := hasConfigEntry(so, key); err != nil || has != want {
			t.Fatalf("HasSessionConfigEntry(%q) through the extracted pointer = %v, %v; want %v", key, has, err, want)
		}
	}
	if err := appendEpDevice(so, *cpu, map[string]string{}); err != nil {
		t.Fatalf("SessionOptionsAppendExecutionProvider_V2: %v", err)
	}
	s, err := ort.NewDynamicAdvancedSession(digitsModel, []string{"pixels"}, []string{"logits"}, so)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Destroy() }()
	x := make([]float32, 2*64)
	for i := range x {
		x[i] = float32(i%16) / 16
	}
	in := mustTensor(t, ort.NewShape(2, 1, 8, 8), x)
	defer func() { _ = in.Destroy() }()
	outs := []ort.Value{nil}
	if err := s.Run([]ort.Value{in}, outs); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = outs[0].Destroy() }()
	want := bareRun(t, digitsModel, []string{"pixels"}, []string{"logits"}, []ort.Value{mustTensor(t, ort.NewShape(2, 1, 8, 8), slices.Clone(x))})[0]
	if !slices.Equal(outs[0].(*ort.Tensor[float32]).GetData(), want.(*ort.Tensor[float32]).GetData()) {
		t.Fatal("the session with the appended CPU device computes something else")
	}
}
