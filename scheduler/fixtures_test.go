package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	"github.com/wasinfer/wasinfer/dataset"
)

// In-memory sources and sinks: fixtures for the executor, which is what is
// under test. Every batch has an int64 column "x" (the row's identity) and a
// utf8 column "s" ("r<x>"), so variable-width data is re-chunked too.

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "x", Type: arrow.PrimitiveTypes.Int64},
	{Name: "s", Type: arrow.BinaryTypes.String},
}, nil)

// memSource serves splits of int64 values, readRows rows per Read.
type memSource struct {
	alloc    memory.Allocator
	data     [][]int64
	readRows int
	openErr  map[int]error
	readErr  map[int]error              // returned by the split's second Read
	block    map[int]chan struct{}      // Read of this split blocks until closed (or ctx ends)
	onRead   func(split int, seq int64) // called before each Read returns a batch
	mu       sync.Mutex
	open     int // readers open now
	maxOpen  int
}

func newSource(alloc memory.Allocator, readRows int, sizes ...int) *memSource {
	s := &memSource{alloc: alloc, readRows: readRows}
	var next int64
	for _, n := range sizes {
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = next
			next++
		}
		s.data = append(s.data, vals)
	}
	return s
}

func (s *memSource) Schema() *arrow.Schema { return testSchema }

func (s *memSource) Splits() []dataset.Split {
	var out []dataset.Split
	for i, d := range s.data {
		out = append(out, dataset.Split{Index: i, ID: fmt.Sprintf("mem#%d", i), Rows: int64(len(d)), Fingerprint: "f"})
	}
	return out
}

func (s *memSource) Open(_ context.Context, sp dataset.Split) (dataset.Reader, error) {
	if err := s.openErr[sp.Index]; err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.open++
	s.maxOpen = max(s.maxOpen, s.open)
	s.mu.Unlock()
	return &memReader{s: s, split: sp.Index, vals: s.data[sp.Index]}, nil
}

func (s *memSource) Close() error { return nil }

type memReader struct {
	s     *memSource
	split int
	vals  []int64
	seq   int64
	done  bool
}

func (r *memReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	if ch := r.s.block[r.split]; ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if r.seq == 1 && r.s.readErr[r.split] != nil {
		return nil, r.s.readErr[r.split]
	}
	if len(r.vals) == 0 {
		return nil, io.EOF
	}
	n := min(r.s.readRows, len(r.vals))
	rec := makeBatch(r.s.alloc, r.vals[:n])
	r.vals = r.vals[n:]
	if r.s.onRead != nil {
		r.s.onRead(r.split, r.seq)
	}
	r.seq++
	return rec, nil
}

func (r *memReader) Close() error {
	if !r.done {
		r.done = true
		r.s.mu.Lock()
		r.s.open--
		r.s.mu.Unlock()
	}
	return nil
}

// makeBatch builds a batch of testSchema with the values vals.
func makeBatch(alloc memory.Allocator, vals []int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(alloc, testSchema)
	defer b.Release()
	for _, v := range vals {
		b.Field(0).(*array.Int64Builder).Append(v)
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("r%d", v))
	}
	return b.NewRecordBatch()
}

// values reads column "x" of rec, checking that "s" matches.
func values(t testing.TB, rec arrow.RecordBatch) []int64 {
	t.Helper()
	xs := rec.Column(0).(*array.Int64)
	var out []int64
	for i := range xs.Len() {
		out = append(out, xs.Value(i))
		if rec.NumCols() > 1 {
			if ss, ok := rec.Column(1).(*array.String); ok {
				if got, want := ss.Value(i), fmt.Sprintf("r%d", xs.Value(i)); got != want {
					t.Fatalf("row %d: column s is %q, want %q", i, got, want)
				}
			}
		}
	}
	return out
}

// memSink keeps each split's committed output in memory.
type memSink struct {
	t         testing.TB
	mu        sync.Mutex
	pre       map[int]bool // committed before the run
	committed map[int][]arrow.RecordBatch
	order     []int // split indexes in commit order
	aborted   []int
	open      int
	maxOpen   int
	createErr error
	writeErr  map[int]error
	commitLog *[]string // shared with a dead-letter sink: the order of commits
	name      string
}

func newSink(t testing.TB, name string) *memSink {
	s := &memSink{t: t, name: name, committed: map[int][]arrow.RecordBatch{}}
	t.Cleanup(s.release)
	return s
}

func (s *memSink) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, recs := range s.committed {
		for _, r := range recs {
			r.Release()
		}
	}
	s.committed = map[int][]arrow.RecordBatch{}
}

