package dataset_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wasinfer/wasinfer/dataset"
)

// Write two splits of a CSV source to a Parquet directory, as a pipeline
// does (skipping committed splits), then read the output back.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "a.csv"), []byte("n,word\n1,one\n2,two\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "b.csv"), []byte("n,word\n3,three\n"), 0o644)

	spec, _ := dataset.ParseSourceURL("csv:*.csv")
	src, err := dataset.OpenSource(ctx, spec, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	fmt.Println("inferred:", src.Schema().Field(0).Type, src.Schema().Field(1).Type)

	sink, _ := dataset.OpenSinkSpec(ctx, dataset.SinkSpec{Format: "parquet", Path: "out"}, dir)
	done, _ := sink.Committed(ctx, src.Splits())
	for _, sp := range src.Splits() {
		if done[sp.Index] {
			continue
		}
		r, _ := src.Open(ctx, sp)
		part, _ := sink.Create(ctx, sp, src.Schema())
		for {
			rec, err := r.Read(ctx)
			if err != nil {
				break // io.EOF
			}
			err = part.Write(ctx, rec) // does not release rec
			rec.Release()
			if err != nil {
				fmt.Println(err)
				return
			}
		}
		r.Close()
		files, _ := part.Commit(ctx)
		fmt.Println(sp.ID, "->", filepath.Base(files[0]))
	}
	sink.Close(ctx)

	out, _ := dataset.OpenStream(ctx, dataset.SourceSpec{Format: "parquet", Paths: []string{"out"}}, dir)
	defer out.Close()
	recs, _ := dataset.ReadAll(ctx, out)
	for _, rec := range recs {
		printRows(rec)
		rec.Release()
	}
	// Output:
	// inferred: int64 utf8
	// a.csv -> part-000000-000.parquet
	// b.csv -> part-000001-000.parquet
	// 1 one
	// 2 two
	// 3 three
}

func printRows(rec arrow.RecordBatch) {
	for i := range int(rec.NumRows()) {
		fmt.Println(rec.Column(0).(*array.Int64).Value(i), rec.Column(1).(*array.String).Value(i))
	}
}
