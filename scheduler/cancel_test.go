package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestInterrupt: canceling Run's context stops reading; what was committed
// and what was not add up to every split, the sink holds exactly the
// committed splits, whole, and every other part is aborted.
func TestInterrupt(t *testing.T) {
	noLeaks(t)
	alloc := checkAlloc(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := newSource(alloc, 5, 20, 20, 20, 20, 20, 20)
	st := Func("watch", func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		if values(t, in)[0] >= 40 { // split 2 has started
			cancel()
		}
		return in, nil
	})
	sink := newSink(t, "out")
	_, err := New(src, WithAllocator(alloc), WithLogger(quiet), WithSplitsInFlight(2)).
		MapBatches(st, BatchSize(5)).Write(sink).Run(ctx)
	var ie *InterruptedError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want an InterruptedError", err)
	}
	all := append(slices.Clone(ie.Committed), ie.NotCommitted...)
	slices.Sort(all)
	if want := []string{"mem#0", "mem#1", "mem#2", "mem#3", "mem#4", "mem#5"}; !slices.Equal(all, want) {
		t.Errorf("committed %v + not committed %v, want %v", ie.Committed, ie.NotCommitted, want)
	}
	if len(ie.Committed) == 0 || !slices.Contains(ie.NotCommitted, "mem#5") {
		t.Errorf("committed %v, not committed %v", ie.Committed, ie.NotCommitted)
	}
	got := sink.rows(t)
	if len(got) != len(ie.Committed) {
		t.Errorf("the sink has %d splits, the error says %d were committed", len(got), len(ie.Committed))
	}
	for sp, rows := range got {
		if !slices.Equal(rows, src.data[sp]) {
			t.Errorf("split %d: committed %v, want %v", sp, rows, src.data[sp])
		}
	}
	if sink.open != 0 {
		t.Errorf("%d parts neither committed nor aborted", sink.open)
	}
	if !strings.Contains(err.Error(), "splits committed") || !strings.HasSuffix(err.Error(), "run again to do the rest") {
		t.Errorf("message %q", err)
	}
}

// TestInterruptGrace: a split read whole when the run is interrupted is
// finished and committed within the grace period; with no grace it is
// stopped and aborted.
func TestInterruptGrace(t *testing.T) {
	for _, grace := range []time.Duration{time.Minute, 0} {
		t.Run(grace.String(), func(t *testing.T) {
			noLeaks(t)
			alloc := checkAlloc(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			entered, release := make(chan struct{}), make(chan struct{})
			st := Func("slow", func(sctx context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
				close(entered)
				select {
				case <-release:
					return in, nil
				case <-sctx.Done():
					return nil, sctx.Err()
				}
			})
			sink := newSink(t, "out")
			// A second split whose read waits for the interrupt keeps the
			// run going until the interrupt has taken effect (otherwise the
			// first split may be committed and the run finished, with
			// nothing interrupted, before the interrupt is seen).
			src := newSource(alloc, 100, 20, 20)
			src.block = map[int]chan struct{}{1: make(chan struct{})}
			var err error
			done := make(chan struct{})
			go func() {
				defer close(done)
				// BatchSize 0 holds the split's only batch back until its
				// end is read: the stage sees it only once it is read whole.
				_, err = New(src, WithAllocator(alloc), WithLogger(quiet), WithGrace(grace)).
					MapBatches(st, BatchSize(0)).Write(sink).Run(ctx)
			}()
			<-entered
			cancel()
			if grace > 0 {
				close(release)
			}
			<-done
			var ie *InterruptedError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want an InterruptedError", err)
			}
			wantCommitted := grace > 0
			if got := len(ie.Committed) == 1 && len(sink.rows(t)[0]) == 20; got != wantCommitted {
				t.Errorf("committed %v (sink %d splits), want committed=%t", ie.Committed, len(sink.rows(t)), wantCommitted)
			}
			if sink.open != 0 {
				t.Errorf("%d parts neither committed nor aborted", sink.open)
			}
		})
	}
}

// logBuffer is a slog handler that keeps messages and signals each.
type logBuffer struct {
	mu   sync.Mutex
	msgs []string
	ch   chan string
}

func (l *logBuffer) Enabled(context.Context, slog.Level) bool { return true }
func (l *logBuffer) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	if l.ch != nil {
		select {
		case l.ch <- r.Message:
		default:
		}
	}
	return nil
}
func (l *logBuffer) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logBuffer) WithGroup(string) slog.Handler      { return l }

// TestWatchdog: a stage stuck in Transform is reported by name with what
// it waits for; with WithFailOnStall the run ends with ErrStalled.
func TestWatchdog(t *testing.T) {
	t.Run("report", func(t *testing.T) {
		noLeaks(t)
		alloc := checkAlloc(t)
		logs := &logBuffer{ch: make(chan string, 16)}
		st := Func("stuck", func(ctx context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
			for msg := range logs.ch { // stuck until the watchdog speaks
				if strings.Contains(msg, "no progress") {
					break
				}
			}
			return in, nil
		})
		sum, err := New(newSource(alloc, 10, 10), WithAllocator(alloc), WithLogger(slog.New(logs)), WithStallTimeout(20*time.Millisecond)).
			MapBatches(st).Write(newSink(t, "out")).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := `scheduler: stage "stuck" has made no progress for `
		if len(sum.Warnings) == 0 || !strings.HasPrefix("scheduler: "+sum.Warnings[0], want) ||
			!strings.HasSuffix(sum.Warnings[0], ": 1 batches in flight, waiting for its workers (1 of 1 busy in Transform)") {
			t.Errorf("warnings %q, want one starting %q", sum.Warnings, want)
		}
	})
	t.Run("fail", func(t *testing.T) {
		noLeaks(t)
		alloc := checkAlloc(t)
		st := Func("stuck", func(ctx context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		_, err := New(newSource(alloc, 10, 10), WithAllocator(alloc), WithLogger(quiet),
			WithStallTimeout(20*time.Millisecond), WithFailOnStall(true)).
			MapBatches(mapStage("first", alloc, keep)).MapBatches(st).Write(newSink(t, "out")).Run(context.Background())
		if !errors.Is(err, ErrStalled) {
			t.Fatalf("got %v, want ErrStalled", err)
		}
		var se *StageError
		if !errors.As(err, &se) || se.Stage != "stuck" || !strings.Contains(err.Error(), "waiting for its workers") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("source", func(t *testing.T) {
		noLeaks(t)
		alloc := checkAlloc(t)
		src := newSource(alloc, 10, 10)
		src.block = map[int]chan struct{}{0: make(chan struct{})} // Read never returns
		_, err := New(src, WithAllocator(alloc), WithLogger(quiet),
			WithStallTimeout(20*time.Millisecond), WithFailOnStall(true)).
			MapBatches(mapStage("first", alloc, keep)).Write(newSink(t, "out")).Run(context.Background())
		want := `stage "source": scheduler: stalled: the source has made no progress for `
		if !errors.Is(err, ErrStalled) || !strings.HasPrefix(err.Error(), want) ||
			!strings.HasSuffix(err.Error(), "waiting for the source's reader (Read has not returned)") {
			t.Fatalf("got %v, want %s...", err, want)
		}
	})
}
