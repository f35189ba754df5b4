package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// DeadLetterSchema is the schema of the dead-letter sink's parts: one row
// per input row that failed (after retries, within the stage's budget).
//
//	stage     the stage's name ("source" for rows a reader rejected)
//	error     the error message (a UDF's includes the guest's own message)
//	attempts  Transform calls made on the failing rows (1 + retries)
//	split     the split's Index
//	split_id  the split's ID
//	batch     the batch's sequence number within the split at the stage's input
//	row       the row's index within the split at the stage's input (the
//	          source row when every stage before it keeps its rows)
//	input     the row the stage received, as a JSON object (column order
//	          kept; binary values base64, as encoding/json writes []byte)
var DeadLetterSchema = arrow.NewSchema([]arrow.Field{
	{Name: "stage", Type: arrow.BinaryTypes.String},
	{Name: "error", Type: arrow.BinaryTypes.String},
	{Name: "attempts", Type: arrow.PrimitiveTypes.Int32},
	{Name: "split", Type: arrow.PrimitiveTypes.Int64},
	{Name: "split_id", Type: arrow.BinaryTypes.String},
	{Name: "batch", Type: arrow.PrimitiveTypes.Int64},
	{Name: "row", Type: arrow.PrimitiveTypes.Int64},
	{Name: "input", Type: arrow.BinaryTypes.String},
}, nil)

// A piece is one output batch of a stage; shared when it is the input batch
// itself (or a slice of it) handed back.
type piece struct {
	rec    arrow.RecordBatch
	shared bool
}

// batchFailure tracks whether a batch has been counted as errored once.
type batchFailure struct{ counted bool }

// transform runs e through s: retries, then the failure policy.
func (r *run) transform(s *stageRun, e *envelope) ([]piece, error) {
	p, attempts, err := r.call(s, e, e.rec)
	if err == nil {
		return []piece{p}, nil
	}
	if r.ctx.Err() != nil {
		return nil, context.Canceled
	}
	if errors.Is(err, ErrPanic) || !s.allowsErrors() {
		return nil, r.stageErr(s, e, -1, err)
	}
	var good []piece
	f := &batchFailure{}
	if err := r.isolate(s, e, e.rec, 0, err, attempts, &good, f); err != nil {
		for _, p := range good {
			p.rec.Release()
		}
		return nil, err
	}
	if len(good) == 0 && e.last {
		// The split's end must still carry the stage's output schema.
		empty := e.rec.NewSlice(0, 0)
		p, _, err := r.call(s, e, empty)
		empty.Release()
		if err != nil {
			return nil, r.stageErr(s, e, -1, fmt.Errorf("transforming an empty batch for the end of the split (every row of its last batch failed): %w", err))
		}
		good = append(good, p)
	}
	return good, nil
}

func (r *run) stageErr(s *stageRun, e *envelope, row int64, err error) error {
	if r.ctx.Err() != nil {
		return context.Canceled
	}
	return &StageError{Stage: s.name, Split: e.sp.sp.Index, SplitID: e.sp.sp.ID, Batch: e.seq, Row: row, Err: err}
}

// call transforms in, retrying transient failures.
func (r *run) call(s *stageRun, e *envelope, in arrow.RecordBatch) (piece, int, error) {
	for attempt := 1; ; attempt++ {
		out, err := safeTransform(r.ctx, s.st, e.seq, in)
		if err == nil && out == nil {
			err = errors.New("the stage returned neither a batch nor an error")
		}
		if err == nil {
			shared := out == in
			if shared {
				out.Retain()
			}
			return piece{rec: out, shared: shared}, attempt, nil
		}
		if r.ctx.Err() != nil || errors.Is(err, ErrPanic) {
			return piece{}, attempt, err
		}
		if transient(err) && attempt <= s.cfg.retries {
			s.stats.retries.Add(1)
			continue
		}
		s.stats.errors.Add(1)
		return piece{}, attempt, err
	}
}

func safeTransform(ctx context.Context, st Stage, seq int64, in arrow.RecordBatch) (out arrow.RecordBatch, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%w: %v\n%s", ErrPanic, p, firstFrames(debug.Stack()))
		}
	}()
	return st.Transform(ctx, seq, in)
}

