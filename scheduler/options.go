package scheduler

import (
	"io"
	"log/slog"
	"net"
	"runtime"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Option configures a pipeline (New).
type Option func(*config)

type config struct {
	budget          int64
	ordered         bool
	shard, shards   int
	splitsInFlight  int
	cpus            int
	gpus            int
	alloc           memory.Allocator
	logger          *slog.Logger
	progress        io.Writer
	progressEvery   time.Duration
	terminal        int // -1 detect, 0 plain lines, 1 bars
	stall           time.Duration
	failOnStall     bool
	grace           time.Duration
	metricsAddr     string
	metricsListener net.Listener
	queueDepth      int
}

// Defaults, one place.
const (
	// DefaultMemoryBudget is the default budget of in-flight Arrow bytes.
	DefaultMemoryBudget = 1 << 30
	// DefaultBatchSize is a stage's default batch size, in rows.
	DefaultBatchSize = 1024
	// DefaultRetries is a stage's default number of retries of a batch after
	// a transient failure.
	DefaultRetries = 2
	// DefaultStallTimeout is the default watchdog period.
	DefaultStallTimeout = 5 * time.Minute
	// DefaultGrace is how long an interrupted run goes on finishing the
	// splits it has read whole.
	DefaultGrace = 30 * time.Second
	// DefaultErrorRateMinRows is the number of rows a stage must have
	// received before MaxErrorRate is checked while the run goes on.
	DefaultErrorRateMinRows = 1000
)

func defaults() config {
	return config{
		budget:         DefaultMemoryBudget,
		splitsInFlight: 4,
		cpus:           runtime.NumCPU(),
		alloc:          memory.DefaultAllocator,
		logger:         slog.Default(),
		progressEvery:  10 * time.Second,
		terminal:       -1,
		stall:          DefaultStallTimeout,
		grace:          DefaultGrace,
	}
}

// WithMemoryBudget bounds the bytes of Arrow data in flight: batches in
// queues, reorder buffers and re-chunking buffers, inputs of running
// transforms and the expected size of their outputs. Default 1 GiB
// (DefaultMemoryBudget). A producer (the source reader or a stage's worker)
// waits while the budget is used; see the package documentation for the
// one case where the budget is exceeded.
func WithMemoryBudget(bytes int64) Option { return func(c *config) { c.budget = bytes } }

// WithOrdered makes the output order equal the input order across splits,
// for Each and TakeBatch. Default false. Output within one split is always
// in input order, and a sink always receives each split's rows in input
// order, ordered or not.
func WithOrdered(on bool) Option { return func(c *config) { c.ordered = on } }

// WithShard runs shard i of n: only the splits whose Index%n == i.
// Default shard 0 of 1 (every split).
func WithShard(i, n int) Option { return func(c *config) { c.shard, c.shards = i, n } }

// WithSplitsInFlight bounds the splits being read, transformed or written at
// once, hence the sink parts open at once. Default 4.
func WithSplitsInFlight(n int) Option { return func(c *config) { c.splitsInFlight = n } }

// WithCPUs sets the number of CPUs the stages' workers may occupy. Default
// runtime.NumCPU().
func WithCPUs(n int) Option { return func(c *config) { c.cpus = n } }

// WithGPUs sets the number of GPUs the stages' workers may occupy. Default
// 0 (package gpu detects them; the caller passes the count).
func WithGPUs(n int) Option { return func(c *config) { c.gpus = n } }

// WithAllocator allocates the batches the executor creates (concatenations
// when re-chunking, dead-letter batches, TakeBatch's result). Default
// memory.DefaultAllocator.
func WithAllocator(a memory.Allocator) Option { return func(c *config) { c.alloc = a } }

// WithLogger receives warnings (capped resources, an oversized batch, a
// stalled stage) and the dead-letter notices. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithProgress shows progress on w: one bar per stage when w is a terminal,
// a plain line per stage every interval otherwise (0 keeps the default,
// 10 s). Default: no progress (nil).
func WithProgress(w io.Writer, interval time.Duration) Option {
	return func(c *config) {
		c.progress = w
		if interval > 0 {
			c.progressEvery = interval
		}
	}
}

// WithStallTimeout sets the watchdog: a stage (or the source, or the sink)
// that has work and makes no progress for d is reported by name, with what
// it waits for. Default 5 minutes (DefaultStallTimeout); 0 turns the
// watchdog off.
func WithStallTimeout(d time.Duration) Option { return func(c *config) { c.stall = d } }

// WithFailOnStall makes a stall reported by the watchdog end the run with
// ErrStalled. Default false (report only).
func WithFailOnStall(on bool) Option { return func(c *config) { c.failOnStall = on } }

// WithGrace sets how long an interrupted run (the context given to Run is
// canceled) goes on transforming and committing the splits it has read
// whole before it stops them. Default 30 s (DefaultGrace); 0 stops at once.
func WithGrace(d time.Duration) Option { return func(c *config) { c.grace = d } }

// WithMetricsAddr serves Prometheus metrics at http://addr/metrics while the
// run lasts. Default: no endpoint.
func WithMetricsAddr(addr string) Option { return func(c *config) { c.metricsAddr = addr } }

// WithMetricsListener serves Prometheus metrics on ln while the run lasts,
// and closes ln when the run ends. Default: no endpoint.
func WithMetricsListener(ln net.Listener) Option {
	return func(c *config) { c.metricsListener = ln }
}

// WithQueueDepth sets the default number of batches queued before each
// stage (a stage's QueueDepth overrides it). Default 2 × the stage's
// workers.
func WithQueueDepth(n int) Option { return func(c *config) { c.queueDepth = n } }

// StageOption configures one stage (MapBatches).
type StageOption func(*stageConfig)

type stageConfig struct {
	batchSize        int
	workers          int
	cpus             float64
	gpus             int
	retries          int
	maxBatches       int64
	maxRows          int64
	maxRate          float64
	rateMinRows      int64
	bisect           bool
	queueDepth       int
	resourcesFromOpt bool
}

func stageDefaults() stageConfig {
	return stageConfig{
		batchSize:   DefaultBatchSize,
		cpus:        1,
		retries:     DefaultRetries,
		rateMinRows: DefaultErrorRateMinRows,
	}
}

// BatchSize sets the rows per batch the stage receives; the executor
// re-chunks within each split (the last batch of a split may be smaller).
// Default 1024 (DefaultBatchSize); 0 passes batches on as they arrive.
func BatchSize(rows int) StageOption { return func(c *stageConfig) { c.batchSize = rows } }

// Workers sets how many Transform calls of the stage run at once. Default
// the stage's Concurrency() when it implements Concurrent, else 1.
func Workers(n int) StageOption { return func(c *stageConfig) { c.workers = n } }

// CPUs sets the CPUs each worker occupies (for the resource check).
// Default 1 (0 for a stage whose Resources say so).
func CPUs(n float64) StageOption {
	return func(c *stageConfig) { c.cpus = n; c.resourcesFromOpt = true }
}

// GPUs sets the GPUs each worker occupies (for the resource check).
// Default 0, or what the stage's Resources say.
func GPUs(n int) StageOption {
	return func(c *stageConfig) { c.gpus = n; c.resourcesFromOpt = true }
}

// Retries sets how many times a batch is retried after a transient failure
// (an error whose Transient() is true: the worker was replaced). Default 2
// (DefaultRetries).
func Retries(n int) StageOption { return func(c *stageConfig) { c.retries = n } }

// MaxErroredBatches lets up to n batches fail (after retries) without
// stopping the run; their failing rows go to the dead-letter sink. Default
// 0: the first failure is fatal.
func MaxErroredBatches(n int64) StageOption { return func(c *stageConfig) { c.maxBatches = n } }

// MaxErroredRows lets up to n rows fail (after retries) without stopping the
// run; they go to the dead-letter sink. Default 0: the first failure is
// fatal.
func MaxErroredRows(n int64) StageOption { return func(c *stageConfig) { c.maxRows = n } }

// MaxErrorRate lets errored rows go to the dead-letter sink while they are
// at most rate (0..1) of the rows the stage received. The rate is checked
// as errors happen once the stage has received minRows rows (0 keeps the
// default, 1000), and once more when the run ends. Default 0 (off).
func MaxErrorRate(rate float64, minRows int64) StageOption {
	return func(c *stageConfig) {
		c.maxRate = rate
		if minRows > 0 {
			c.rateMinRows = minRows
		}
	}
}

// Bisect isolates the failing rows of a failed batch by splitting it in
// halves recursively, each half transformed on its own: good rows go on,
// only the failing rows go to the dead-letter sink. Default off: the whole
// batch is dead-lettered.
func Bisect(on bool) StageOption { return func(c *stageConfig) { c.bisect = on } }

// QueueDepth sets how many batches wait before the stage. Default 2 × the
// stage's workers (or the pipeline's WithQueueDepth).
func QueueDepth(n int) StageOption { return func(c *stageConfig) { c.queueDepth = n } }
