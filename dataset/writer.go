package dataset

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Writer writes a stream of batches through a [Sink] as the output of one
// split (Index 0, ID "all"), for library users that do not care about
// splits: Write the batches, then Close commits them. The output still
// rolls over by file size and commits atomically. Not safe for concurrent
// use.
//
// Ownership: Write does not Release rec.
type Writer struct {
	sink   Sink
	own    bool
	part   Part
	schema *arrow.Schema
	files  []string
	done   bool
}

// NewWriter writes through sink. Close closes the sink too when own is
// true.
func NewWriter(sink Sink, own bool) *Writer { return &Writer{sink: sink, own: own} }

// CreateWriter opens the sink of spec (see [OpenSinkSpec]) and returns a
// Writer that owns it.
func CreateWriter(ctx context.Context, spec SinkSpec, baseDir string) (*Writer, error) {
	s, err := OpenSinkSpec(ctx, spec, baseDir)
	if err != nil {
		return nil, err
	}
	return NewWriter(s, true), nil
}

// Write writes rec; the first batch fixes the schema.
func (w *Writer) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if w.done {
		return fmt.Errorf("%w: writing after Close", ErrClosed)
	}
	if w.part == nil {
		p, err := w.sink.Create(ctx, Split{Index: 0, ID: "all", Rows: -1}, rec.Schema())
		if err != nil {
			return err
		}
		w.part, w.schema = p, rec.Schema()
	}
	return w.part.Write(ctx, rec)
}

// Close commits what was written (nothing, if nothing was) and closes the
// sink when the Writer owns it. After an error from Write, call Abort
// instead to leave nothing behind.
func (w *Writer) Close(ctx context.Context) error {
	if w.done {
		return nil
	}
	w.done = true
	var err error
	if w.part != nil {
		w.files, err = w.part.Commit(ctx)
		if err != nil {
			err = errors.Join(err, w.part.Abort(ctx))
		}
	}
	if w.own {
		err = errors.Join(err, w.sink.Close(ctx))
	}
	return err
}

// Abort removes what was written and closes the sink when the Writer owns
// it.
func (w *Writer) Abort(ctx context.Context) error {
	if w.done {
		return nil
	}
	w.done = true
	var err error
	if w.part != nil {
		err = w.part.Abort(ctx)
	}
	if w.own {
		err = errors.Join(err, w.sink.Close(ctx))
	}
	return err
}

// Files returns the committed files, after Close.
func (w *Writer) Files() []string { return w.files }
