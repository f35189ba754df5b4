package gpu

import (
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Option configures Load.
type Option func(*config)

// GraphOptimization is ONNX Runtime's graph optimization level.
type GraphOptimization int

// Graph optimization levels (ONNX Runtime's GraphOptimizationLevel).
const (
	OptimizeAll      GraphOptimization = iota // every optimization (the default)
	OptimizeDisable                           // none
	OptimizeBasic                             // constant folding, redundant node removal
	OptimizeExtended                          // and operator fusions
)

func (g GraphOptimization) String() string {
	switch g {
	case OptimizeAll:
		return "all"
	case OptimizeDisable:
		return "disable"
	case OptimizeBasic:
		return "basic"
	case OptimizeExtended:
		return "extended"
	}
	return fmt.Sprintf("GraphOptimization(%d)", int(g))
}

// ParseGraphOptimization parses "all", "extended", "basic" or "disable"
// (also "none").
func ParseGraphOptimization(s string) (GraphOptimization, error) {
	switch strings.ToLower(s) {
	case "", "all":
		return OptimizeAll, nil
	case "extended":
		return OptimizeExtended, nil
	case "basic":
		return OptimizeBasic, nil
	case "disable", "none", "off":
		return OptimizeDisable, nil
	}
	return 0, fmt.Errorf("%w: graph optimization %q: want all, extended, basic or disable", ErrOption, s)
}

// CUDAOptions are the CUDA execution provider's options for every CUDA actor.
// A zero field keeps ONNX Runtime's default.
type CUDAOptions struct {
	// MemoryLimit caps the provider's memory arena on each GPU, in bytes
	// (gpu_mem_limit). Default 0: no limit.
	MemoryLimit int64
	// ConvAlgoSearch is cuDNN's convolution algorithm search:
	// "EXHAUSTIVE" (ONNX Runtime's default), "HEURISTIC" or "DEFAULT"
	// (cudnn_conv_algo_search).
	ConvAlgoSearch string
	// ConvUseMaxWorkspace lets cuDNN use as much workspace as it wants
	// (cudnn_conv_use_max_workspace). Default: ONNX Runtime's (on).
	ConvUseMaxWorkspace *bool
	// Extra holds any other provider option by its ONNX Runtime name, for
	// example "arena_extend_strategy": "kSameAsRequested". device_id is set
	// by the pool and cannot be given here.
	Extra map[string]string
}

func (o CUDAOptions) providerOptions(device int) map[string]string {
	m := maps.Clone(o.Extra)
	if m == nil {
		m = map[string]string{}
	}
	m["device_id"] = fmt.Sprint(device)
	if o.MemoryLimit > 0 {
		m["gpu_mem_limit"] = fmt.Sprint(o.MemoryLimit)
	}
	if o.ConvAlgoSearch != "" {
		m["cudnn_conv_algo_search"] = strings.ToUpper(o.ConvAlgoSearch)
	}
	if o.ConvUseMaxWorkspace != nil {
		m["cudnn_conv_use_max_workspace"] = map[bool]string{false: "0", true: "1"}[*o.ConvUseMaxWorkspace]
	}
	return m
}

type config struct {
	name        string
	library     string
	actors      int
	device      string
	gpusPer     float64
	cpuFallback bool
	cuda        CUDAOptions
	cpus        int
	intraOp     int
	interOp     int
	optLevel    GraphOptimization
	spinning    bool
	optCache    string
	inputs      map[string]string
	outputs     map[string]string
	keep        []string
	keepSet     bool
	warmShapes  map[string][]int64
	alloc       memory.Allocator
	logger      *slog.Logger
	gpuCount    func() int
}

func defaults(path string) config {
	base := filepath.Base(path)
	return config{
		name:     strings.TrimSuffix(base, filepath.Ext(base)),
		actors:   1,
		device:   "cpu",
		gpusPer:  1,
		cpus:     runtime.NumCPU(),
		alloc:    memory.DefaultAllocator,
		logger:   slog.New(slog.DiscardHandler),
		gpuCount: CountGPUs,
	}
}

// WithName names the stage in errors and logs. Default: the model file's
// name without its extension ("digits" for digits.onnx).
func WithName(name string) Option { return func(c *config) { c.name = name } }

// WithLibrary names the ONNX Runtime shared library file. Default: the
// lookup of [FindLibrary] ($WASINFER_ORT_LIB, then the per-user cache). The
// library is loaded once per process: every pool of the process must name
// the same file.
func WithLibrary(path string) Option { return func(c *config) { c.library = path } }

// WithActors sets the number of actors, each with its own session. Default 1.
// All are created and warmed up by Load.
func WithActors(n int) Option { return func(c *config) { c.actors = n } }

// WithDevice puts the actors on "cpu" (the default), "cuda" (GPUs assigned
// by the pool: actor i gets GPU floor(i × GPUs per actor)), or "cuda:N" (all
// on GPU N). A CUDA device needs a CUDA build of ONNX Runtime (see the
// package documentation).
func WithDevice(device string) Option { return func(c *config) { c.device = device } }

// WithGPUsPerActor sets how much of a GPU each actor reserves, like Ray's
// num_gpus: 1 (the default) gives each actor a GPU of its own, 0.5 puts two
// actors on each GPU. More than 1 is refused: a session runs on one GPU.
func WithGPUsPerActor(n float64) Option { return func(c *config) { c.gpusPer = n } }

// WithCPUFallback lets an actor run on the CPU when its GPU does not exist
// or the CUDA provider cannot be used there. Default: off, such an actor is
// an error before anything runs. Devices reports where each actor ended up.
func WithCPUFallback() Option { return func(c *config) { c.cpuFallback = true } }

// WithCUDAOptions sets the CUDA execution provider's options. Default: ONNX
// Runtime's.
func WithCUDAOptions(o CUDAOptions) Option { return func(c *config) { c.cuda = o } }

// WithCPUs sets how many CPU cores the stage may keep busy, the budget the
// default intra-op thread count is divided from. Default runtime.NumCPU();
// give it the cores the UDF pools leave free so that the two do not
// oversubscribe the machine.
func WithCPUs(n int) Option { return func(c *config) { c.cpus = n } }

// WithIntraOpThreads sets each session's intra-op thread count (the threads
// one operator is split over). Default max(1, CPUs / actors) (see WithCPUs),
// so that actors × threads never exceeds the stage's cores.
func WithIntraOpThreads(n int) Option { return func(c *config) { c.intraOp = n } }

// WithInterOpThreads sets each session's inter-op thread count (used only
// when independent operators run in parallel). Default 1: sessions run
// their graph sequentially.
func WithInterOpThreads(n int) Option { return func(c *config) { c.interOp = n } }

// WithSpinning lets the sessions' intra-op and inter-op worker threads spin
// while they wait for work (ONNX Runtime's session.intra_op.allow_spinning
// and session.inter_op.allow_spinning). Default: off, because a model stage
// shares the machine with UDF pools and other stages, and spinning workers
// keep cores busy between batches; on can lower the latency of a stage that
// has the machine to itself. It matters only with more than one thread.
func WithSpinning(on bool) Option { return func(c *config) { c.spinning = on } }

// WithGraphOptimization sets the graph optimization level. Default
// OptimizeAll.
func WithGraphOptimization(level GraphOptimization) Option {
	return func(c *config) { c.optLevel = level }
}

// WithOptimizedModelCache keeps the optimized graph in a file: the first
// Load writes it (path, plus path.key naming the model's sha256, the level,
// the devices, the CPU and the ONNX Runtime version it was made for), and a later
// Load whose key matches loads it with graph optimization off, skipping the
// optimization work. Default: no cache. A model with external data is never
// cached (the optimized file would not find its data).
func WithOptimizedModelCache(path string) Option { return func(c *config) { c.optCache = path } }

// WithInputs maps model input names to column names. A model input that is
// not in the map is read from the column of its own name. Default: every
// input from the column of its name.
func WithInputs(m map[string]string) Option { return func(c *config) { c.inputs = maps.Clone(m) } }

// WithOutputs selects model outputs and names their columns: only the
// outputs in the map are computed, each into the column the map names
// ("" keeps the output's name). Default: every output, each into the column
// of its name.
func WithOutputs(m map[string]string) Option { return func(c *config) { c.outputs = maps.Clone(m) } }

// WithKeep names the input columns passed through to the output batch,
// before the model's outputs, in the order given; WithKeep() with no names
// keeps none. Default: every input column no model input reads (an id or a
// label travels on; the pixels fed to the model do not).
func WithKeep(columns ...string) Option {
	return func(c *config) { c.keep, c.keepSet = slices.Clone(columns), true }
}

// WithWarmupShape sets the shape of the zeros fed to input name in the
// warm-up run, batch dimension included. Default: the input's shape with 1
// for each symbolic dimension. Give one when 1 is not a size the model
// accepts (an image model that needs 32 × 32 at least).
func WithWarmupShape(input string, shape ...int64) Option {
	return func(c *config) {
		if c.warmShapes == nil {
			c.warmShapes = map[string][]int64{}
		}
		c.warmShapes[input] = slices.Clone(shape)
	}
}

// WithAllocator allocates the output columns. Default
// memory.DefaultAllocator.
func WithAllocator(a memory.Allocator) Option { return func(c *config) { c.alloc = a } }

// WithLogger receives the stage's start-up report and actor restarts.
// Default: none.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// check validates the options that need no model.
func (c *config) check() error {
	switch {
	case c.actors < 1:
		return fmt.Errorf("%w: %d actors: want at least 1", ErrOption, c.actors)
	case c.cpus < 1:
		return fmt.Errorf("%w: %d CPUs: want at least 1", ErrOption, c.cpus)
	case c.intraOp < 0:
		return fmt.Errorf("%w: %d intra-op threads: want at least 1 (0 for the default)", ErrOption, c.intraOp)
	case c.interOp < 0:
		return fmt.Errorf("%w: %d inter-op threads: want at least 1 (0 for the default)", ErrOption, c.interOp)
	case c.optLevel < OptimizeAll || c.optLevel > OptimizeExtended:
		return fmt.Errorf("%w: graph optimization level %d", ErrOption, int(c.optLevel))
	case c.alloc == nil:
		return fmt.Errorf("%w: nil allocator", ErrOption)
	}
	if _, ok := c.cuda.Extra["device_id"]; ok {
		return fmt.Errorf("%w: CUDA option device_id is set by the pool from the device; use WithDevice", ErrOption)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
