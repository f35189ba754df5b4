package scheduler

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// A Stage transforms record batches: a pool of Wasm UDF instances
// (*host.UDF), a pool of model actors (gpu), or a Go function (Func).
//
// Transform may be called from several goroutines at once, up to the
// stage's concurrency. It must neither retain nor release in beyond the
// call; the batch it returns belongs to the caller. seq is the batch's
// sequence number, for error messages. The returned batch may have a
// different number of rows and a different schema from in; every call of
// one stage must return the same schema.
//
// Errors: an error whose chain holds a value with a method
// `Transient() bool` returning true (the worker that failed was replaced;
// the same batch may succeed when retried) is retried up to the stage's
// retry limit; any other error is taken to be the data's fault and goes to
// the stage's failure policy (error budget, dead letters, bisection).
type Stage interface {
	// Name names the stage in errors, progress and metrics.
	Name() string
	Transform(ctx context.Context, seq int64, in arrow.RecordBatch) (arrow.RecordBatch, error)
	// Close releases the stage's workers after the calls in flight finish.
	Close(ctx context.Context) error
}

// Concurrent is implemented by a stage whose workers are a fixed pool: the
// executor runs at most Concurrency() calls of Transform at once.
type Concurrent interface {
	Concurrency() int
}

// Resources is implemented by a stage that knows what each of its workers
// occupies (a model actor pinned to a GPU). The stage options CPUs and GPUs
// override it.
type Resources interface {
	// Resources returns the CPUs and GPUs one worker occupies.
	Resources() (cpus float64, gpus int)
}
