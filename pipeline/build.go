package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/gpu"
	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/manifest"
	"github.com/wasinfer/wasinfer/scheduler"
	"github.com/wasinfer/wasinfer/sign"
)

// Mode says what a Job is opened for.
type Mode int

const (
	// ModeRun opens everything: source, stages, sink and dead-letter sink.
	ModeRun Mode = iota
	// ModePeek opens the source and the stages, and no sink: for
	// TakeBatch (wasinfer peek) and validation.
	ModePeek
)

// BuildOption configures Open.
type BuildOption func(*buildConfig)

type buildConfig struct {
	logger    *slog.Logger
	ortLib    string
	alloc     memory.Allocator
	progress  io.Writer
	interval  time.Duration
	gpus      int
	policy    *sign.Policy
	shard     *dataset.ShardSpec
	noMetrics bool
}

// WithLogger receives the run's log: guest output, warnings, dead letters.
// Default slog.Default().
func WithLogger(l *slog.Logger) BuildOption { return func(c *buildConfig) { c.logger = l } }

// WithORTLibrary is the ONNX Runtime shared library for model stages.
// Default: found by gpu.FindLibrary (WASINFER_ORT_LIB, then the cache).
func WithORTLibrary(path string) BuildOption { return func(c *buildConfig) { c.ortLib = path } }

// WithAllocator allocates the batches the stages and executor create.
// Default memory.DefaultAllocator.
func WithAllocator(a memory.Allocator) BuildOption { return func(c *buildConfig) { c.alloc = a } }

// WithProgress shows per-stage progress on w every interval (bars on a
// terminal). Default: none. run.progress: none in the spec overrides it.
func WithProgress(w io.Writer, interval time.Duration) BuildOption {
	return func(c *buildConfig) { c.progress, c.interval = w, interval }
}

// WithGPUs sets the number of GPUs the stages may use. Default: the GPUs
// found on the machine (gpu.CountGPUs).
func WithGPUs(n int) BuildOption { return func(c *buildConfig) { c.gpus = n } }

// WithShard runs shard index of count (overriding source.shard).
func WithShard(index, count int) BuildOption {
	return func(c *buildConfig) { c.shard = &dataset.ShardSpec{Index: index, Count: count} }
}

// WithoutMetrics ignores run.metrics (for peek and validate).
func WithoutMetrics() BuildOption { return func(c *buildConfig) { c.noMetrics = true } }

// A Job is a pipeline spec opened for running: its source, its stages
// loaded (UDF pools instantiated, model actors started and warmed) and,
// in ModeRun, its sinks. Close releases everything.
type Job struct {
	Spec       *Spec
	Source     dataset.Source
	Sink       dataset.Sink // nil in ModePeek
	DeadLetter dataset.Sink // nil without a dead_letter output, and in ModePeek
	Pipeline   *scheduler.Pipeline
	// Stages are the loaded stages, in order.
	Stages []LoadedStage
	// Startup is the wall time Open took (loading stages in parallel).
	Startup time.Duration
}

// LoadedStage is one stage of a Job.
type LoadedStage struct {
	Name  string
	Kind  string // "udf" or "model"
	Stage scheduler.Stage
	// Startup is how long loading this stage took.
	Startup time.Duration
	// Model is the model's description (model stages).
	Model *gpu.ModelInfo
}

// Open opens what the spec names and builds its pipeline. Stages load in
// parallel (a UDF compiles once, then instantiates its pool; a model
// starts and warms every actor), so start-up takes as long as the slowest
// stage, not the sum.
//
// # Errors
//
// Every stage that fails to load is reported, as an *Error whose problems
// point at the stage in the spec file (line and column), with the cause.
func Open(ctx context.Context, s *Spec, mode Mode, opts ...BuildOption) (*Job, error) {
	cfg := buildConfig{logger: slog.Default(), alloc: memory.DefaultAllocator, gpus: -1}
	for _, o := range opts {
		o(&cfg)
	}
	start := time.Now()
	j := &Job{Spec: s}
	ps := &problems{file: s.file}
	ok := false
	defer func() {
		if !ok {
			_ = j.Close(context.WithoutCancel(ctx))
		}
	}()

	if s.Run.RequireSigned != "" {
		path, err := s.ResolvePath(s.Run.RequireSigned)
		if err == nil {
			cfg.policy, err = sign.LoadPolicy(path)
		}
		if err != nil {
			s.buildProblem(ps, "run.require_signed", err)
			return nil, ps.err()
		}
	}
	src, err := dataset.OpenSource(ctx, s.Source, s.dir)
	if err != nil {
		s.buildProblem(ps, "source", err)
		return nil, ps.err()
	}
	j.Source = src

	j.Stages = make([]LoadedStage, len(s.Stages))
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, max(1, runtime.NumCPU()))
	for i := range s.Stages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t0 := time.Now()
			ls, path, err := s.loadStage(ctx, i, &cfg)
			ls.Startup = time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				s.buildProblem(ps, path, err)
				return
			}
			j.Stages[i] = ls
		}()
	}
	wg.Wait()
	if err := ps.err(); err != nil {
		return nil, err
	}

	shard := cfg.shard
	if shard == nil {
		shard = s.Source.Shard
	}
	if mode == ModeRun {
		sinkSpec := s.Sink
		if sinkSpec.Shard == nil && shard != nil {
			sinkSpec.Shard = shard
		}
		if j.Sink, err = dataset.OpenSinkSpec(ctx, sinkSpec, s.dir); err != nil {
			s.buildProblem(ps, "sink", err)
		}
		if s.DeadLetter != nil {
			dl := *s.DeadLetter
			if dl.Shard == nil && shard != nil {
				dl.Shard = shard
			}
			if j.DeadLetter, err = dataset.OpenSinkSpec(ctx, dl, s.dir); err != nil {
				s.buildProblem(ps, "dead_letter", err)
			}
		}
		if err := ps.err(); err != nil {
			return nil, err
		}
	}

	j.Pipeline = scheduler.New(src, s.schedulerOptions(&cfg, shard)...)
	for i, ls := range j.Stages {
		j.Pipeline.MapBatches(ls.Stage, s.stageOptions(i)...)
	}
	if mode == ModeRun {
		j.Pipeline.Write(j.Sink)
		if j.DeadLetter != nil {
			j.Pipeline.DeadLetters(j.DeadLetter)
		}
	}
	j.Startup = time.Since(start)
	ok = true
	return j, nil
}

