package scheduler

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/dataset"
)

// FromRecords is an in-memory source: each batch is one split (ID
// "records[i]"), read as one batch. The batches must share one schema.
//
// Ownership: the source retains the batches and releases them on Close;
// each Read hands out one more reference.
func FromRecords(recs ...arrow.RecordBatch) (dataset.Source, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: FromRecords: no batches", ErrPipeline)
	}
	for i, r := range recs {
		if !r.Schema().Equal(recs[0].Schema()) {
			return nil, fmt.Errorf("%w: FromRecords: batch %d has schema %s, batch 0 %s", ErrPipeline, i, r.Schema(), recs[0].Schema())
		}
		r.Retain()
	}
	return &recordSource{recs: recs}, nil
}

type recordSource struct{ recs []arrow.RecordBatch }

func (s *recordSource) Schema() *arrow.Schema { return s.recs[0].Schema() }

func (s *recordSource) Splits() []dataset.Split {
	out := make([]dataset.Split, len(s.recs))
	for i, r := range s.recs {
		out[i] = dataset.Split{Index: i, ID: fmt.Sprintf("records[%d]", i), Rows: r.NumRows(), Fingerprint: fmt.Sprint(r.NumRows())}
	}
	return out
}

func (s *recordSource) Open(_ context.Context, sp dataset.Split) (dataset.Reader, error) {
	if sp.Index < 0 || sp.Index >= len(s.recs) {
		return nil, fmt.Errorf("scheduler: FromRecords: no split %d", sp.Index)
	}
	return &recordReader{rec: s.recs[sp.Index]}, nil
}

func (s *recordSource) Close() error {
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
	return nil
}

type recordReader struct {
	rec  arrow.RecordBatch
	done bool
}

func (r *recordReader) Read(context.Context) (arrow.RecordBatch, error) {
	if r.done {
		return nil, io.EOF
	}
	r.done = true
	r.rec.Retain()
	return r.rec, nil
}

func (r *recordReader) Close() error { return nil }
