package scheduler

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/dataset"
)

// Pipeline is a source, an ordered list of stages and a sink. Build it with
// New, MapBatches, Write and DeadLetters; run it with Run, Each or
// TakeBatch. A Pipeline holds no run state: it may be run several times,
// one run at a time.
//
// The pipeline never closes what it is given: the source, the stages and
// the sinks stay the caller's to Close, after the run.
type Pipeline struct {
	src    dataset.Source
	cfg    config
	stages []stageSpec
	sink   dataset.Sink
	dead   dataset.Sink
	err    error
}

type stageSpec struct {
	stage Stage
	cfg   stageConfig
}

// New starts a pipeline that reads src, split by split.
func New(src dataset.Source, opts ...Option) *Pipeline {
	p := &Pipeline{src: src, cfg: defaults()}
	for _, o := range opts {
		o(&p.cfg)
	}
	if src == nil {
		p.err = fmt.Errorf("%w: no source", ErrPipeline)
	}
	return p
}

// MapBatches appends a stage: a Wasm UDF pool (*host.UDF), a model actor
// pool, or a Go function (Func). It returns p.
func (p *Pipeline) MapBatches(s Stage, opts ...StageOption) *Pipeline {
	cfg := stageDefaults()
	for _, o := range opts {
		o(&cfg)
	}
	if s == nil {
		p.setErr(fmt.Errorf("%w: stage %d is nil", ErrPipeline, len(p.stages)))
		return p
	}
	p.stages = append(p.stages, stageSpec{stage: s, cfg: cfg})
	return p
}

// Write sets the sink that receives each split's output (Run). It returns p.
func (p *Pipeline) Write(sink dataset.Sink) *Pipeline {
	p.sink = sink
	return p
}

// DeadLetters sets the sink that receives the rows that failed within a
// stage's error budget, one part per split, committed before the split's
// output; see DeadLetterSchema. It returns p.
func (p *Pipeline) DeadLetters(sink dataset.Sink) *Pipeline {
	p.dead = sink
	return p
}

func (p *Pipeline) setErr(err error) {
	if p.err == nil {
		p.err = err
	}
}

// Run streams every split of the source (of this shard, and not already
// committed in the sink) through the stages into the sink, and returns when
// every split is committed or the run failed.
//
// ctx canceled (wire SIGINT and SIGTERM to it) stops reading; the splits
// read whole go on for the grace period (WithGrace) and are committed when
// they complete; the rest are aborted. Run then returns an
// *InterruptedError listing what was committed and what was not.
//
// # Errors
//
// ErrPipeline for a pipeline without source or sink or with a bad option;
// ErrResources when the stages need more GPUs than there are; a
// *StageError naming the stage, split and batch for the first fatal error
// (a stage's error past its budget, a panic, a source or sink error); an
// *InterruptedError when ctx was canceled. The Summary is returned in every
// case after the run started (nil before).
func (p *Pipeline) Run(ctx context.Context) (*Summary, error) {
	if p.sink == nil {
		p.setErr(fmt.Errorf("%w: no sink (call Write)", ErrPipeline))
	}
	r, err := p.newRun(modeWrite, len(p.stages))
	if err != nil {
		return nil, err
	}
	return r.execute(ctx)
}

// Each streams every split of the source through the stages and calls fn
// with each output batch (no sink): in input order when the pipeline is
// ordered (WithOrdered), in any order (but in order within a split)
// otherwise. fn is never called concurrently; rec is released when fn
// returns (Retain it to keep it). An error from fn ends the run and is
// returned wrapped in a *StageError with Stage "output". Dead letters go to
// the DeadLetters sink, if any.
func (p *Pipeline) Each(ctx context.Context, fn func(rec arrow.RecordBatch) error) (*Summary, error) {
	if fn == nil {
		p.setErr(fmt.Errorf("%w: Each: nil function", ErrPipeline))
	}
	r, err := p.newRun(modeEach, len(p.stages))
	if err != nil {
		return nil, err
	}
	r.emit = fn
	return r.execute(ctx)
}

// TakeBatch runs the pipeline on the first rows rows of the source (in split
// order) through its first stages stages (0: the source's rows as read;
// len(stages): the whole chain) and returns every output row as one batch,
// in input order, for trying UDFs before a long run. Nothing is written:
// neither the sink nor the dead-letter sink is used, and the first error of
// any stage is returned (every error budget is 0).
//
// Ownership: the batch is the caller's to Release; it is allocated with the
// pipeline's allocator. A batch of 0 rows is returned when no row came out.
func (p *Pipeline) TakeBatch(ctx context.Context, rows int64, stages int) (arrow.RecordBatch, error) {
	if rows < 1 {
		p.setErr(fmt.Errorf("%w: TakeBatch: rows %d: want at least 1", ErrPipeline, rows))
	}
	if stages < 0 || stages > len(p.stages) {
		p.setErr(fmt.Errorf("%w: TakeBatch: stages %d: the pipeline has %d", ErrPipeline, stages, len(p.stages)))
	}
	r, err := p.newRun(modeTake, stages)
	if err != nil {
		return nil, err
	}
	r.limit = rows
	var out []arrow.RecordBatch
	defer func() {
		for _, b := range out {
			b.Release()
		}
	}()
	var schema *arrow.Schema
	r.emit = func(rec arrow.RecordBatch) error {
		schema = rec.Schema()
		if rec.NumRows() > 0 {
			rec.Retain()
			out = append(out, rec)
		}
		return nil
	}
	if _, err := r.execute(ctx); err != nil {
		var ie *InterruptedError
		if errors.As(err, &ie) {
			return nil, ie.Err
		}
		return nil, err
	}
	if schema == nil {
		schema = r.outSchema
	}
	if schema == nil {
		return nil, fmt.Errorf("%w: TakeBatch: the source has no splits", ErrPipeline)
	}
	return concatRecords(r.cfg.alloc, schema, out)
}

// concatRecords joins recs (each of schema) into one new batch.
func concatRecords(alloc memory.Allocator, schema *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	switch len(recs) {
	case 0:
		b := array.NewRecordBuilder(alloc, schema)
		defer b.Release()
		return b.NewRecordBatch(), nil
	case 1:
		recs[0].Retain()
		return recs[0], nil
	}
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	var rows int64
	for _, r := range recs {
		if !r.Schema().Equal(schema) {
			return nil, fmt.Errorf("concatenating batches: schema %s differs from %s", r.Schema(), schema)
		}
		rows += r.NumRows()
	}
	parts := make([]arrow.Array, len(recs))
	for c := range cols {
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		var err error
		if cols[c], err = array.Concatenate(parts, alloc); err != nil {
			return nil, fmt.Errorf("concatenating column %q: %w", schema.Field(c).Name, err)
		}
	}
	return array.NewRecordBatch(schema, cols, rows), nil
}
