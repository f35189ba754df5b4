package scheduler

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// TransformFunc is the function of a Go stage (Func). It must not retain in
// past the call. It may return in itself (the executor then retains it) or
// a new batch, which the executor releases.
type TransformFunc func(ctx context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error)

// Func makes a stage of a Go function. It is safe for concurrent use when
// fn is; the stage's Workers option sets how many calls run at once
// (default 1). A panic in fn is recovered by the executor and ends the run
// with a *StageError naming the stage and the batch.
func Func(name string, fn TransformFunc) Stage { return &funcStage{name: name, fn: fn} }

type funcStage struct {
	name string
	fn   TransformFunc
}

func (f *funcStage) Name() string { return f.name }

func (f *funcStage) Transform(ctx context.Context, _ int64, in arrow.RecordBatch) (arrow.RecordBatch, error) {
	return f.fn(ctx, in)
}

func (f *funcStage) Close(context.Context) error { return nil }
