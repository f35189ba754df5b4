//go:build cgo

package gpu

import (
	"context"
	"log/slog"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/scheduler"
	"github.com/wasinfer/wasinfer/tensor"
)

// The digits model in a full pipeline: the committed held-out split read by
// the Parquet source, a normalize stage (pixels/16 as float32 [1,8,8]), the
// model stage with two actors in batches of 64, and the accuracy counted at
// the end: at least 0.95.
func TestDigitsPipeline(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	src, err := dataset.OpenParquet(ctx, []string{digitsTest}, dataset.WithAllocator(mem), dataset.WithBatchSize(100))
	if err != nil {
		t.Fatal(err)
	}
	model := load(t, digitsModel, WithActors(2), WithAllocator(mem), WithInputs(map[string]string{"pixels": "image"}))
	normalize := scheduler.Func("normalize", func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		px := in.Column(in.Schema().FieldIndices("pixels")[0]).(*tensor.FixedShapeArray)
		raw := tensor.Values[uint8](px)
		vals := make([]float32, len(raw))
		for i, v := range raw {
			vals[i] = float32(v) / 16
		}
		typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Float32, []int{1, 8, 8})
		if err != nil {
			return nil, err
		}
		img, err := tensor.NewArray(mem, typ, vals, nil)
		if err != nil {
			return nil, err
		}
		defer img.Release()
		label := in.Column(in.Schema().FieldIndices("label")[0])
		schema := arrow.NewSchema([]arrow.Field{{Name: "image", Type: typ}, {Name: "label", Type: label.DataType()}}, nil)
		return array.NewRecordBatch(schema, []arrow.Array{img, label}, in.NumRows()), nil
	})
	rows, correct := 0, 0
	_, err = scheduler.New(src, scheduler.WithAllocator(mem), scheduler.WithCPUs(4), scheduler.WithLogger(slog.New(slog.DiscardHandler))).
		MapBatches(normalize).
		MapBatches(model, scheduler.BatchSize(64)).
		Each(ctx, func(rec arrow.RecordBatch) error {
			logits := rec.Column(rec.Schema().FieldIndices("logits")[0]).(*tensor.FixedShapeArray)
			labels := rec.Column(rec.Schema().FieldIndices("label")[0]).(*array.Int64)
			for r := range int(rec.NumRows()) {
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
				rows++
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	acc := float64(correct) / float64(rows)
	t.Logf("digits through the pipeline: accuracy %.4f (%d of %d)", acc, correct, rows)
	if rows != 360 || acc < 0.95 {
		t.Fatalf("%d rows, accuracy %.4f; want 360 rows, at least 0.95", rows, acc)
	}
}
