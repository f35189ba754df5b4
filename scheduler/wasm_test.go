package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

// loadUDF loads a committed module as a stage; closed when the test ends.
func loadUDF(t *testing.T, path, name string, alloc memory.Allocator, opts ...host.Option) *host.UDF {
	t.Helper()
	opts = append([]host.Option{host.WithName(name), host.WithPoolSize(2), host.WithAllocator(alloc), host.WithLogger(quiet)}, opts...)
	u, err := host.LoadFile(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close(context.Background()) })
	return u
}

// TestPoisonRowsWasm: a real Wasm UDF (testdata/poison.c) fails the batches
// holding poisoned rows (0.1 %, 1 %, 10 % of the input, by error status or
// by trapping); bisection isolates exactly those rows, good + dead-letter
// = input, row for row.
func TestPoisonRowsWasm(t *testing.T) {
	tests := []struct {
		every int64
		trap  bool
	}{
		{every: 1000}, {every: 100}, {every: 10}, {every: 100, trap: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("every=%d/trap=%t", tt.every, tt.trap), func(t *testing.T) {
			noLeaks(t)
			alloc := checkAlloc(t)
			const n = 3000
			src := newSource(alloc, 500, 1200, 1800)
			id := loadUDF(t, "../sdk/c/examples/identity/identity.wasm", "identity", alloc)
			poison := loadUDF(t, "testdata/poison.wasm", "poison", alloc,
				host.WithConfig(fmt.Appendf(nil, `{"every":%d,"trap":%t}`, tt.every, tt.trap)))
			sink, dead := newSink(t, "out"), newSink(t, "dead")
			sum, err := New(src, WithAllocator(alloc), WithLogger(quiet), WithCPUs(4)).
				MapBatches(id, BatchSize(100)).
				MapBatches(poison, BatchSize(64), Bisect(true), Retries(1), MaxErrorRate(0.2, 0)).
				Write(sink).DeadLetters(dead).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var good []int64
			for _, sp := range sortedKeys(sink.rows(t)) {
				good = append(good, sink.rows(t)[sp]...)
			}
			var bad, wantBad, wantGood []int64
			for x := range int64(n) {
				if x%tt.every == 0 {
					wantBad = append(wantBad, x)
				} else {
					wantGood = append(wantGood, x)
				}
			}
			wantAttempts, wantMsg := int32(1), "guest error (status ERROR): column \"x\": row 0: value "
			if tt.trap {
				wantAttempts, wantMsg = 2, "trap"
			}
			for _, d := range dead.deadLetters(t) {
				x := d.row + 1200*d.split
				bad = append(bad, x)
				if d.stage != "poison" || d.attempts != wantAttempts || !strings.Contains(d.err, wantMsg) {
					t.Errorf("dead letter %+v: want stage poison, %d attempts, error with %q", d, wantAttempts, wantMsg)
				}
				if want := fmt.Sprintf(`{"x":%d,"s":"r%d"}`, x, x); d.input != want {
					t.Errorf("dead letter input %s, want %s", d.input, want)
				}
			}
			if !slices.Equal(good, wantGood) {
				t.Errorf("good rows: %d, want %d (%v...)", len(good), len(wantGood), head(good))
			}
			if !slices.Equal(bad, wantBad) {
				t.Errorf("dead letters %v, want %v", head(bad), head(wantBad))
			}
			if len(good)+len(bad) != n || sum.DeadLetterRows != int64(len(wantBad)) {
				t.Errorf("good %d + dead %d (summary %d) != input %d", len(good), len(bad), sum.DeadLetterRows, n)
			}
		})
	}
}

// TestPoisonThresholdWasm: past the error-rate threshold the run stops,
// naming the stage, split, batch and the guest's message.
func TestPoisonThresholdWasm(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	poison := loadUDF(t, "testdata/poison.wasm", "poison", alloc, host.WithConfig([]byte(`{"every":10}`)))
	_, err := New(newSource(alloc, 500, 3000), WithAllocator(alloc), WithLogger(quiet)).
		MapBatches(poison, BatchSize(50), Bisect(true), MaxErrorRate(0.05, 500), Workers(1)).
		Write(newSink(t, "out")).DeadLetters(newSink(t, "dead")).Run(context.Background())
	want := `stage "poison": split 0 (mem#0): batch 9: row 450: scheduler: error budget exceeded: 46 errored rows of 500 received (9.2%), more than MaxErrorRate 5%: udf "poison": batch 9: guest error (status ERROR): column "x": row 0: value 450 is poisoned`
	if err == nil || err.Error() != want || !errors.Is(err, ErrErrorBudget) {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var ue *host.UDFError
	if !errors.As(err, &ue) || ue.Kind != host.KindGuest {
		t.Errorf("the cause is not the guest's error: %v", err)
	}
}

// TestWasmCancel: interrupting a run of Wasm stages ends cleanly.
func TestWasmCancel(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	id := loadUDF(t, "../sdk/c/examples/identity/identity.wasm", "identity", alloc)
	ctx, cancel := context.WithCancel(context.Background())
	src := newSource(alloc, 100, 1000, 1000, 1000)
	src.onRead = func(split int, _ int64) {
		if split == 1 {
			cancel()
		}
	}
	sink := newSink(t, "out")
	_, err := New(src, WithAllocator(alloc), WithLogger(quiet), WithSplitsInFlight(2), WithGrace(0)).
		MapBatches(id, BatchSize(64)).MapBatches(id, BatchSize(128)).
		Write(sink).Run(ctx)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("got %v", err)
	}
	if sink.open != 0 {
		t.Errorf("%d parts open", sink.open)
	}
}