func (s *memSink) Committed(_ context.Context, splits []dataset.Split) (map[int]bool, error) {
	out := map[int]bool{}
	for _, sp := range splits {
		if s.pre[sp.Index] {
			out[sp.Index] = true
		}
	}
	return out, nil
}

func (s *memSink) Create(_ context.Context, sp dataset.Split, schema *arrow.Schema) (dataset.Part, error) {
	if s.createErr != nil {
		return nil, s.createErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open++
	s.maxOpen = max(s.maxOpen, s.open)
	return &memPart{s: s, split: sp.Index, schema: schema}, nil
}

func (s *memSink) Close(context.Context) error { return nil }

// rows is every committed value of column "x", by split.
func (s *memSink) rows(t testing.TB) map[int][]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int][]int64{}
	for sp, recs := range s.committed {
		out[sp] = []int64{}
		for _, r := range recs {
			out[sp] = append(out[sp], values(t, r)...)
		}
	}
	return out
}

type memPart struct {
	s      *memSink
	split  int
	schema *arrow.Schema
	recs   []arrow.RecordBatch
	closed bool
}

func (p *memPart) Write(_ context.Context, rec arrow.RecordBatch) error {
	if p.closed {
		return errors.New("memPart: write after commit or abort")
	}
	if err := p.s.writeErr[p.split]; err != nil {
		return err
	}
	if !rec.Schema().Equal(p.schema) {
		return fmt.Errorf("memPart: schema %s, part created with %s", rec.Schema(), p.schema)
	}
	rec.Retain()
	p.recs = append(p.recs, rec)
	return nil
}

func (p *memPart) Commit(context.Context) ([]string, error) {
	if p.closed {
		return nil, errors.New("memPart: commit after commit or abort")
	}
	p.closed = true
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if _, dup := p.s.committed[p.split]; dup {
		return nil, fmt.Errorf("memPart: split %d committed twice", p.split)
	}
	p.s.committed[p.split] = p.recs
	p.s.order = append(p.s.order, p.split)
	p.s.open--
	if p.s.commitLog != nil {
		*p.s.commitLog = append(*p.s.commitLog, fmt.Sprintf("%s %d", p.s.name, p.split))
	}
	return []string{fmt.Sprintf("%s/part-%05d", p.s.name, p.split)}, nil
}

func (p *memPart) Abort(context.Context) error {
	if p.closed {
		return nil
	}
	p.closed = true
	for _, r := range p.recs {
		r.Release()
	}
	p.recs = nil
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	p.s.aborted = append(p.s.aborted, p.split)
	p.s.open--
	return nil
}

// deadLetter is one decoded row of a dead-letter part.
type deadLetter struct {
	stage, err, splitID, input string
	attempts                   int32
	split, batch, row          int64
}

func (s *memSink) deadLetters(t testing.TB) []deadLetter {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []deadLetter
	for _, recs := range s.committed {
		for _, r := range recs {
			for i := range int(r.NumRows()) {
				out = append(out, deadLetter{
					stage:    r.Column(0).(*array.String).Value(i),
					err:      r.Column(1).(*array.String).Value(i),
					attempts: r.Column(2).(*array.Int32).Value(i),
					split:    r.Column(3).(*array.Int64).Value(i),
					splitID:  r.Column(4).(*array.String).Value(i),
					batch:    r.Column(5).(*array.Int64).Value(i),
					row:      r.Column(6).(*array.Int64).Value(i),
					input:    r.Column(7).(*array.String).Value(i),
				})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].split != out[j].split {
			return out[i].split < out[j].split
		}
		return out[i].row < out[j].row
	})
	return out
}

// checkAlloc returns an allocator that fails the test if any byte is still
// allocated when the test ends (after the sinks' cleanups release theirs).
func checkAlloc(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// noLeaks fails the test if it leaves goroutines behind.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// mapStage is a Go stage that maps every row's x through f (nil: keep)
// into a new batch, or keeps only the rows where keep is true, allocating
// with alloc.
func mapStage(name string, alloc memory.Allocator, f func(int64) []int64) Stage {
	return Func(name, func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		xs := in.Column(0).(*array.Int64)
		var out []int64
		for i := range xs.Len() {
			out = append(out, f(xs.Value(i))...)
		}
		return makeBatch(alloc, out), nil
	})
}

func sortedKeys(m map[int][]int64) []int {
	var k []int
	for i := range m {
		k = append(k, i)
	}
	slices.Sort(k)
	return k
}
