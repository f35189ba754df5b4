package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/internal/corpus"
)

// writeParquet writes rows 0..n-1 of testSchema to path in row groups of
// rowGroup rows (each row group is one split).
func writeParquet(t testing.TB, path string, n, rowGroup int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pqarrow.NewFileWriter(testSchema, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(int64(rowGroup))), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]int64, n)
	for i := range vals {
		vals[i] = int64(i)
	}
	rec := makeBatch(memory.DefaultAllocator, vals)
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every split of a Parquet data set into one batch, in
// split order (which for an output directory is the input's split order).
func readAll(t testing.TB, inputs ...string) arrow.RecordBatch {
	t.Helper()
	ctx := context.Background()
	src, err := dataset.OpenParquet(ctx, inputs)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var recs []arrow.RecordBatch
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, sp := range src.Splits() {
		rd, err := src.Open(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := rd.Read(ctx)
			if err != nil {
				break
			}
			recs = append(recs, rec)
		}
		rd.Close()
	}
	out, err := concatRecords(memory.DefaultAllocator, src.Schema(), recs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestParquetWasmWasmParquet: Parquet in → Wasm UDF → Wasm UDF → Parquet
// out, compared row by row with the expected rows; a second run skips
// every committed split and writes nothing.
func TestParquetWasmWasmParquet(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	const rows = 5000
	writeParquet(t, in, rows, 700) // 8 splits, the last of 100 rows

	run := func() *Summary {
		src, err := dataset.OpenParquet(ctx, []string{in}, dataset.WithAllocator(alloc), dataset.WithBatchSize(333))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		sink, err := dataset.OpenSink(ctx, filepath.Join(dir, "out"), dataset.FormatParquet, dataset.WithSinkAllocator(alloc))
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := sink.Close(ctx); err != nil {
				t.Error(err)
			}
		}()
		id := loadUDF(t, "../sdk/c/examples/identity/identity.wasm", "identity", alloc)
		filter := loadUDF(t, "../sdk/c/examples/filter/filter.wasm", "filter", alloc, host.WithConfig([]byte(`{"column":"x","min":1234}`)))
		sum, err := New(src, WithAllocator(alloc), WithLogger(quiet), WithCPUs(4)).
			MapBatches(id, BatchSize(64)).
			MapBatches(filter, BatchSize(256)).
			Write(sink).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	sum := run()
	// Split 0 (rows 0..699) is filtered out whole: committed, with no file.
	if sum.SplitsCommitted != 8 || len(sum.OutputFiles) != 7 {
		t.Errorf("committed %d splits, %d files, want 8 and 7", sum.SplitsCommitted, len(sum.OutputFiles))
	}
	var want []int64
	for x := int64(1235); x < rows; x++ {
		want = append(want, x)
	}
	wantRec := makeBatch(memory.DefaultAllocator, want)
	defer wantRec.Release()
	got := readAll(t, filepath.Join(dir, "out"))
	defer got.Release()
	if err := corpus.Equal(got, wantRec); err != nil {
		t.Errorf("output differs from the expected rows: %v", err)
	}

	again := run()
	if again.SplitsSkipped != 8 || again.SplitsCommitted != 0 || again.Source.RowsOut != 0 {
		t.Errorf("second run: skipped %d, committed %d, read %d rows; want 8, 0, 0", again.SplitsSkipped, again.SplitsCommitted, again.Source.RowsOut)
	}
}

// TestInterruptThenResume: a run interrupted part way and run again writes
// every row exactly once, into real Parquet output.
func TestInterruptThenResume(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.parquet")
	writeParquet(t, in, 3000, 250) // 12 splits
	out := filepath.Join(dir, "out")
	attempt := func(stopAt int64) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		src, err := dataset.OpenParquet(ctx, []string{in}, dataset.WithAllocator(alloc), dataset.WithBatchSize(100))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		sink, err := dataset.OpenSink(ctx, out, dataset.FormatParquet, dataset.WithSinkAllocator(alloc))
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close(context.Background())
		watch := Func("watch", func(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
			if stopAt >= 0 && rec.Column(0).(*array.Int64).Value(0) >= stopAt {
				cancel()
			}
			return rec, nil
		})
		_, err = New(src, WithAllocator(alloc), WithLogger(quiet), WithSplitsInFlight(3), WithGrace(0)).
			MapBatches(watch, BatchSize(50)).Write(sink).Run(ctx)
		return err
	}
	if err := attempt(1400); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("first run: %v, want an interruption", err)
	}
	if err := attempt(-1); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, out)
	defer got.Release()
	if v := values(t, got); !slices.Equal(v, seq(0, 3000)) {
		t.Errorf("after resuming: %d rows %v, want 0..2999 once each", len(v), head(v))
	}
}

// TestSourceRejectedRows: rows a reader skips (dataset.Rejecter) go to the
// dead-letter sink under stage "source".
func TestSourceRejectedRows(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	var lines []string
	for x := range 20 {
		if x == 7 {
			lines = append(lines, `{"x": "seven", "s": "r7"}`)
			continue
		}
		lines = append(lines, fmt.Sprintf(`{"x": %d, "s": "r%d"}`, x, x))
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := dataset.OpenJSONL(ctx, []string{in}, dataset.WithSchema(testSchema), dataset.WithAllowBadRows(true), dataset.WithAllocator(alloc))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sink, dead := newSink(t, "out"), newSink(t, "dead")
	sum, err := New(src, WithAllocator(alloc), WithLogger(quiet)).
		MapBatches(mapStage("id", alloc, keep)).Write(sink).DeadLetters(dead).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.rows(t)[0]; len(got) != 19 || slices.Contains(got, 7) {
		t.Errorf("output %v, want 19 rows without 7", got)
	}
	dl := dead.deadLetters(t)
	if len(dl) != 1 || dl[0].stage != "source" || !strings.Contains(dl[0].input, `"line":8`) || !strings.Contains(dl[0].input, `seven`) {
		t.Errorf("dead letters %+v", dl)
	}
	if sum.DeadLetterRows != 1 || sum.Source.DeadLetterRows != 1 {
		t.Errorf("summary dead letters %d (source %d), want 1", sum.DeadLetterRows, sum.Source.DeadLetterRows)
	}
}
