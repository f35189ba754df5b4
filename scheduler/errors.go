package scheduler

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels; match them with errors.Is.
var (
	// ErrErrorBudget: a stage's errors passed its budget (MaxErroredBatches,
	// MaxErroredRows, MaxErrorRate).
	ErrErrorBudget = errors.New("scheduler: error budget exceeded")
	// ErrStalled: the watchdog found a stage without progress and
	// WithFailOnStall is on.
	ErrStalled = errors.New("scheduler: stalled")
	// ErrPanic: a stage panicked (the panic was recovered).
	ErrPanic = errors.New("scheduler: stage panicked")
	// ErrResources: the stages ask for more GPUs than the machine has.
	ErrResources = errors.New("scheduler: resources")
	// ErrInterrupted: the context given to Run was canceled.
	ErrInterrupted = errors.New("scheduler: interrupted")
	// ErrPipeline: the pipeline is not valid (no source, no sink, a bad
	// option value).
	ErrPipeline = errors.New("scheduler: invalid pipeline")
)

// StageError is the error that ended a run in a stage (or in the source or
// the sink, whose Stage is "source" or "sink").
type StageError struct {
	Stage   string // the stage's Name, "source" or "sink"
	Split   int    // the split's Index, or -1
	SplitID string // the split's ID
	Batch   int64  // the batch's sequence number within the split at the stage's input, or -1
	Row     int64  // the first failing row's index within the split at the stage's input, or -1
	Err     error
}

func (e *StageError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stage %q", e.Stage)
	if e.Split >= 0 {
		fmt.Fprintf(&b, ": split %d", e.Split)
		if e.SplitID != "" {
			fmt.Fprintf(&b, " (%s)", e.SplitID)
		}
	}
	if e.Batch >= 0 {
		fmt.Fprintf(&b, ": batch %d", e.Batch)
	}
	if e.Row >= 0 {
		fmt.Fprintf(&b, ": row %d", e.Row)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *StageError) Unwrap() error { return e.Err }

// InterruptedError is returned by Run when its context was canceled: the
// splits committed before the run stopped, and those that were not (to be
// done by the next run, which skips the committed ones).
type InterruptedError struct {
	Committed    []string // IDs of the splits this run committed
	NotCommitted []string // IDs of the splits this run should have done and did not commit
	Err          error    // the context's error
}

func (e *InterruptedError) Error() string {
	const show = 10
	var b strings.Builder
	fmt.Fprintf(&b, "scheduler: interrupted (%v): %d splits committed, %d not committed", e.Err, len(e.Committed), len(e.NotCommitted))
	if n := len(e.NotCommitted); n > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(e.NotCommitted[:min(n, show)], ", "))
		if n > show {
			fmt.Fprintf(&b, ", and %d more", n-show)
		}
		b.WriteString(")")
	}
	b.WriteString("; run again to do the rest")
	return b.String()
}

// Unwrap gives ErrInterrupted and the context's error.
func (e *InterruptedError) Unwrap() []error { return []error{ErrInterrupted, e.Err} }

// transient reports whether err's chain holds a Transient() bool that says
// true (the failed worker was replaced).
func transient(err error) bool {
	var t interface{ Transient() bool }
	return errors.As(err, &t) && t.Transient()
}
