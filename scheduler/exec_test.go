package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A fake stage for the data-driven tests: a row function plus a way of
// being slow or bursty (by batch count, so the pattern is deterministic).
type fake struct {
	name      string
	batchSize int
	workers   int
	rows      func(int64) []int64 // nil: pass the batch through unchanged
	slowEvery int                 // every slowEvery-th batch sleeps delay
	delay     time.Duration
}

func (f fake) stage(alloc memory.Allocator, seen *batchLog) Stage {
	var mu sync.Mutex
	n := 0
	return Func(f.name, func(ctx context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		mu.Lock()
		n++
		slow := f.slowEvery > 0 && n%f.slowEvery == 0
		mu.Unlock()
		if seen != nil {
			seen.add(f.name, in)
		}
		if slow {
			time.Sleep(f.delay)
		}
		if f.rows == nil {
			return in, nil
		}
		xs := in.Column(0).(*array.Int64)
		var out []int64
		for i := range xs.Len() {
			out = append(out, f.rows(xs.Value(i))...)
		}
		return makeBatch(alloc, out), nil
	})
}

// batchLog records the sizes of the batches each stage received.
type batchLog struct {
	mu    sync.Mutex
	sizes map[string][]int64
	first map[string][]int64 // first x of each batch
}

func (l *batchLog) add(stage string, rec arrow.RecordBatch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sizes == nil {
		l.sizes, l.first = map[string][]int64{}, map[string][]int64{}
	}
	l.sizes[stage] = append(l.sizes[stage], rec.NumRows())
	if rec.NumRows() > 0 {
		l.first[stage] = append(l.first[stage], rec.Column(0).(*array.Int64).Value(0))
	}
}

var (
	keep    = func(x int64) []int64 { return []int64{x} }
	plus1   = func(x int64) []int64 { return []int64{x + 1} }
	odd     = func(x int64) []int64 { return filterRows(x%2 == 1, x) }
	none    = func(int64) []int64 { return nil }
	explode = func(x int64) []int64 { return []int64{3 * x, 3*x + 1, 3*x + 2} }
)

func filterRows(ok bool, x int64) []int64 {
	if ok {
		return []int64{x}
	}
	return nil
}

type scenario struct {
	name     string
	splits   []int
	readRows int
	stages   []fake
	budget   int64
	inFlight int
	ordered  bool
}

var scenarios = []scenario{
	{name: "no stages", splits: []int{10, 0, 7}, readRows: 3},
	{name: "pass-through", splits: []int{100, 37, 1}, readRows: 16, stages: []fake{{name: "a", batchSize: 10, workers: 3}}},
	{name: "re-chunk small to large", splits: []int{1000, 999}, readRows: 7, stages: []fake{
		{name: "udf", batchSize: 64, workers: 2, rows: plus1},
		{name: "model", batchSize: 256, workers: 2, rows: keep},
	}},
	{name: "re-chunk large to small", splits: []int{500, 3}, readRows: 250, stages: []fake{
		{name: "a", batchSize: 7, workers: 4, rows: plus1},
		{name: "b", batchSize: 0, workers: 1},
	}},
	{name: "filter and explode", splits: []int{300, 0, 41}, readRows: 32, stages: []fake{
		{name: "odd", batchSize: 16, workers: 2, rows: odd},
		{name: "explode", batchSize: 50, workers: 3, rows: explode},
		{name: "pass", batchSize: 64, workers: 2},
	}},
	{name: "filter everything", splits: []int{50, 50}, readRows: 10, stages: []fake{
		{name: "none", batchSize: 8, workers: 2, rows: none},
		{name: "after", batchSize: 8, workers: 2, rows: plus1},
	}},
	{name: "slow last stage, small budget", splits: []int{400, 400, 400}, readRows: 20, budget: 64 << 10, stages: []fake{
		{name: "fast", batchSize: 20, workers: 2, rows: plus1},
		{name: "slow", batchSize: 20, workers: 1, rows: keep, slowEvery: 1, delay: 200 * time.Microsecond},
	}},
	{name: "bursty middle stage, ordered", splits: []int{200, 10, 300, 1}, readRows: 9, ordered: true, inFlight: 3, stages: []fake{
		{name: "a", batchSize: 13, workers: 3, rows: plus1},
		{name: "bursty", batchSize: 5, workers: 4, rows: keep, slowEvery: 7, delay: 2 * time.Millisecond},
		{name: "c", batchSize: 30, workers: 2, rows: plus1},
	}},
	{name: "one split at a time", splits: []int{30, 30, 30}, readRows: 4, inFlight: 1, stages: []fake{
		{name: "a", batchSize: 6, workers: 3, rows: explode},
	}},
}

// expected applies the scenario's row functions to one split's values.
func (sc scenario) expected(vals []int64) []int64 {
	out := append([]int64{}, vals...)
	for _, f := range sc.stages {
		if f.rows == nil {
			continue
		}
		var next []int64
		for _, x := range out {
			next = append(next, f.rows(x)...)
		}
		out = next
	}
	if out == nil {
		out = []int64{}
	}
	return out
}

func (sc scenario) pipeline(alloc memory.Allocator, log *batchLog) (*memSource, *Pipeline) {
	src := newSource(alloc, sc.readRows, sc.splits...)
	opts := []Option{WithAllocator(alloc), WithLogger(quiet), WithCPUs(64), WithOrdered(sc.ordered)}
	if sc.budget > 0 {
		opts = append(opts, WithMemoryBudget(sc.budget))
	}
	if sc.inFlight > 0 {
		opts = append(opts, WithSplitsInFlight(sc.inFlight))
	}
	p := New(src, opts...)
	for _, f := range sc.stages {
		p.MapBatches(f.stage(alloc, log), BatchSize(f.batchSize), Workers(f.workers))
	}
	return src, p
}

