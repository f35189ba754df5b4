package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// poisonStage fails any batch that holds a row whose x is poisoned. It
// copies its input (a new batch), like a real UDF.
func poisonStage(name string, alloc memory.Allocator, poisoned func(int64) bool) Stage {
	return Func(name, func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		xs := in.Column(0).(*array.Int64)
		var out []int64
		for i := range xs.Len() {
			if poisoned(xs.Value(i)) {
				return nil, fmt.Errorf("row x=%d is poisoned", xs.Value(i))
			}
			out = append(out, xs.Value(i))
		}
		return makeBatch(alloc, out), nil
	})
}

// transientErr is a failure that a retry may fix (the host replaced the
// instance).
type transientErr struct{ n int }

func (e transientErr) Error() string   { return fmt.Sprintf("instance %d trapped and was replaced", e.n) }
func (e transientErr) Transient() bool { return true }

// TestFirstErrorIsFatal: without a budget the first failure ends the run
// with a StageError naming the stage, split and batch; nothing of the
// failed split is committed, and nothing leaks.
func TestFirstErrorIsFatal(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	src := newSource(alloc, 10, 100, 100)
	sink := newSink(t, "out")
	_, err := New(src, WithAllocator(alloc), WithLogger(quiet), WithSplitsInFlight(1)).
		MapBatches(poisonStage("check", alloc, func(x int64) bool { return x == 142 }), BatchSize(20), Workers(2)).
		Write(sink).Run(context.Background())
	want := `stage "check": split 1 (mem#1): batch 2: row x=142 is poisoned`
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v, want %s", err, want)
	}
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "check" || se.Split != 1 || se.Batch != 2 {
		t.Fatalf("got %#v", err)
	}
	if got := sink.rows(t); len(got) != 1 || len(got[0]) != 100 {
		t.Errorf("committed %v, want split 0 only", sortedKeys(got))
	}
	if sink.open != 0 {
		t.Errorf("%d parts neither committed nor aborted", sink.open)
	}
}

// TestTransientRetried: a transient error is retried up to the limit; past
// it the failure is the data's.
func TestTransientRetried(t *testing.T) {
	tests := []struct {
		name      string
		failures  int // consecutive transient failures of batch 3
		retries   int
		wantErr   string
		wantRetry int64
	}{
		{name: "recovers", failures: 2, retries: 2, wantRetry: 2},
		{name: "no retries", failures: 1, retries: 0, wantErr: `stage "flaky": split 0 (mem#0): batch 3: calling: instance 1 trapped and was replaced`},
		{name: "exhausted", failures: 5, retries: 3, wantRetry: 3, wantErr: `stage "flaky": split 0 (mem#0): batch 3: calling: instance 4 trapped and was replaced`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			alloc := checkAlloc(t)
			var n atomic.Int32
			st := Func("flaky", func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
				if values(t, in)[0] == 30 && int(n.Load()) < tt.failures {
					return nil, fmt.Errorf("calling: %w", transientErr{int(n.Add(1))})
				}
				return in, nil
			})
			sink := newSink(t, "out")
			sum, err := New(newSource(alloc, 10, 100), WithAllocator(alloc), WithLogger(quiet)).
				MapBatches(st, BatchSize(10), Retries(tt.retries)).Write(sink).Run(context.Background())
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if sum.Stages[0].Retries != tt.wantRetry {
				t.Errorf("%d retries, want %d", sum.Stages[0].Retries, tt.wantRetry)
			}
		})
	}
}

