package dataset

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/internal/corpus"
)

// sinkFormats are the formats every corpus case is written in and read
// back from, with how the source is opened.
var sinkFormats = []struct {
	name string
	sink Format
	opts []SinkOption
	open func(ctx context.Context, dir string, schema *arrow.Schema, opts ...Option) (Source, error)
}{
	{"parquet", FormatParquet, nil, func(ctx context.Context, dir string, _ *arrow.Schema, opts ...Option) (Source, error) {
		return OpenParquet(ctx, []string{dir}, opts...)
	}},
	{"parquet_binary_tensors", FormatParquet, []SinkOption{WithTensorLayout(TensorLayoutBinary)}, func(ctx context.Context, dir string, _ *arrow.Schema, opts ...Option) (Source, error) {
		return OpenParquet(ctx, []string{dir}, opts...)
	}},
	{"ipc_file", FormatIPC, nil, func(ctx context.Context, dir string, _ *arrow.Schema, opts ...Option) (Source, error) {
		return OpenIPC(ctx, []string{dir}, opts...)
	}},
	{"ipc_stream", FormatIPC, []SinkOption{WithIPCStream(true)}, func(ctx context.Context, dir string, _ *arrow.Schema, opts ...Option) (Source, error) {
		return OpenIPC(ctx, []string{dir}, opts...)
	}},
	{"jsonl", FormatJSONL, nil, func(ctx context.Context, dir string, schema *arrow.Schema, opts ...Option) (Source, error) {
		return OpenJSONL(ctx, []string{dir}, append(opts, WithSchema(schema))...)
	}},
	{"csv", FormatCSV, nil, func(ctx context.Context, dir string, schema *arrow.Schema, opts ...Option) (Source, error) {
		return OpenCSV(ctx, []string{dir}, append(opts, WithSchema(schema))...)
	}},
}

// TestCorpusRoundTrip writes every corpus case through every sink format
// and reads it back with the matching source, given the schema where the
// format does not store one. The cases a format cannot hold are in
// cannotHold (cannot_hold_test.go), each with the reason, and must fail
// the way it says, so the table stays true.
func TestCorpusRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, sf := range sinkFormats {
		t.Run(sf.name, func(t *testing.T) {
			mem := checkedMem(t)
			cases := corpus.Batches(mem)
			defer func() {
				for _, c := range cases {
					c.Batch.Release()
				}
			}()
			for _, c := range cases {
				t.Run(strings.ReplaceAll(c.Name, "/", "_"), func(t *testing.T) {
					why, skip := cannotHold(sf.name, c.Name)
					// pqarrow leaks encoder buffers when a write fails, so
					// the failing cases' sinks use an unchecked allocator.
					sinkMem := memory.Allocator(mem)
					if skip {
						sinkMem = memory.NewGoAllocator()
					}
					err := roundTrip(ctx, t, sf.sink, sf.opts, sf.open, c.Batch, mem, sinkMem)
					if skip {
						if err == nil {
							t.Fatalf("round trip works, but cannotHold says: %s", why)
						}
						t.Logf("cannot hold (%s): %v", why, err)
						return
					}
					if err != nil {
						t.Fatal(err)
					}
				})
			}
		})
	}
}

func roundTrip(ctx context.Context, t *testing.T, format Format, sopts []SinkOption,
	open func(ctx context.Context, dir string, schema *arrow.Schema, opts ...Option) (Source, error),
	rec arrow.RecordBatch, mem *memory.CheckedAllocator, sinkMem memory.Allocator) error {
	dir := t.TempDir()
	sink, err := OpenSink(ctx, dir, format, append(sopts, WithSinkAllocator(sinkMem))...)
	if err != nil {
		return err
	}
	defer sink.Close(ctx)
	p, err := sink.Create(ctx, Split{Index: 0, ID: "corpus", Rows: rec.NumRows()}, rec.Schema())
	if err != nil {
		return err
	}
	if err := p.Write(ctx, rec); err != nil {
		_ = p.Abort(ctx)
		return err
	}
	files, err := p.Commit(ctx)
	if err != nil {
		return err
	}
	if rec.NumRows() == 0 {
		if len(files) != 0 {
			t.Errorf("an empty split committed %v", files)
		}
		return nil
	}
	src, err := open(ctx, dir, rec.Schema(), WithAllocator(mem), WithBatchSize(1<<20))
	if err != nil {
		return err
	}
	defer src.Close()
	got := readAll(t, src)
	defer release(got)
	var off int64
	for _, g := range got {
		want := rec.NewSlice(off, off+g.NumRows())
		err := corpus.Equal(want, g)
		want.Release()
		if err != nil {
			return err
		}
		off += g.NumRows()
	}
	if off != rec.NumRows() {
		return errors.New("rows lost")
	}
	return nil
}