// Close closes the stages, the sinks and the source; it returns the first
// error.
func (j *Job) Close(ctx context.Context) error {
	var errs []error
	for _, ls := range j.Stages {
		if ls.Stage != nil {
			errs = append(errs, ls.Stage.Close(ctx))
		}
	}
	if j.Sink != nil {
		errs = append(errs, j.Sink.Close(ctx))
	}
	if j.DeadLetter != nil {
		errs = append(errs, j.DeadLetter.Close(ctx))
	}
	if j.Source != nil {
		errs = append(errs, j.Source.Close())
	}
	return errors.Join(errs...)
}

func (s *Spec) buildProblem(ps *problems, path string, err error) {
	line, col := s.where(path)
	ps.add(line, col, path, "%v", err)
}

// loadStage loads stage i; on error it returns the setting to blame.
func (s *Spec) loadStage(ctx context.Context, i int, cfg *buildConfig) (LoadedStage, string, error) {
	st := &s.Stages[i]
	p := stagePath(i)
	if st.UDF != "" {
		mod, err := s.fetchModule(ctx, i, cfg)
		if err != nil {
			return LoadedStage{}, p + ".udf", err
		}
		if cfg.policy != nil {
			if err := mod.verifySigned(cfg.policy); err != nil {
				return LoadedStage{}, p + ".udf", err
			}
		}
		opts := []host.Option{host.WithName(st.Name), host.WithLogger(cfg.logger), host.WithAllocator(cfg.alloc)}
		if st.Concurrency > 0 {
			opts = append(opts, host.WithPoolSize(st.Concurrency))
		}
		if st.MemoryLimit > 0 {
			opts = append(opts, host.WithMemoryLimit(int64(st.MemoryLimit)))
		}
		if st.Timeout > 0 {
			opts = append(opts, host.WithTimeout(st.Timeout.D()))
		}
		if st.Config != nil {
			js, err := json.Marshal(st.Config)
			if err != nil {
				return LoadedStage{}, p + ".config", fmt.Errorf("config cannot be written as JSON: %w", err)
			}
			opts = append(opts, host.WithConfig(js))
		}
		if dir := s.Run.CacheDir; dir != "" {
			d, err := s.ResolvePath(dir)
			if err != nil {
				return LoadedStage{}, "run.cache_dir", err
			}
			opts = append(opts, host.WithCacheDir(d))
		}
		if mod.manifest != nil {
			if man, err := manifest.Parse(mod.manifest); err == nil {
				if err := checkCapabilities(man, st.Grant); err != nil {
					return LoadedStage{}, p + ".grant", err
				}
			}
		}
		grants, err := s.grantOptions(st.Grant)
		if err != nil {
			return LoadedStage{}, p + ".grant", err
		}
		opts = append(opts, grants...)
		u, err := host.Load(ctx, mod.wasm, opts...)
		if err != nil {
			return LoadedStage{}, p + ".udf", err
		}
		return LoadedStage{Name: st.Name, Kind: "udf", Stage: u}, "", nil
	}
	path, err := s.ResolvePath(st.Model)
	if err != nil {
		return LoadedStage{}, p + ".model", err
	}
	opts := []gpu.Option{gpu.WithName(st.Name), gpu.WithLogger(cfg.logger), gpu.WithAllocator(cfg.alloc)}
	if cfg.ortLib != "" {
		opts = append(opts, gpu.WithLibrary(cfg.ortLib))
	}
	if st.Actors > 0 {
		opts = append(opts, gpu.WithActors(st.Actors))
	}
	if st.Device != "" {
		opts = append(opts, gpu.WithDevice(st.Device))
	}
	if st.NumGPUs > 0 {
		opts = append(opts, gpu.WithGPUsPerActor(float64(st.NumGPUs)))
	}
	if st.CPUFallback {
		opts = append(opts, gpu.WithCPUFallback())
	}
	if st.Threads > 0 {
		opts = append(opts, gpu.WithIntraOpThreads(st.Threads))
	}
	if len(st.Inputs) > 0 {
		opts = append(opts, gpu.WithInputs(st.Inputs))
	}
	if len(st.Outputs) > 0 {
		opts = append(opts, gpu.WithOutputs(st.Outputs))
	}
	if st.Keep != nil {
		opts = append(opts, gpu.WithKeep(st.Keep...))
	}
	pool, err := gpu.Load(ctx, path, opts...)
	if err != nil {
		return LoadedStage{}, p + ".model", err
	}
	return LoadedStage{Name: st.Name, Kind: "model", Stage: pool, Model: pool.Model()}, "", nil
}

