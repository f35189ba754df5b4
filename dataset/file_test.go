package dataset

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/internal/corpus"
	"github.com/wasinfer/wasinfer/tensor"
)

// TestCreateFileRoundTrip: a FileWriter writes a tensor column (which
// pqarrow alone cannot) and what reads back equals what was written; a
// writer given nothing, or aborted, leaves no file behind.
func TestCreateFileRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Float32, []int{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float32, 4*6)
	for i := range vals {
		vals[i] = float32(i) / 4
	}
	col, err := tensor.NewArray(mem, typ, vals, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer col.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "t", Type: typ}}, nil)
	batch := array.NewRecordBatch(schema, []arrow.Array{col}, 4)
	defer batch.Release()
	dir := t.TempDir()
	for _, f := range []Format{FormatParquet, FormatIPC} {
		path := filepath.Join(dir, "out."+string(f))
		w, err := CreateFile(path, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(batch); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		src, err := OpenStream(ctx, SourceSpec{Format: f, Paths: []string{path}}, "", WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := ReadAll(ctx, src)
		src.Close()
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: read back %d batches: %v", f, len(recs), err)
		}
		if err := corpus.Equal(batch, recs[0]); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		recs[0].Release()
	}
	w, err := CreateFile(filepath.Join(dir, "empty.parquet"), FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Error("a writer given no batch closed without error")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("directory holds %d entries, want the two files only", len(ents))
	}
}
