// Package scheduler runs pipelines: a source, an ordered list of stages and
// a sink, streamed batch by batch through bounded queues.
//
// A [Stage] is anything that transforms record batches: a pool of Wasm UDF
// instances (*host.UDF), a pool of ONNX Runtime model actors (package gpu),
// or a Go function ([Func]).
//
//	p := scheduler.New(src, scheduler.WithMemoryBudget(512<<20)).
//		MapBatches(decode, scheduler.BatchSize(64), scheduler.Retries(2), scheduler.Bisect(true), scheduler.MaxErroredRows(100)).
//		MapBatches(model, scheduler.BatchSize(256), scheduler.GPUs(1)).
//		Write(sink).DeadLetters(dlq)
//	batch, err := p.TakeBatch(ctx, 100, 1) // try the first stage on 100 rows
//	summary, err := p.Run(ctx)             // the whole data set
//
// # Splits, batches and commits
//
// The source is read split by split ([dataset.Split]); shard i of n takes
// the splits whose Index%n == i (WithShard), and splits the sink reports as
// committed are skipped, so a rerun does only what is left. At most
// WithSplitsInFlight splits (default 4) are open at once.
//
// Each stage has its own batch size: between stages the executor re-chunks
// by slicing (zero-copy) or concatenating (a copy, with the pipeline's
// allocator) — but only within one split, never across two, so that each
// split's output can be committed whole. Small splits therefore mean small
// batches. The last batch of a split may be smaller than the batch size; a
// stage may change the row count (filter to 0 rows, explode), and the end
// of a split still travels as a batch of 0 rows when no rows are left, so
// a stage must accept an empty batch. Within a split, every stage sees the
// rows in input order and the sink receives them in input order (reorder
// buffers put the outputs of concurrent workers back in sequence), so an
// output file's contents never depend on timing.
//
// When every piece of split X has passed the last stage, X's sink part is
// committed — after X's dead-letter part, so the sink's manifest is the
// commit point. With WithOrdered, Each and TakeBatch also see the splits in
// input order; otherwise they see them as they finish.
//
// # Memory
//
// The executor counts the bytes of the Arrow buffers it holds (in queues,
// reorder buffers, re-chunking buffers and the inputs of running
// transforms, each buffer once however many slices share it) plus the
// expected size of the outputs of running transforms (the input size times
// the stage's observed output/input ratio), against WithMemoryBudget
// (default 1 GiB). The source and each stage start a batch only when it
// fits, so a slow stage back-pressures the ones before it, and each queue
// holds at most its depth (QueueDepth, default 2 × workers) plus the
// outputs of the upstream workers. Peak memory is independent of the data
// set's size.
//
// The budget is exceeded in one case only: when nothing is in progress and
// nothing may start (the budget or a queue is full of batches that wait
// for an older one: in a reorder buffer, a partial chunk, or a later
// split's output held for ordering), the oldest waiting batch is admitted
// alone; it never waits on younger work, so the pipeline keeps moving. A
// batch larger than the whole budget is admitted the same way. Both are
// counted (Summary.OverBudgetAdmissions) and warned about once.
//
// # Resources
//
// Each stage has workers (Workers; default its Concurrency() or 1), CPUs
// per worker (CPUs; default 1) and GPUs per worker (GPUs; default 0, or the
// stage's [Resources]). Asking for more GPUs than WithGPUs gives fails
// before anything starts. Asking for more CPUs than WithCPUs (default
// runtime.NumCPU) scales every CPU stage's workers down in proportion (at
// least one each) with a warning: CPUs can be shared, slowly; GPUs cannot.
//
// # Failures
//
// An error whose chain has Transient() == true (a *host.UDFError whose
// instance was replaced) is retried up to Retries times (default 2). Other
// errors, and transient ones past the retries, go to the stage's failure
// policy: with no budget (the default) the first is fatal. With a budget
// (MaxErroredBatches, MaxErroredRows, MaxErrorRate) the failing rows go to
// the dead-letter sink ([DeadLetterSchema]: the stage, the error, the
// attempts, the split, the batch, the row, and the input row as JSON) while
// the budget holds; with Bisect the failing batch is split in halves
// recursively, each half transformed on its own, so only the rows that
// fail alone are dead-lettered and their neighbours go on. Good rows plus
// dead-letter rows always equal the input rows. Past the budget the run
// stops with a *StageError naming the stage, split, batch, row and the
// stage's own message.
//
// A panic in a stage (Go code) is recovered and ends the run with
// ErrPanic, whatever the budget: the stage's state cannot be trusted. A
// failure of the source or the sink ends the run with a *StageError whose
// Stage is "source", "sink" or "dead-letter sink". The first fatal error
// cancels everything; every batch is released, every open part aborted,
// every goroutine waited for, and that error is returned.
//
// # Interruption
//
// When the context given to Run is canceled (the CLI cancels it on SIGINT
// and SIGTERM), reading stops; the splits read whole go on through the
// stages and are committed as they complete, for at most WithGrace
// (default 30 s); the rest are aborted. Run returns an *InterruptedError
// listing the committed and the uncommitted splits; the next run skips the
// committed ones.
//
// # Visibility
//
// The watchdog (WithStallTimeout, default 5 minutes) reports a stage, the
// source or the sink that has work and no progress for that long, with what
// it waits for, through the logger and the progress display, and ends the
// run with ErrStalled under WithFailOnStall. WithProgress shows one line
// per stage (rows in and out, rows/s, queue, busy workers, errors, dead
// letters, back-pressure): bars on a terminal, plain periodic lines
// otherwise. WithMetricsAddr or WithMetricsListener serves Prometheus
// metrics from a registry of the run's own. Run returns a [Summary].
//
// # Ownership and concurrency
//
// The pipeline never closes what it is given (source, stages, sinks); the
// caller closes them after the run. Batches from a Reader are released by
// the executor; a Stage's Transform does not retain or release its input
// and returns a batch the executor owns (returning the input itself is
// allowed: the executor retains it). A Part's Write does not release the
// batch. A Pipeline may be run several times, one run at a time.
//
// # Cost
//
// Per batch and stage: a few lock operations, one heap push and pop, and a
// buffer walk to count bytes; re-chunking copies only when a batch must be
// assembled from several pieces. The pass-through overhead is measured in
// BENCHMARKS-scheduler.md.
package scheduler