func (s *Spec) schedulerOptions(cfg *buildConfig, shard *dataset.ShardSpec) []scheduler.Option {
	r := &s.Run
	opts := []scheduler.Option{
		scheduler.WithLogger(cfg.logger),
		scheduler.WithAllocator(cfg.alloc),
		scheduler.WithOrdered(r.Ordered),
	}
	if r.MemoryBudget > 0 {
		opts = append(opts, scheduler.WithMemoryBudget(int64(r.MemoryBudget)))
	}
	if r.QueueDepth > 0 {
		opts = append(opts, scheduler.WithQueueDepth(r.QueueDepth))
	}
	if r.Watchdog != 0 || s.pos != nil && hasKey(s.pos, "run.watchdog") {
		opts = append(opts, scheduler.WithStallTimeout(r.Watchdog.D()))
	}
	opts = append(opts, scheduler.WithFailOnStall(r.WatchdogFail))
	if r.Metrics != "" && !cfg.noMetrics {
		opts = append(opts, scheduler.WithMetricsAddr(r.Metrics))
	}
	if cfg.progress != nil && r.Progress != "none" {
		opts = append(opts, scheduler.WithProgress(cfg.progress, cfg.interval))
	}
	gpus := cfg.gpus
	if gpus < 0 {
		gpus = gpu.CountGPUs()
	}
	opts = append(opts, scheduler.WithGPUs(gpus))
	if shard != nil {
		opts = append(opts, scheduler.WithShard(shard.Index, shard.Count))
	}
	return opts
}

func hasKey(d *decoder, path string) bool {
	_, ok := d.keys[path]
	return ok
}

func (s *Spec) stageOptions(i int) []scheduler.StageOption {
	st := &s.Stages[i]
	var opts []scheduler.StageOption
	batch := st.BatchSize
	if batch == 0 {
		batch = s.Source.BatchSize
	}
	if batch > 0 {
		opts = append(opts, scheduler.BatchSize(batch))
	}
	if st.CPUs > 0 {
		opts = append(opts, scheduler.CPUs(st.CPUs))
	}
	if st.Model != "" && st.NumGPUs > 0 {
		opts = append(opts, scheduler.GPUs(st.NumGPUs))
	}
	e := &st.OnError
	if e.Retries != nil {
		opts = append(opts, scheduler.Retries(*e.Retries))
	}
	if e.MaxErroredRows > 0 {
		opts = append(opts, scheduler.MaxErroredRows(e.MaxErroredRows))
	}
	if e.MaxErroredBatches > 0 {
		opts = append(opts, scheduler.MaxErroredBatches(e.MaxErroredBatches))
	}
	if e.MaxErrorRate > 0 {
		opts = append(opts, scheduler.MaxErrorRate(e.MaxErrorRate, 0))
	}
	if e.Bisect {
		opts = append(opts, scheduler.Bisect(true))
	}
	return opts
}

// StageNames lists the stages' names in order.
func (s *Spec) StageNames() []string {
	names := make([]string, len(s.Stages))
	for i, st := range s.Stages {
		names[i] = st.Name
	}
	return names
}

// LocatedError is a run error placed in the spec file: the stage (or the
// source or sink) it happened in, with that setting's line and column.
type LocatedError struct {
	File         string
	Line, Column int
	Err          error
}

func (e *LocatedError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *LocatedError) Unwrap() error { return e.Err }

// Locate places err in the spec file when it names a stage (a
// *scheduler.StageError), so the user sees which entry of the file to
// look at; other errors are returned as they are.
func (s *Spec) Locate(err error) error {
	var se *scheduler.StageError
	if !errors.As(err, &se) {
		return err
	}
	path := ""
	switch se.Stage {
	case "source", "sink":
		path = se.Stage
	default:
		i := s.stageIndex(se.Stage)
		if i < 0 {
			return err
		}
		path = stagePath(i)
	}
	line, col := s.where(path)
	if line == 0 {
		return err
	}
	return &LocatedError{File: s.file, Line: line, Column: col, Err: err}
}

// StageIndex returns the index of the stage named name (or "stages[N]"),
// or -1.
func (s *Spec) StageIndex(name string) int { return s.stageIndex(name) }
