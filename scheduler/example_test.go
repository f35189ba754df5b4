package scheduler_test

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/scheduler"
)

// Read a source, chain MapBatches stages with their own batch sizes and
// workers, and consume the output in order. A Wasm UDF (*host.UDF) or a
// model actor pool is passed to MapBatches the same way as this Go stage.
func Example() {
	alloc := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	batch := func(from, to int64) arrow.RecordBatch {
		b := array.NewRecordBuilder(alloc, schema)
		defer b.Release()
		for x := from; x < to; x++ {
			b.Field(0).(*array.Int64Builder).Append(x)
		}
		return b.NewRecordBatch()
	}
	a, b := batch(0, 5), batch(5, 8)
	defer a.Release()
	defer b.Release()
	src, err := scheduler.FromRecords(a, b) // two splits
	if err != nil {
		panic(err)
	}
	defer src.Close()

	square := scheduler.Func("square", func(ctx context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		xs := in.Column(0).(*array.Int64)
		out := array.NewInt64Builder(alloc)
		defer out.Release()
		for i := range xs.Len() {
			out.Append(xs.Value(i) * xs.Value(i))
		}
		col := out.NewArray()
		defer col.Release()
		return array.NewRecordBatch(in.Schema(), []arrow.Array{col}, in.NumRows()), nil
	})

	p := scheduler.New(src, scheduler.WithOrdered(true)).
		MapBatches(square, scheduler.BatchSize(2), scheduler.Workers(2))

	first, err := p.TakeBatch(context.Background(), 3, 1) // try the stage on 3 rows
	if err != nil {
		panic(err)
	}
	fmt.Println("take:", first.Column(0))
	first.Release()

	sum, err := p.Each(context.Background(), func(rec arrow.RecordBatch) error {
		fmt.Println("batch:", rec.Column(0))
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d rows in, %d out, %d splits\n", sum.Stages[0].RowsIn, sum.Stages[0].RowsOut, sum.SplitsCommitted)
	// Output:
	// take: [0 1 4]
	// batch: [0 1]
	// batch: [4 9]
	// batch: [16]
	// batch: [25 36]
	// batch: [49]
	// 8 rows in, 8 out, 2 splits
}