// TestDeadLetters: within the budget, failing rows go to the dead-letter
// sink (committed before the split's output), good rows go on, and good +
// dead-letter = input, exactly; bisection isolates single rows.
func TestDeadLetters(t *testing.T) {
	tests := []struct {
		name     string
		bisect   bool
		poison   []int64
		wantDead []int64 // input rows dead-lettered
	}{
		{name: "bisect one row", bisect: true, poison: []int64{17}, wantDead: []int64{17}},
		{name: "bisect neighbours", bisect: true, poison: []int64{0, 1, 255, 256, 511}, wantDead: []int64{0, 1, 255, 256, 511}},
		{name: "whole batch", poison: []int64{17, 300}, wantDead: append(seq(16, 32), seq(288, 304)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			alloc := checkAlloc(t)
			src := newSource(alloc, 50, 256, 256)
			var log []string
			sink, dead := newSink(t, "out"), newSink(t, "dead")
			sink.commitLog, dead.commitLog = &log, &log
			bad := func(x int64) bool { return slices.Contains(tt.poison, x) }
			sum, err := New(src, WithAllocator(alloc), WithLogger(quiet), WithCPUs(8)).
				MapBatches(mapStage("plus", alloc, plus1), BatchSize(7)).
				MapBatches(poisonStage("check", alloc, func(x int64) bool { return bad(x - 1) }),
					BatchSize(16), Workers(3), MaxErroredRows(1000), Bisect(tt.bisect)).
				MapBatches(mapStage("minus", alloc, func(x int64) []int64 { return []int64{x - 1} }), BatchSize(100)).
				Write(sink).DeadLetters(dead).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var good []int64
			for _, sp := range sortedKeys(sink.rows(t)) {
				good = append(good, sink.rows(t)[sp]...)
			}
			var deadRows []int64
			for _, d := range dead.deadLetters(t) {
				if d.stage != "check" || !strings.Contains(d.err, "is poisoned") || d.attempts != 1 || d.splitID != fmt.Sprintf("mem#%d", d.split) {
					t.Errorf("dead letter %+v", d)
				}
				x := d.row + 256*d.split // row within the split → input value
				if want := fmt.Sprintf(`{"x":%d,"s":"r%d"}`, x+1, x+1); d.input != want {
					t.Errorf("dead letter input %s, want %s", d.input, want)
				}
				if d.batch != d.row/16 {
					t.Errorf("row %d: batch %d, want %d", d.row, d.batch, d.row/16)
				}
				deadRows = append(deadRows, x)
			}
			if !slices.Equal(deadRows, tt.wantDead) {
				t.Errorf("dead-lettered %v, want %v", deadRows, tt.wantDead)
			}
			all := append(slices.Clone(good), deadRows...)
			slices.Sort(all)
			if !slices.Equal(all, seq(0, 512)) {
				t.Errorf("good (%d) + dead (%d) rows are not the input (512)", len(good), len(deadRows))
			}
			if sum.DeadLetterRows != int64(len(tt.wantDead)) || sum.Stages[1].DeadLetterRows != int64(len(tt.wantDead)) {
				t.Errorf("summary counts %d dead letters (stage %d), want %d", sum.DeadLetterRows, sum.Stages[1].DeadLetterRows, len(tt.wantDead))
			}
			// Each split's dead letters are committed before its output.
			for _, d := range dead.order {
				i := slices.Index(log, fmt.Sprintf("dead %d", d))
				if j := slices.Index(log, fmt.Sprintf("out %d", d)); j < i {
					t.Errorf("split %d: output committed before its dead letters: %v", d, log)
				}
			}
		})
	}
}

