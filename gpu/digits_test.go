//go:build cgo

package gpu

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wasinfer/wasinfer/tensor"
)

const (
	digitsModel = "../examples/digits/train/digits.onnx"
	digitsTest  = "../examples/digits/data/test.parquet"
)

// readDigits reads the committed held-out split: pixels (uint8 [8,8]) and
// label.
func readDigits(t testing.TB, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	f, err := file.OpenParquetFile(digitsTest, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := r.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, -1)
	defer tr.Release()
	if !tr.Next() {
		t.Fatal("test.parquet has no rows")
	}
	rec := tr.RecordBatch()
	rec.Retain()
	return rec
}

// normalizeDigits makes the model's input from the split, as a normalize
// UDF stage would: pixels/16 as float32 [1,8,8], plus the label.
func normalizeDigits(t testing.TB, mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	px, ok := rec.Column(0).(*tensor.FixedShapeArray)
	if !ok || rec.Schema().Field(0).Name != "pixels" {
		t.Fatalf("test.parquet: column 0 is %s %s, want pixels fixed_shape_tensor<uint8>[8,8]", rec.Schema().Field(0).Name, rec.Column(0).DataType())
	}
	raw := tensor.Values[uint8](px)
	vals := make([]float32, len(raw))
	for i, v := range raw {
		vals[i] = float32(v) / 16
	}
	col := tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, []int{1, 8, 8}, vals)
	label := rec.Column(1)
	label.Retain()
	return record(t, []string{"image", "label"}, col, label)
}

// The committed digits model, over the committed held-out split, through a
// pool of two actors in batches of 50: accuracy at least 0.95.
func TestDigitsAccuracy(t *testing.T) {
	mem := checkedMem(t)
	p := load(t, digitsModel, WithActors(2), WithAllocator(mem), WithInputs(map[string]string{"pixels": "image"}))
	raw := readDigits(t, mem)
	defer raw.Release()
	in := normalizeDigits(t, mem, raw)
	defer in.Release()
	if in.NumRows() != 360 {
		t.Fatalf("held-out split has %d rows, want 360", in.NumRows())
	}
	correct := 0
	for start, seq := int64(0), int64(0); start < in.NumRows(); start, seq = start+50, seq+1 {
		batch := in.NewSlice(start, min(start+50, in.NumRows()))
		out := transform(t, p, seq, batch)
		logits := column(t, out, "logits").(*tensor.FixedShapeArray)
		labels := column(t, out, "label").(*array.Int64)
		for r := range int(out.NumRows()) {
			row := tensor.Row[float32](logits, r)
			best := 0
			for k, v := range row {
				if v > row[best] {
					best = k
				}
			}
			if int64(best) == labels.Value(r) {
				correct++
			}
		}
		out.Release()
		batch.Release()
	}
	acc := float64(correct) / float64(in.NumRows())
	t.Logf("digits accuracy %.4f (%d of %d)", acc, correct, in.NumRows())
	if acc < 0.95 {
		t.Fatalf("accuracy %.4f, want at least 0.95", acc)
	}
}
