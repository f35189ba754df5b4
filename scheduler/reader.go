package scheduler

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wasinfer/wasinfer/dataset"
)

// reader reads one split and delivers its batches to the first edge.
func (r *run) reader(sp *splitRun) {
	src := r.p.src
	rd, err := src.Open(r.readCtx, sp.sp)
	if err != nil {
		r.readFailed(sp, fmt.Errorf("opening: %w", err))
		return
	}
	closeRd := sync.OnceFunc(func() {
		if err := rd.Close(); err != nil {
			r.cfg.logger.Warn("scheduler: closing reader", "split", sp.sp.ID, "err", err)
		}
	})
	defer closeRd()
	for {
		r.mu.Lock()
		sp.waiting = true
		r.srcStats.setWait(waitAdmission)
		for !r.stop && !r.interrupted && !sp.abandoned && !r.sourceDone &&
			!r.admitLocked(key{sp.ord, -1, sp.readSeq}, sp.readEst, r.roomAfterLocked(-1, sp)) {
			r.cond.Wait()
		}
		sp.waiting = false
		if r.stop || r.interrupted || sp.abandoned || r.sourceDone {
			sp.abandoned = sp.abandoned || !sp.readDone
			r.cond.Broadcast()
			r.mu.Unlock()
			return
		}
		r.active++
		est := sp.readEst
		r.reserved += est
		r.srcStats.setWait(waitWorker)
		r.mu.Unlock()

		rec, err := rd.Read(r.readCtx)
		if rj, ok := rd.(dataset.Rejecter); ok && (err == nil || errors.Is(err, io.EOF)) {
			if rerr := r.sourceRejects(sp, rj, sp.readSeq); rerr != nil {
				if rec != nil {
					rec.Release()
				}
				r.mu.Lock()
				r.active--
				r.reserved -= est
				sp.abandoned = true
				r.failLocked(rerr)
				r.mu.Unlock()
				return
			}
		}
		if errors.Is(err, io.EOF) {
			closeRd() // before the split can commit and free its slot
		}

		r.mu.Lock()
		r.active--
		r.reserved -= est
		r.cond.Broadcast()
		if r.stop || r.interrupted {
			if rec != nil {
				rec.Release()
			}
			sp.abandoned = sp.abandoned || !sp.readDone
			r.mu.Unlock()
			return
		}
		if errors.Is(err, io.EOF) {
			err = r.deliverEndLocked(sp)
			r.mu.Unlock()
			if err != nil {
				r.readFailed(sp, err)
			}
			return
		}
		if err != nil {
			r.mu.Unlock()
			r.readFailed(sp, fmt.Errorf("reading: %w", err))
			return
		}
		if rec == nil {
			r.mu.Unlock()
			r.readFailed(sp, errors.New("reading: the reader returned no batch and no error"))
			return
		}
		end := false
		if r.limit > 0 {
			if rec.NumRows() >= r.limitLeft {
				if rec.NumRows() > r.limitLeft {
					cut := rec.NewSlice(0, r.limitLeft)
					rec.Release()
					rec = cut
				}
				end = true
			}
			r.limitLeft -= rec.NumRows()
		}
		c := r.newChargeLocked(rec)
		sp.readEst = c.bytes
		r.srcStats.add(rec.NumRows(), rec.NumRows())
		e := &envelope{rec: rec, charges: []*charge{c}, approx: c.bytes, sp: sp}
		err = r.deliverLocked(sp, 0, sp.readSeq, result{pieces: []*envelope{e}})
		sp.readSeq++
		if err == nil && end {
			closeRd()
			r.sourceDone = true
			err = r.deliverEndLocked(sp)
		}
		r.mu.Unlock()
		if err != nil {
			r.readFailed(sp, err)
			return
		}
		if end {
			return
		}
	}
}

// deliverEndLocked delivers the source's end marker: an empty batch of the
// source's schema, the split's last piece.
func (r *run) deliverEndLocked(sp *splitRun) error {
	b := array.NewRecordBuilder(r.cfg.alloc, r.p.src.Schema())
	rec := b.NewRecordBatch()
	b.Release()
	e := &envelope{rec: rec, sp: sp}
	err := r.deliverLocked(sp, 0, sp.readSeq, result{pieces: []*envelope{e}, last: true})
	sp.readSeq++
	sp.readDone = true
	return err
}

func (r *run) readFailed(sp *splitRun, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sp.abandoned = true
	if r.stop || r.interrupted {
		r.cond.Broadcast()
		return
	}
	r.failLocked(&StageError{Stage: "source", Split: sp.sp.Index, SplitID: sp.sp.ID, Batch: sp.readSeq, Row: -1, Err: err})
}
