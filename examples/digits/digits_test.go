//go:build cgo

// Package digits holds the digits example's test: the pipeline file run the
// way `wasinfer run` runs it, and the accuracy computed here from the
// Parquet it writes.
package digits

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/pipeline"
)

// The example pipeline over the committed held-out split (360 scans):
// every row comes out, with a prediction and a confidence, and the
// accuracy of prediction against label is at least 0.95.
func TestDigitsPipelineAccuracy(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()

	out := t.TempDir()
	spec, err := pipeline.Load("pipeline.yaml", "sink.path="+out)
	if err != nil {
		t.Fatal(err)
	}
	job, err := pipeline.Open(ctx, spec, pipeline.ModeRun,
		pipeline.WithAllocator(mem), pipeline.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := job.Pipeline.Run(ctx)
	if cerr := job.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows in %s (%.0f rows/s)", sum.Sink.RowsOut, sum.Wall, sum.RowsPerSecond)

	correct, rows := 0, 0
	for _, rec := range readParquet(t, mem, out) {
		labels := column[*array.Int64](t, rec, "label")
		preds := column[*array.Int32](t, rec, "prediction")
		conf := column[*array.Float32](t, rec, "confidence")
		for r := range rec.NumRows() {
			if preds.IsNull(int(r)) || conf.IsNull(int(r)) {
				t.Fatalf("row %d: null prediction", rows)
			}
			if c := conf.Value(int(r)); !(c > 0 && c <= 1) {
				t.Errorf("row %d: confidence %v is not a probability", rows, c)
			}
			if int64(preds.Value(int(r))) == labels.Value(int(r)) {
				correct++
			}
			rows++
		}
		rec.Release()
	}
	if rows != 360 {
		t.Fatalf("%d rows out, want the 360 of the held-out split", rows)
	}
	acc := float64(correct) / float64(rows)
	t.Logf("accuracy %.4f (%d of %d)", acc, correct, rows)
	if acc < 0.95 {
		t.Fatalf("accuracy %.4f (%d of %d), want at least 0.95", acc, correct, rows)
	}
}

// readParquet reads every Parquet file the sink committed under dir; the
// caller releases the batches.
func readParquet(t *testing.T, mem memory.Allocator, dir string) []arrow.RecordBatch {
	t.Helper()
	ctx := context.Background()
	r, err := dataset.OpenStream(ctx, dataset.SourceSpec{Format: dataset.FormatParquet, Paths: []string{dir}}, "", dataset.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := dataset.ReadAll(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func column[T arrow.Array](t *testing.T, rec arrow.RecordBatch, name string) T {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("output has no column %q (schema %s)", name, rec.Schema())
	}
	c, ok := rec.Column(idx[0]).(T)
	if !ok {
		t.Fatalf("column %q is %s", name, rec.Column(idx[0]).DataType())
	}
	return c
}
