package dataset

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestShardsPartition: for every source, shards 0..n-1 of its splits read
// disjoint rows that together are every row, for several n; and the
// splits are the same when the source is opened again.
func TestShardsPartition(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	// 100 ids in several files and formats.
	for i := range 4 {
		for _, f := range []Format{FormatParquet, FormatJSONL, FormatCSV, FormatIPC} {
			s, err := OpenSink(ctx, filepath.Join(dir, string(f), fmt.Sprint(i)), f, WithRowGroupRows(7))
			if err != nil {
				t.Fatal(err)
			}
			rec := idBatch(mem, int64(i*25), int64(i*25+25))
			writeSplits(t, s, []Split{{Index: 0, ID: "x"}}, []arrow.RecordBatch{rec})
			rec.Release()
			s.Close(ctx)
		}
		for j := range 25 {
			writeFile(t, dir, fmt.Sprintf("text/%d/%02d.txt", i, j), fmt.Sprint(i*25+j))
		}
	}
	schema := idBatch(mem, 0, 0).Schema()
	sources := map[string]func() (Source, error){
		"parquet": func() (Source, error) { return OpenParquet(ctx, []string{filepath.Join(dir, "parquet")}) },
		"jsonl": func() (Source, error) {
			return OpenJSONL(ctx, []string{filepath.Join(dir, "jsonl")}, WithSchema(schema))
		},
		"csv": func() (Source, error) { return OpenCSV(ctx, []string{filepath.Join(dir, "csv")}, WithSchema(schema)) },
		"ipc": func() (Source, error) { return OpenIPC(ctx, []string{filepath.Join(dir, "ipc")}) },
		"text": func() (Source, error) {
			return OpenText(ctx, []string{filepath.Join(dir, "text")}, WithWholeFile(true), WithFilesPerSplit(3))
		},
	}
	for name, open := range sources {
		t.Run(name, func(t *testing.T) {
			src, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			again, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if !slices.Equal(src.Splits(), again.Splits()) {
				t.Fatal("splits differ between two opens")
			}
			for _, n := range []int{1, 2, 3, 7} {
				seen := map[int64]int{}
				for i := range n {
					r := NewStreamReader(src, Shard(src.Splits(), i, n))
					recs, err := ReadAll(ctx, r)
					r.Close()
					if err != nil {
						t.Fatal(err)
					}
					for _, rec := range recs {
						for k := range int(rec.NumRows()) {
							var id int64
							if name == "text" {
								_, err := fmt.Sscan(rec.Column(1).(*array.String).Value(k), &id)
								must(t, err)
							} else {
								id = rec.Column(0).(*array.Int64).Value(k)
							}
							seen[id]++
						}
					}
					release(recs)
				}
				for id := range int64(100) {
					if seen[id] != 1 {
						t.Fatalf("%d shards: id %d read %d times", n, id, seen[id])
					}
				}
				if len(seen) != 100 {
					t.Fatalf("%d shards: %d ids", n, len(seen))
				}
			}
		})
	}
}
