package gpu

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseModel feeds arbitrary bytes to the ModelProto reader, which
// reads untrusted model files: it must return a model or an error, never
// panic or hang.
func FuzzParseModel(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.onnx")
	paths = append(paths, digitsOnnx)
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(handModel())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseModel(b)
		if err != nil {
			return
		}
		for _, v := range append(m.Inputs, m.Outputs...) {
			_ = v.Type()
		}
		if m.IRVersion <= 0 || len(m.Opsets) == 0 {
			t.Fatalf("accepted a model without ir_version or opsets: %+v", m)
		}
	})
}
