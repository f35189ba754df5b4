package dataset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// idBatch returns a batch of ids [from, to) and a text column.
func idBatch(mem memory.Allocator, from, to int64) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := from; i < to; i++ {
		b.Field(0).(*array.Int64Builder).Append(i)
		b.Field(1).(*array.StringBuilder).Append(strings.Repeat("x", int(i%7)))
	}
	return b.NewRecordBatch()
}

func testSplits(n int) []Split {
	out := make([]Split, n)
	for i := range out {
		out[i] = Split{Index: i, ID: "in#" + string(rune('a'+i)), Rows: 10, Fingerprint: "f"}
	}
	return out
}

// ids reads every id in dir (parquet) in order.
func ids(t *testing.T, dir string) []int64 {
	t.Helper()
	src, err := OpenParquet(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := readAll(t, src)
	defer release(recs)
	var out []int64
	for _, r := range recs {
		out = append(out, r.Column(0).(*array.Int64).Int64Values()...)
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func writeIDs(t *testing.T, s Sink, splits []Split) {
	t.Helper()
	mem := memory.NewGoAllocator()
	recs := make([]arrow.RecordBatch, len(splits))
	for i, sp := range splits {
		recs[i] = idBatch(mem, int64(sp.Index)*10, int64(sp.Index)*10+10)
	}
	defer release(recs)
	writeSplits(t, s, splits, recs)
}

func TestSinkCommitAndRerun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	splits := testSplits(4)
	s, err := OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	writeIDs(t, s, splits[:3])
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	s, err = OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	done, err := s.Committed(ctx, splits)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 || !done[0] || !done[1] || !done[2] {
		t.Fatalf("committed %v, want splits 0, 1, 2", done)
	}
	writeIDs(t, s, splits[3:])
	if got := ids(t, dir); !slices.Equal(got, seq(0, 40)) {
		t.Fatalf("ids %v", got)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	want := []string{ManifestDir, "part-000000-000.parquet", "part-000001-000.parquet", "part-000002-000.parquet", "part-000003-000.parquet"}
	if !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
}

func TestSinkFingerprintChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	splits := testSplits(2)
	s, err := OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	writeIDs(t, s, splits)
	s.Close(ctx)
	s, err = OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	changed := testSplits(2)
	changed[1].Fingerprint = "g"
	_, err = s.Committed(ctx, changed)
	var fe *FingerprintError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFingerprint) {
		t.Fatalf("err %v, want a FingerprintError", err)
	}
	want := `dataset: split 1 (in#b): input fingerprint is "g", the manifest recorded "f" for its committed output: the input changed; restore it or remove the output to recompute it`
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
}

// TestSinkDeletedFileRedone: a committed split whose file was deleted by
// hand is not committed; redoing it brings back exactly its rows.
func TestSinkDeletedFileRedone(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	splits := testSplits(3)
	s, err := OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	writeIDs(t, s, splits)
	s.Close(ctx)
	if err := os.Remove(filepath.Join(dir, "part-000001-000.parquet")); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	done, err := s.Committed(ctx, splits)
	if err != nil {
		t.Fatal(err)
	}
	if !done[0] || done[1] || !done[2] {
		t.Fatalf("committed %v, want 0 and 2", done)
	}
	writeIDs(t, s, splits[1:2])
	if got := ids(t, dir); !slices.Equal(got, seq(0, 30)) {
		t.Fatalf("ids %v", got)
	}
}

// TestSinkCleansUpLeftovers: temporary files and final files that no
// manifest lists (a run killed between rename and manifest append) are
// removed on open.
func TestSinkCleansUpLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	writeIDs(t, s, testSplits(1))
	s.Close(ctx)
	for _, name := range []string{".part-000004-000.parquet.0badc0de.tmp", "part-000005-000.parquet", "part-000000-001.parquet"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An interrupted manifest append.
	man := filepath.Join(dir, ManifestDir, "manifest-0-of-1.jsonl")
	f, err := os.OpenFile(man, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"v":1,"split":5,"id":"x","fin`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s, err = OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	writeIDs(t, s, testSplits(2)[1:])
	s.Close(ctx)
	des, _ := os.ReadDir(dir)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	if want := []string{ManifestDir, "part-000000-000.parquet", "part-000001-000.parquet"}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	data, _ := os.ReadFile(man)
	if n := strings.Count(string(data), "\n"); n != 2 || !strings.HasSuffix(string(data), "\n") {
		t.Errorf("manifest:\n%s", data)
	}
}

// TestSinkRollsOver: a split's output past the file size limit goes to
// numbered files, committed together.
func TestSinkRollsOver(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := checkedMem(t)
	s, err := OpenSink(ctx, dir, FormatParquet, WithMaxFileBytes(1), WithSinkAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	empty := idBatch(mem, 0, 0)
	defer empty.Release()
	p, err := s.Create(ctx, Split{Index: 7, ID: "x"}, empty.Schema())
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(3) {
		rec := idBatch(mem, i*5, i*5+5)
		if err := p.Write(ctx, rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	files, err := p.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close(ctx)
	for i := range files {
		files[i] = filepath.Base(files[i])
	}
	if want := []string{"part-000007-000.parquet", "part-000007-001.parquet", "part-000007-002.parquet"}; !slices.Equal(files, want) {
		t.Errorf("files %v, want %v", files, want)
	}
	if got := ids(t, dir); !slices.Equal(got, seq(0, 15)) {
		t.Fatalf("ids %v", got)
	}
}

// TestSinkShards: two shard processes write one directory, each with its
// own manifest; a reader of either sees both shards' commits.
func TestSinkShards(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	splits := testSplits(5)
	for i := range 2 {
		s, err := OpenSink(ctx, dir, FormatParquet, WithSinkShard(i, 2))
		if err != nil {
			t.Fatal(err)
		}
		writeIDs(t, s, Shard(splits, i, 2))
		s.Close(ctx)
	}
	for _, m := range []string{"manifest-0-of-2.jsonl", "manifest-1-of-2.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, ManifestDir, m)); err != nil {
			t.Error(err)
		}
	}
	s, err := OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	done, err := s.Committed(ctx, splits)
	if err != nil || len(done) != 5 {
		t.Fatalf("committed %v, %v", done, err)
	}
	if got := ids(t, dir); !slices.Equal(got, seq(0, 50)) {
		t.Fatalf("ids %v", got)
	}
}

func TestSinkAbort(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	s, err := OpenSink(ctx, dir, FormatJSONL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	rec := idBatch(mem, 0, 3)
	defer rec.Release()
	p, err := s.Create(ctx, Split{Index: 0, ID: "x"}, rec.Schema())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := p.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 1 {
		t.Errorf("after Abort the directory holds %d entries", len(des))
	}
	if err := p.Write(ctx, rec); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Abort: %v", err)
	}
}

func TestWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := checkedMem(t)
	w, err := CreateWriter(ctx, SinkSpec{Format: "parquet", Path: "out"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(4) {
		rec := idBatch(mem, i*10, i*10+10)
		if err := w.Write(ctx, rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if len(w.Files()) != 1 {
		t.Errorf("files %v", w.Files())
	}
	if got := ids(t, filepath.Join(dir, "out")); !slices.Equal(got, seq(0, 40)) {
		t.Fatalf("ids %v", got)
	}
}

// TestSinkConcurrentParts: parts of different splits written at once from
// several goroutines commit every row once (run with -race).
func TestSinkConcurrentParts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenSink(ctx, dir, FormatParquet, WithSinkAllocator(checkedMem(t)))
	if err != nil {
		t.Fatal(err)
	}
	splits := testSplits(12)
	var wg sync.WaitGroup
	errs := make(chan error, len(splits))
	for _, sp := range splits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mem := memory.NewGoAllocator()
			rec := idBatch(mem, int64(sp.Index)*10, int64(sp.Index)*10+10)
			defer rec.Release()
			p, err := s.Create(ctx, sp, rec.Schema())
			if err == nil {
				err = p.Write(ctx, rec)
			}
			if err == nil {
				_, err = p.Commit(ctx)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close(ctx)
	got := ids(t, dir)
	if !slices.Equal(got, seq(0, 120)) {
		t.Fatalf("ids %v", got)
	}
}

func TestSinkInputListChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenSink(ctx, dir, FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	writeIDs(t, s, testSplits(1))
	moved := testSplits(1)
	moved[0].ID = "other#a"
	_, err = s.Committed(ctx, moved)
	want := "dataset: split 0 is other#a, the manifest recorded in#a for its committed output: the input list changed; restore it or remove the output to recompute it"
	if !errors.Is(err, ErrFingerprint) || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	s.Close(ctx)
	if _, err := s.Create(ctx, moved[0], nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close: %v", err)
	}
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src, err := OpenParquet(ctx, []string{"testdata/duckdb/flat.parquet"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := src.Open(ctx, src.Splits()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cancel()
	if _, err := r.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel: %v", err)
	}
	if _, err := src.Open(ctx, src.Splits()[1]); !errors.Is(err, context.Canceled) {
		t.Errorf("Open after cancel: %v", err)
	}
	_, err = src.Open(context.Background(), Split{Index: 9, ID: "x"})
	if want := "dataset: unknown split: 9 (x): the parquet source has 3 splits"; err == nil || err.Error() != want {
		t.Errorf("Open of an unknown split: %v", err)
	}
	src.Close()
	if _, err := src.Open(context.Background(), src.Splits()[1]); !errors.Is(err, ErrClosed) {
		t.Errorf("Open after Close: %v", err)
	}
}