// TestRunScenarios runs every scenario into a sink and checks each split's
// rows and their order, the batch sizes each stage saw, the queue bounds
// and the memory budget.
func TestRunScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			noLeaks(t)
			alloc := checkAlloc(t)
			log := &batchLog{}
			src, p := sc.pipeline(alloc, log)
			sink := newSink(t, "out")
			sum, err := p.Write(sink).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := sink.rows(t)
			for i, vals := range src.data {
				if want := sc.expected(vals); !slices.Equal(got[i], want) {
					t.Errorf("split %d: got %d rows %v, want %d rows %v", i, len(got[i]), head(got[i]), len(want), head(want))
				}
			}
			if len(got) != len(src.data) || sum.SplitsCommitted != len(src.data) {
				t.Errorf("committed %d splits (summary %d), want %d", len(got), sum.SplitsCommitted, len(src.data))
			}
			checkBatchSizes(t, sc, src, log)
			checkBounds(t, sc, sum)
			if inFlight := max(sc.inFlight, 0); inFlight > 0 && src.maxOpen > inFlight {
				t.Errorf("%d readers open at once, want at most %d", src.maxOpen, inFlight)
			}
		})
	}
}

// checkBatchSizes: every batch a stage received has its batch size, except
// the last of each split, and none spans two splits.
func checkBatchSizes(t *testing.T, sc scenario, src *memSource, log *batchLog) {
	t.Helper()
	firstStage := len(sc.stages) > 0 && sc.stages[0].rows == nil
	_ = firstStage
	for i, f := range sc.stages {
		if f.batchSize == 0 {
			continue
		}
		// The rows each split brings to this stage, in order.
		prefix := scenario{stages: sc.stages[:i]}
		var perSplit []int64
		for _, vals := range src.data {
			perSplit = append(perSplit, int64(len(prefix.expected(vals))))
		}
		var want []int64
		for _, n := range perSplit {
			if n == 0 {
				want = append(want, 0) // the end of an empty split still passes
				continue
			}
			for n > int64(f.batchSize) {
				want = append(want, int64(f.batchSize))
				n -= int64(f.batchSize)
			}
			want = append(want, n)
		}
		got := slices.Clone(log.sizes[f.name])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("stage %q received batches of %v rows, want %v", f.name, head(got), head(want))
		}
	}
}

// checkBounds: queues never held more than their depth plus the pieces of
// one upstream output per upstream worker, and the in-flight bytes never
// passed the budget.
func checkBounds(t *testing.T, sc scenario, sum *Summary) {
	t.Helper()
	for i, st := range sum.Stages {
		upWorkers, upRows := 1, int64(sc.readRows)
		if i > 0 {
			upWorkers = sc.stages[i-1].workers
			upRows = int64(sc.stages[i-1].batchSize * 3) // explode triples
		}
		pieces := int64(1)
		if bs := int64(sc.stages[i].batchSize); bs > 0 {
			pieces = upRows/bs + 2
		}
		if limit := int64(st.QueueDepth) + int64(upWorkers)*pieces; st.MaxQueue > limit {
			t.Errorf("stage %q: queue held %d batches, want at most %d (depth %d)", st.Name, st.MaxQueue, limit, st.QueueDepth)
		}
	}
	if sc.budget > 0 {
		if sum.PeakInFlightBytes > sc.budget {
			t.Errorf("peak in-flight %d bytes, budget %d", sum.PeakInFlightBytes, sc.budget)
		}
		if sum.OverBudgetAdmissions != 0 {
			t.Errorf("%d admissions past the budget, want none", sum.OverBudgetAdmissions)
		}
	}
}

func head(v []int64) string {
	if len(v) > 12 {
		return fmt.Sprint(v[:12]) + "..."
	}
	return fmt.Sprint(v)
}

// TestEachScenarios runs every scenario through Each and checks the output:
// the input order exactly when ordered, and per-split order otherwise.
func TestEachScenarios(t *testing.T) {
	for _, sc := range scenarios {
		for _, ordered := range []bool{true, false} {
			sc.ordered = ordered
			t.Run(fmt.Sprintf("%s/ordered=%t", sc.name, ordered), func(t *testing.T) {
				noLeaks(t)
				alloc := checkAlloc(t)
				src, p := sc.pipeline(alloc, nil)
				var got []int64
				bySplit := map[int64][]int64{}
				splitOf := map[int64]int64{} // output value → split, for unordered checks
				for i, vals := range src.data {
					for _, x := range sc.expected(vals) {
						splitOf[x] = int64(i)
					}
				}
				_, err := p.Each(context.Background(), func(rec arrow.RecordBatch) error {
					v := values(t, rec)
					got = append(got, v...)
					for _, x := range v {
						bySplit[splitOf[x]] = append(bySplit[splitOf[x]], x)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				var want []int64
				for i, vals := range src.data {
					w := sc.expected(vals)
					want = append(want, w...)
					if len(w) > 0 && !slices.Equal(bySplit[int64(i)], w) {
						t.Errorf("split %d: got %v, want %v", i, head(bySplit[int64(i)]), head(w))
					}
				}
				if ordered && !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", head(got), head(want))
				}
				if len(got) != len(want) {
					t.Errorf("got %d rows, want %d", len(got), len(want))
				}
			})
		}
	}
}
