package scheduler

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/dataset"
)

// writer writes one split's output to a sink part and commits it (dead
// letters first), or aborts it when the run stops first.
func (r *run) writer(sp *splitRun) {
	var part dataset.Part
	abort := func() {
		ctx := context.WithoutCancel(r.ctx)
		if part != nil {
			if err := part.Abort(ctx); err != nil {
				r.cfg.logger.Warn("scheduler: aborting part", "split", sp.sp.ID, "err", err)
			}
		}
		r.abortDeadLetters(sp)
	}
	for {
		r.mu.Lock()
		r.sinkStats.setWait(waitUpstream)
		for len(sp.out) == 0 && !r.stop && !sp.abandoned {
			r.cond.Wait()
		}
		if r.stop || sp.abandoned {
			r.discardOutLocked(sp)
			r.mu.Unlock()
			abort()
			r.finishSplit(sp, false, nil)
			return
		}
		items := sp.out
		sp.out = nil
		r.active++
		r.sinkStats.setWait(waitWorker)
		r.cond.Broadcast()
		r.mu.Unlock()

		var err error
		var files []string
		committed := false
		t0 := time.Now()
		for i, it := range items {
			if err != nil {
				break
			}
			if part == nil {
				if part, err = r.p.sink.Create(r.ctx, sp.sp, it.rec.Schema()); err != nil {
					err = &StageError{Stage: "sink", Split: sp.sp.Index, SplitID: sp.sp.ID, Batch: it.seq, Row: -1, Err: fmt.Errorf("creating part: %w", err)}
					break
				}
			}
			if n := it.rec.NumRows(); n > 0 {
				if err = part.Write(r.ctx, it.rec); err != nil {
					err = &StageError{Stage: "sink", Split: sp.sp.Index, SplitID: sp.sp.ID, Batch: it.seq, Row: -1, Err: fmt.Errorf("writing: %w", err)}
					break
				}
				r.sinkStats.add(n, n)
			}
			if it.last && i == len(items)-1 {
				if err = r.commitDeadLetters(sp); err != nil {
					break
				}
				if files, err = part.Commit(r.ctx); err != nil {
					err = &StageError{Stage: "sink", Split: sp.sp.Index, SplitID: sp.sp.ID, Batch: it.seq, Row: -1, Err: fmt.Errorf("committing: %w", err)}
					break
				}
				committed = true
			}
		}
		r.sinkStats.busyFor(time.Since(t0))

		r.mu.Lock()
		for _, it := range items {
			r.releaseLocked(it)
		}
		r.active--
		r.cond.Broadcast()
		if err != nil && !r.stop {
			r.failLocked(err)
		}
		r.mu.Unlock()
		if committed {
			r.finishSplit(sp, true, files)
			return
		}
		if err != nil {
			abort()
			r.finishSplit(sp, false, nil)
			return
		}
	}
}

func (r *run) discardOutLocked(sp *splitRun) {
	for _, it := range sp.out {
		r.releaseLocked(it)
	}
	sp.out = nil
	r.cond.Broadcast()
}

// finishSplit records a split as done (committed or not) and frees its slot.
func (r *run) finishSplit(sp *splitRun, committed bool, files []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sp.done {
		return
	}
	sp.done = true
	r.open--
	if i := slices.Index(r.openSplits, sp); i >= 0 {
		r.openSplits = slices.Delete(r.openSplits, i, i+1)
	}
	if committed {
		r.committed = append(r.committed, sp.sp.ID)
		r.files = append(r.files, files...)
	} else {
		r.uncommitted = append(r.uncommitted, sp.sp.ID)
	}
	r.sinkStats.progress()
	r.cond.Broadcast()
}

// emitter hands output batches to the Each function: in split order when
// ordered, otherwise from any split (oldest first).
func (r *run) emitter() {
	for {
		r.mu.Lock()
		var sp *splitRun
		for {
			if r.stop || r.finished {
				r.mu.Unlock()
				return
			}
			sp = r.nextEmitLocked()
			if sp != nil {
				break
			}
			r.cond.Wait()
		}
		if sp.abandoned {
			r.discardOutLocked(sp)
			r.mu.Unlock()
			r.abortDeadLetters(sp)
			r.finishSplit(sp, false, nil)
			continue
		}
		items := sp.out
		sp.out = nil
		r.active++
		r.cond.Broadcast()
		r.mu.Unlock()

		var err error
		last := false
		t0 := time.Now()
		for _, it := range items {
			last = last || it.last
			if err != nil || it.rec.NumRows() == 0 {
				continue
			}
			err = safeEmit(r.emit, it.rec)
			if err == nil {
				r.sinkStats.add(it.rec.NumRows(), it.rec.NumRows())
			}
		}
		r.sinkStats.busyFor(time.Since(t0))
		r.mu.Lock()
		for _, it := range items {
			r.releaseLocked(it)
		}
		r.active--
		r.cond.Broadcast()
		if err != nil && !r.stop {
			r.failLocked(&StageError{Stage: "output", Split: sp.sp.Index, SplitID: sp.sp.ID, Batch: -1, Row: -1, Err: err})
		}
		r.mu.Unlock()
		if last && err == nil {
			if err := r.commitDeadLetters(sp); err != nil {
				r.fail(err)
				continue
			}
			r.finishSplit(sp, true, nil)
		}
	}
}

// nextEmitLocked is the split whose output is next to emit, or nil.
func (r *run) nextEmitLocked() *splitRun {
	if r.cfg.ordered || r.mode == modeTake {
		for r.emitNext < len(r.splits) && r.splits[r.emitNext].done {
			r.emitNext++
		}
		if r.emitNext < len(r.splits) {
			sp := r.splits[r.emitNext]
			if len(sp.out) > 0 || sp.abandoned {
				return sp
			}
		}
		return nil
	}
	for _, sp := range r.openSplits {
		if !sp.done && (len(sp.out) > 0 || sp.abandoned) {
			return sp
		}
	}
	return nil
}

func safeEmit(fn func(arrow.RecordBatch) error, rec arrow.RecordBatch) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrPanic, p)
		}
	}()
	return fn(rec)
}
