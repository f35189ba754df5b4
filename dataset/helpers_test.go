package dataset

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// checkedMem returns an allocator that fails the test if anything it
// allocated is still held when the test ends.
func checkedMem(t testing.TB) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// writeSplits writes each batch as the output of split i and commits it.
func writeSplits(t testing.TB, s Sink, splits []Split, recs []arrow.RecordBatch) {
	t.Helper()
	ctx := context.Background()
	for i, sp := range splits {
		p, err := s.Create(ctx, sp, recs[i].Schema())
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Write(ctx, recs[i]); err != nil {
			_ = p.Abort(ctx)
			t.Fatal(err)
		}
		if _, err := p.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll reads every split of src in order and returns the batches.
func readAll(t testing.TB, src Source) []arrow.RecordBatch {
	t.Helper()
	r := NewStreamReader(src, nil)
	defer r.Close()
	recs, err := ReadAll(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

func rowsOf(recs []arrow.RecordBatch) int64 {
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	return n
}

func bytesReader(s string) *strings.Reader { return strings.NewReader(s) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