func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestErrorBudgets: each budget stops the run once errors pass it, with
// ErrErrorBudget and the stage, split and batch of the error that passed
// it.
func TestErrorBudgets(t *testing.T) {
	tests := []struct {
		name    string
		opts    []StageOption
		wantErr string
	}{
		{name: "batches", opts: []StageOption{MaxErroredBatches(2)},
			wantErr: `stage "check": split 0 (mem#0): batch 20: row 200: scheduler: error budget exceeded: 3 errored batches, more than MaxErroredBatches 2: row x=200 is poisoned`},
		{name: "rows bisected", opts: []StageOption{MaxErroredRows(2), Bisect(true)},
			wantErr: `stage "check": split 0 (mem#0): batch 20: row 200: scheduler: error budget exceeded: 3 errored rows, more than MaxErroredRows 2: row x=200 is poisoned`},
		{name: "rate", opts: []StageOption{MaxErrorRate(0.01, 100), Bisect(true)},
			wantErr: `stage "check": split 0 (mem#0): batch 10: row 100: scheduler: error budget exceeded: 2 errored rows of 110 received (1.82%), more than MaxErrorRate 1%: row x=100 is poisoned`},
		{name: "rate at the end", opts: []StageOption{MaxErrorRate(0.001, 100000), Bisect(true)},
			wantErr: `stage "check": scheduler: error budget exceeded: 10 errored rows of 1000 (1%), more than MaxErrorRate 0.1% (the output is committed)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			alloc := checkAlloc(t)
			dead := newSink(t, "dead")
			_, err := New(newSource(alloc, 100, 1000), WithAllocator(alloc), WithLogger(quiet)).
				MapBatches(poisonStage("check", alloc, func(x int64) bool { return x%100 == 0 }), append(tt.opts, BatchSize(10))...).
				Write(newSink(t, "out")).DeadLetters(dead).Run(context.Background())
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("got %v\nwant %s", err, tt.wantErr)
			}
			if !errors.Is(err, ErrErrorBudget) {
				t.Errorf("%v is not ErrErrorBudget", err)
			}
		})
	}
}

// TestBudgetNeedsDeadLetterSink: a budget without a dead-letter sink is
// refused before the run.
func TestBudgetNeedsDeadLetterSink(t *testing.T) {
	alloc := checkAlloc(t)
	_, err := New(newSource(alloc, 10, 10)).MapBatches(Func("f", nil), MaxErroredRows(1)).Write(newSink(t, "out")).Run(context.Background())
	want := `scheduler: invalid pipeline: stage "f" has an error budget but the pipeline has no dead-letter sink (call DeadLetters)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestPanicIsFatal: a panicking stage (Go code) is recovered; the run ends
// with an error naming the stage and the batch, whatever the budget, and
// nothing leaks.
func TestPanicIsFatal(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	st := Func("boom", func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		if values(t, in)[0] == 40 {
			panic("assignment to entry in nil map")
		}
		return in, nil
	})
	_, err := New(newSource(alloc, 10, 100), WithAllocator(alloc), WithLogger(quiet)).
		MapBatches(st, BatchSize(10), Workers(2), MaxErroredBatches(10)).
		Write(newSink(t, "out")).DeadLetters(newSink(t, "dead")).Run(context.Background())
	if !errors.Is(err, ErrPanic) {
		t.Fatalf("got %v, want ErrPanic", err)
	}
	want := `stage "boom": split 0 (mem#0): batch 4: scheduler: stage panicked: assignment to entry in nil map`
	if got, _, _ := strings.Cut(err.Error(), "\n"); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// TestSourceAndSinkErrors: failures of the source and the sink end the run
// with errors that name them.
func TestSourceAndSinkErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*memSource, *memSink)
		wantErr string
	}{
		{name: "open", setup: func(s *memSource, _ *memSink) { s.openErr = map[int]error{1: errors.New("no such file")} },
			wantErr: `stage "source": split 1 (mem#1): batch 0: opening: no such file`},
		{name: "read", setup: func(s *memSource, _ *memSink) { s.readErr = map[int]error{0: errors.New("corrupt page")} },
			wantErr: `stage "source": split 0 (mem#0): batch 1: reading: corrupt page`},
		{name: "create", setup: func(_ *memSource, k *memSink) { k.createErr = errors.New("disk full") },
			wantErr: `stage "sink": split 0 (mem#0): batch 0: creating part: disk full`},
		{name: "write", setup: func(_ *memSource, k *memSink) { k.writeErr = map[int]error{1: errors.New("disk full")} },
			wantErr: `stage "sink": split 1 (mem#1): batch 0: writing: disk full`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noLeaks(t)
			alloc := checkAlloc(t)
			src, sink := newSource(alloc, 10, 30, 30), newSink(t, "out")
			tt.setup(src, sink)
			_, err := New(src, WithAllocator(alloc), WithLogger(quiet), WithSplitsInFlight(1)).
				MapBatches(mapStage("id", alloc, keep), BatchSize(50)).Write(sink).Run(context.Background())
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("got %v, want %s", err, tt.wantErr)
			}
		})
	}
}

// TestSchemaChangeIsFatal: a stage whose output schema changes mid-run is
// stopped with an error naming it.
func TestSchemaChangeIsFatal(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	st := Func("shifty", func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		if values(t, in)[0] >= 20 {
			renamed := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}, {Name: "t", Type: arrow.BinaryTypes.String}}, nil)
			return array.NewRecordBatch(renamed, in.Columns(), in.NumRows()), nil
		}
		return in, nil
	})
	_, err := New(newSource(alloc, 10, 50), WithAllocator(alloc), WithLogger(quiet)).
		MapBatches(st, BatchSize(10)).Write(newSink(t, "out")).Run(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), `stage "shifty": split 0 (mem#0): batch 2: output schema changed: got schema:`) {
		t.Fatalf("got %v", err)
	}
}