// firstFrames keeps the start of a stack trace, enough to find the panic.
func firstFrames(stack []byte) []byte {
	const keep = 4096
	if len(stack) > keep {
		return stack[:keep]
	}
	return stack
}

// isolate applies the failure policy to rec (rows off.. of e) that failed
// with cause: bisect when enabled, dead-letter the rows that fail alone.
// Good pieces are appended to good in row order.
func (r *run) isolate(s *stageRun, e *envelope, rec arrow.RecordBatch, off int64, cause error, attempts int, good *[]piece, f *batchFailure) error {
	n := rec.NumRows()
	if !s.cfg.bisect || n <= 1 {
		return r.deadLetter(s, e, rec, off, cause, attempts, f)
	}
	h := n / 2
	for _, half := range [2][2]int64{{0, h}, {h, n}} {
		sub := rec.NewSlice(half[0], half[1])
		p, a, err := r.call(s, e, sub)
		if err == nil {
			*good = append(*good, p)
			sub.Release()
			continue
		}
		if r.ctx.Err() != nil || errors.Is(err, ErrPanic) {
			sub.Release()
			return r.stageErr(s, e, e.row+off+half[0], err)
		}
		err = r.isolate(s, e, sub, off+half[0], err, a, good, f)
		sub.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// deadLetter counts rec's rows as errored against the budget and writes
// them to the dead-letter sink, or returns the error that ends the run.
func (r *run) deadLetter(s *stageRun, e *envelope, rec arrow.RecordBatch, off int64, cause error, attempts int, f *batchFailure) error {
	n := rec.NumRows()
	if !f.counted {
		f.counted = true
		s.stats.erroredBatches.Add(1)
	}
	rows := s.stats.erroredRows.Add(n)
	if over := s.overBudget(s.stats.erroredBatches.Load(), rows); over != "" {
		return r.stageErr(s, e, e.row+off, fmt.Errorf("%w: %s: %w", ErrErrorBudget, over, cause))
	}
	if err := r.writeDeadLetters(e.sp, s.name, cause.Error(), attempts, e.seq, e.row+off, rec); err != nil {
		return err
	}
	s.stats.deadRows.Add(n)
	r.cfg.logger.Debug("scheduler: dead-lettered rows", "stage", s.name, "split", e.sp.sp.ID, "batch", e.seq, "rows", n, "err", cause)
	return nil
}

// overBudget says how errors passed the stage's budget, or "".
func (s *stageRun) overBudget(batches, rows int64) string {
	c := s.cfg
	switch {
	case c.maxBatches > 0 && batches > c.maxBatches:
		return fmt.Sprintf("%d errored batches, more than MaxErroredBatches %d", batches, c.maxBatches)
	case c.maxRows > 0 && rows > c.maxRows:
		return fmt.Sprintf("%d errored rows, more than MaxErroredRows %d", rows, c.maxRows)
	case c.maxRate > 0:
		in := s.stats.rowsIn.Load()
		if in >= c.rateMinRows && float64(rows) > c.maxRate*float64(in) {
			return fmt.Sprintf("%d errored rows of %d received (%.3g%%), more than MaxErrorRate %.3g%%", rows, in, 100*float64(rows)/float64(in), 100*c.maxRate)
		}
	}
	return ""
}

// finalRateCheckLocked applies MaxErrorRate to the whole run.
func (r *run) finalRateCheckLocked() error {
	for _, s := range r.stages {
		c := s.cfg
		in, rows := s.stats.rowsIn.Load(), s.stats.erroredRows.Load()
		if c.maxRate > 0 && in > 0 && float64(rows) > c.maxRate*float64(in) {
			return &StageError{Stage: s.name, Split: -1, Batch: -1, Row: -1, Err: fmt.Errorf("%w: %d errored rows of %d (%.3g%%), more than MaxErrorRate %.3g%% (the output is committed)", ErrErrorBudget, rows, in, 100*float64(rows)/float64(in), 100*c.maxRate)}
		}
	}
	return nil
}

// writeDeadLetters writes rec's rows (rows row0.. of batch seq of sp at the
// stage's input) to sp's dead-letter part, creating it on first use.
func (r *run) writeDeadLetters(sp *splitRun, stage, msg string, attempts int, seq, row0 int64, rec arrow.RecordBatch) error {
	rows := make([]dlRow, rec.NumRows())
	var buf bytes.Buffer
	for i := range rec.NumRows() {
		buf.Reset()
		buf.WriteByte('{')
		for c, col := range rec.Columns() {
			if c > 0 {
				buf.WriteByte(',')
			}
			name, _ := json.Marshal(rec.Schema().Field(c).Name)
			buf.Write(name)
			buf.WriteByte(':')
			v, err := json.Marshal(col.GetOneForMarshal(int(i)))
			if err != nil {
				return &StageError{Stage: "dead-letter sink", Split: sp.sp.Index, SplitID: sp.sp.ID, Batch: seq, Row: row0 + i,
					Err: fmt.Errorf("encoding column %q as JSON: %w", rec.Schema().Field(c).Name, err)}
			}
			buf.Write(v)
		}
		buf.WriteByte('}')
		rows[i] = dlRow{stage: stage, msg: msg, attempts: attempts, seq: seq, row: row0 + i, input: buf.String()}
	}
	return r.appendDeadLetters(sp, rows)
}

// A dlRow is one row of a dead-letter part.
type dlRow struct {
	stage, msg string
	attempts   int
	seq, row   int64
	input      string
}

// appendDeadLetters writes rows to sp's dead-letter part, creating it on
// first use.
func (r *run) appendDeadLetters(sp *splitRun, rows []dlRow) error {
	if len(rows) == 0 {
		return nil
	}
	b := array.NewRecordBuilder(r.cfg.alloc, DeadLetterSchema)
	for _, d := range rows {
		b.Field(0).(*array.StringBuilder).Append(d.stage)
		b.Field(1).(*array.StringBuilder).Append(d.msg)
		b.Field(2).(*array.Int32Builder).Append(int32(d.attempts))
		b.Field(3).(*array.Int64Builder).Append(int64(sp.sp.Index))
		b.Field(4).(*array.StringBuilder).Append(sp.sp.ID)
		b.Field(5).(*array.Int64Builder).Append(d.seq)
		b.Field(6).(*array.Int64Builder).Append(d.row)
		b.Field(7).(*array.StringBuilder).Append(d.input)
	}
	dl := b.NewRecordBatch()
	b.Release()
	defer dl.Release()
	fail := func(doing string, err error) error {
		return &StageError{Stage: "dead-letter sink", Split: sp.sp.Index, SplitID: sp.sp.ID, Batch: rows[0].seq, Row: rows[0].row, Err: fmt.Errorf("%s: %w", doing, err)}
	}
	sp.dlMu.Lock()
	defer sp.dlMu.Unlock()
	if sp.dlPart == nil {
		var err error
		if sp.dlPart, err = r.p.dead.Create(r.ctx, sp.sp, DeadLetterSchema); err != nil {
			return fail("creating part", err)
		}
	}
	if err := sp.dlPart.Write(r.ctx, dl); err != nil {
		return fail("writing", err)
	}
	r.mu.Lock()
	r.deadRows += int64(len(rows))
	r.mu.Unlock()
	return nil
}

// commitDeadLetters commits sp's dead-letter part, if it has one: before
// the split's output, so the output's manifest stays the commit point.
func (r *run) commitDeadLetters(sp *splitRun) error {
	sp.dlMu.Lock()
	defer sp.dlMu.Unlock()
	if sp.dlPart == nil {
		return nil
	}
	if _, err := sp.dlPart.Commit(r.ctx); err != nil {
		return &StageError{Stage: "dead-letter sink", Split: sp.sp.Index, SplitID: sp.sp.ID, Batch: -1, Row: -1, Err: fmt.Errorf("committing: %w", err)}
	}
	sp.dlPart = nil
	return nil
}

func (r *run) abortDeadLetters(sp *splitRun) {
	sp.dlMu.Lock()
	defer sp.dlMu.Unlock()
	if sp.dlPart == nil {
		return
	}
	if err := sp.dlPart.Abort(context.WithoutCancel(r.ctx)); err != nil {
		r.cfg.logger.Warn("scheduler: aborting dead-letter part", "split", sp.sp.ID, "err", err)
	}
	sp.dlPart = nil
}
