package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
)

// Shard returns the splits of shard i of n, those whose Index%n == i, in
// order: never nil, so that an empty shard given to [NewStreamReader] reads
// nothing. Shards 0..n-1 together hold every split exactly once. It panics
// when n < 1 or i is outside [0, n) (programmer misuse).
func Shard(splits []Split, i, n int) []Split {
	if n < 1 || i < 0 || i >= n {
		panic(fmt.Sprintf("dataset: Shard(%d, %d): want 0 <= i < n", i, n))
	}
	out := []Split{}
	for _, s := range splits {
		if s.Index%n == i {
			out = append(out, s)
		}
	}
	return out
}

// base is what every source of this package shares: the schema, the split
// list with its limit applied, and Open's checks. A format fills in
// openSplit.
type base struct {
	format    Format
	schema    *arrow.Schema
	splits    []Split
	caps      map[int]int64 // row cap of a split cut short by the limit
	openSplit func(ctx context.Context, i int) (Reader, error)
	closed    atomic.Bool
}

// Schema returns the schema of every batch the source's readers return.
func (b *base) Schema() *arrow.Schema { return b.schema }

// Splits returns the source's splits (a copy) in Index order.
func (b *base) Splits() []Split { return append([]Split(nil), b.splits...) }

// Open returns a reader of split s, which must be one of Splits(). The
// reader is the caller's, who must Close it; it implements [Rejecter].
func (b *base) Open(ctx context.Context, s Split) (Reader, error) {
	if b.closed.Load() {
		return nil, fmt.Errorf("%w: opening split %d of a %s source", ErrClosed, s.Index, b.format)
	}
	if s.Index < 0 || s.Index >= len(b.splits) || b.splits[s.Index].ID != s.ID {
		return nil, fmt.Errorf("%w: %d (%s): the %s source has %d splits", ErrUnknownSplit, s.Index, s.ID, b.format, len(b.splits))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := b.openSplit(ctx, s.Index)
	if err != nil {
		return nil, err
	}
	if n, ok := b.caps[s.Index]; ok {
		return &capReader{r: r, left: n}, nil
	}
	return r, nil
}

// Close marks the source closed; readers already open stay usable until
// closed.
func (b *base) Close() error {
	b.closed.Store(true)
	return nil
}

// applyLimit keeps only the splits holding the first limit rows and caps
// the last one. Splits whose row count is unknown are counted by reading
// them (only as far as needed).
func (b *base) applyLimit(ctx context.Context, limit int64) error {
	if limit <= 0 {
		return nil
	}
	var total int64
	for i := range b.splits {
		rows := b.splits[i].Rows
		if rows < 0 {
			n, err := b.countRows(ctx, i, limit-total)
			if err != nil {
				return err
			}
			rows = n
		}
		if total+rows >= limit {
			if b.caps == nil {
				b.caps = map[int]int64{}
			}
			b.caps[i] = limit - total
			b.splits[i].Rows = limit - total
			b.splits = b.splits[:i+1]
			return nil
		}
		b.splits[i].Rows = rows
		total += rows
	}
	return nil
}

// countRows reads split i until it has seen want rows or its end.
func (b *base) countRows(ctx context.Context, i int, want int64) (int64, error) {
	r, err := b.openSplit(ctx, i)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var n int64
	for n < want {
		rec, err := r.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		n += rec.NumRows()
		rec.Release()
	}
	return n, nil
}

// capReader returns at most left rows of r.
type capReader struct {
	r    Reader
	left int64
}

func (c *capReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	if c.left <= 0 {
		return nil, io.EOF
	}
	rec, err := c.r.Read(ctx)
	if err != nil {
		return nil, err
	}
	if rec.NumRows() > c.left {
		s := rec.NewSlice(0, c.left)
		rec.Release()
		rec = s
	}
	c.left -= rec.NumRows()
	return rec, nil
}

func (c *capReader) Rejected() []Rejected {
	if rj, ok := c.r.(Rejecter); ok {
		return rj.Rejected()
	}
	return nil
}

func (c *capReader) Close() error { return c.r.Close() }

// StreamReader reads the rows of several splits of a source, one split
// after the other, as one stream of batches: the arrio-style reader for
// library users and `wasinfer udf test`. A batch never spans two splits;
// empty batches are skipped.
//
// Ownership: each batch Read returns belongs to the caller, who must
// Release it. Not safe for concurrent use.
type StreamReader struct {
	src      Source
	own      bool // Close closes src
	splits   []Split
	next     int
	cur      Reader
	rejected []Rejected
	closed   bool
}

// NewStreamReader reads splits of src in the order given (all of
// src.Splits() when splits is nil; pass Shard(src.Splits(), i, n) for a
// shard). Closing it does not close src.
func NewStreamReader(src Source, splits []Split) *StreamReader {
	if splits == nil {
		splits = src.Splits()
	}
	return &StreamReader{src: src, splits: splits}
}

// Schema returns the source's schema.
func (r *StreamReader) Schema() *arrow.Schema { return r.src.Schema() }

// Read returns the next batch, or io.EOF after the last split.
func (r *StreamReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	if r.closed {
		return nil, fmt.Errorf("%w: reading a closed stream", ErrClosed)
	}
	for {
		if r.cur == nil {
			if r.next >= len(r.splits) {
				return nil, io.EOF
			}
			rd, err := r.src.Open(ctx, r.splits[r.next])
			if err != nil {
				return nil, err
			}
			r.cur = rd
			r.next++
		}
		rec, err := r.cur.Read(ctx)
		r.drain()
		if errors.Is(err, io.EOF) {
			err = r.cur.Close()
			r.cur = nil
			if err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		return rec, nil
	}
}

func (r *StreamReader) drain() {
	if rj, ok := r.cur.(Rejecter); ok {
		r.rejected = append(r.rejected, rj.Rejected()...)
	}
}

// Rejected returns the rows skipped since the last call ([Rejecter]).
func (r *StreamReader) Rejected() []Rejected {
	out := r.rejected
	r.rejected = nil
	return out
}

// Close closes the split being read (and the source when the stream was
// opened by [OpenStream]).
func (r *StreamReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.cur != nil {
		err = r.cur.Close()
		r.cur = nil
	}
	if r.own {
		err = errors.Join(err, r.src.Close())
	}
	return err
}

// ReadAll reads every batch of r until io.EOF and returns them; the caller
// releases each. On error the batches read so far are released.
func ReadAll(ctx context.Context, r interface {
	Read(context.Context) (arrow.RecordBatch, error)
}) ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	for {
		rec, err := r.Read(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			for _, b := range out {
				b.Release()
			}
			return nil, err
		}
		out = append(out, rec)
	}
}
