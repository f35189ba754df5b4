package scheduler

import (
	"container/heap"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// A result is what one batch became upstream of an edge: zero or more
// pieces, in row order (several when a failed batch was bisected), and
// whether it was the split's last.
type result struct {
	pieces []*envelope
	last   bool
}

// An edge is where one split's batches enter a stage (or the output): a
// reorder buffer that puts the upstream results back in sequence, and a
// re-chunker that cuts the rows into the stage's batch size. Rows are
// never joined across splits. Guarded by the run's mutex.
type edge struct {
	batchSize int              // rows per batch downstream; 0: as they come
	next      int64            // the upstream sequence number expected next
	pending   map[int64]result // results that arrived early
	chunk     []*envelope      // rows not yet sent downstream, in order
	rows      int64            // rows in chunk
	outSeq    int64            // the next downstream sequence number
	outRow    int64            // row index within the split of the next row sent
	schema    *arrow.Schema    // of the batches seen here
	maxHeld   int              // the most results ever held in pending
}

// deliverLocked hands the result of upstream batch seq to edge i of sp. It
// takes ownership of the pieces.
func (r *run) deliverLocked(sp *splitRun, i int, seq int64, res result) error {
	if sp.abandoned {
		for _, e := range res.pieces {
			r.releaseLocked(e)
		}
		r.cond.Broadcast()
		return nil
	}
	ed := sp.edges[i]
	ed.pending[seq] = res
	r.pendingAt[i]++
	ed.maxHeld = max(ed.maxHeld, len(ed.pending))
	for {
		res, ok := ed.pending[ed.next]
		if !ok {
			return nil
		}
		delete(ed.pending, ed.next)
		r.pendingAt[i]--
		ed.next++
		for _, pc := range res.pieces {
			if ed.schema == nil {
				ed.schema = pc.rec.Schema()
			}
			if pc.rec.NumRows() == 0 {
				r.releaseLocked(pc)
				continue
			}
			ed.chunk = append(ed.chunk, pc)
			ed.rows += pc.rec.NumRows()
		}
		if err := r.flushLocked(sp, i, res.last); err != nil {
			return err
		}
	}
}

// flushLocked sends downstream the batches edge i of sp can make. It holds
// back the last full batch until it knows whether it is the split's last,
// so a split's end rides on its last rows instead of an extra empty batch.
func (r *run) flushLocked(sp *splitRun, i int, last bool) error {
	ed := sp.edges[i]
	bs := int64(ed.batchSize)
	sentLast := false
	for {
		var n int64
		switch {
		case bs == 0 && (len(ed.chunk) > 1 || last && len(ed.chunk) == 1):
			n = ed.chunk[0].rec.NumRows()
		case bs > 0 && ed.rows > bs:
			n = bs
		case bs > 0 && last && ed.rows > 0:
			n = ed.rows
		default:
			n = 0
		}
		if n == 0 {
			break
		}
		e, err := r.takeLocked(ed, n)
		if err != nil {
			return err
		}
		e.last = last && ed.rows == 0
		sentLast = e.last
		r.emitLocked(sp, i, e)
	}
	if last && !sentLast {
		b := array.NewRecordBuilder(r.cfg.alloc, ed.schema)
		rec := b.NewRecordBatch()
		b.Release()
		e := &envelope{rec: rec, sp: sp, seq: ed.outSeq, row: ed.outRow, last: true}
		ed.outSeq++
		r.emitLocked(sp, i, e)
	}
	return nil
}

// takeLocked removes the first n rows of the chunk as one envelope: the
// first piece itself, a zero-copy slice of it, or a concatenation (copied
// with the run's allocator) when the rows span pieces.
func (r *run) takeLocked(ed *edge, n int64) (*envelope, error) {
	first := ed.chunk[0]
	fr := first.rec.NumRows()
	var out *envelope
	switch {
	case fr == n:
		ed.chunk = ed.chunk[1:]
		out = first
	case fr > n:
		out = r.sliceLocked(first, 0, n)
		ed.chunk[0] = r.sliceLocked(first, n, fr)
		r.releaseLocked(first)
	default:
		var recs []arrow.RecordBatch
		var used []*envelope
		need := n
		for need > 0 {
			pc := ed.chunk[0]
			pr := pc.rec.NumRows()
			if pr <= need {
				ed.chunk = ed.chunk[1:]
				recs = append(recs, pc.rec)
				used = append(used, pc)
				need -= pr
				continue
			}
			head := r.sliceLocked(pc, 0, need)
			ed.chunk[0] = r.sliceLocked(pc, need, pr)
			r.releaseLocked(pc)
			recs = append(recs, head.rec)
			used = append(used, head)
			need = 0
		}
		rec, err := concatRecords(r.cfg.alloc, recs[0].Schema(), recs)
		for _, u := range used {
			r.releaseLocked(u)
		}
		if err != nil {
			return nil, err
		}
		c := r.newChargeLocked(rec)
		out = &envelope{rec: rec, charges: []*charge{c}, approx: c.bytes, sp: first.sp}
	}
	ed.rows -= n
	out.seq = ed.outSeq
	ed.outSeq++
	out.row = ed.outRow
	ed.outRow += n
	return out, nil
}

// sliceLocked is a zero-copy slice [i, j) of e sharing e's charges.
func (r *run) sliceLocked(e *envelope, i, j int64) *envelope {
	for _, c := range e.charges {
		c.refs++
	}
	rows := max(e.rec.NumRows(), 1)
	return &envelope{
		rec:     e.rec.NewSlice(i, j),
		charges: append([]*charge(nil), e.charges...),
		approx:  e.approx * (j - i) / rows,
		sp:      e.sp,
	}
}

// emitLocked queues e before stage i, or for the output when i is past the
// last stage.
func (r *run) emitLocked(sp *splitRun, i int, e *envelope) {
	if i < len(r.stages) {
		s := r.stages[i]
		heap.Push(&s.queue, e)
		s.stats.queued(s.queue.Len())
	} else {
		sp.out = append(sp.out, e)
	}
	r.cond.Broadcast()
}
