package vet

import (
	"io/fs"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero"
)

// Option configures Module.
type Option func(*config)

type config struct {
	path           string
	manifest       []byte
	manifestSource string
	dir            fs.FS
	sweep          Sweep
	sweepName      string
	seed           uint64
	timeFactor     float64
	timeout        time.Duration
	logger         *slog.Logger
	cache          wazero.CompilationCache
	alloc          memory.Allocator
}

// DefaultTimeFactor is how many times the declared ns_per_row the measured
// time per row may be (WithTimeFactor). The hint says what a module
// typically costs on an unloaded machine; the factor absorbs a slower or
// busy machine (vetting the library must pass on a loaded 2-core machine
// under -race), so only a hint that is off by an order of magnitude fails.
const DefaultTimeFactor = 20

// DefaultTimeout is the deadline of each call into the module
// (WithTimeout).
const DefaultTimeout = 30 * time.Second

func defaults() config {
	return config{
		sweep:      SweepFull,
		sweepName:  "full",
		seed:       1,
		timeFactor: DefaultTimeFactor,
		timeout:    DefaultTimeout,
		logger:     slog.New(slog.DiscardHandler),
		alloc:      memory.DefaultAllocator,
	}
}

// WithPath says where the module was read from: its sidecar manifest
// (manifest.SidecarPath) is looked for there when the module has no
// embedded one, vector files are read relative to its directory, and
// reports name it. Default: none (embedded manifest, inline vectors only).
func WithPath(path string) Option { return func(c *config) { c.path = path } }

// WithManifest vets the module against this manifest JSON instead of its
// embedded or sidecar one; source names it in the report (a file name).
// Vector files are read relative to WithVectorDir. Default: the module's
// own manifest.
func WithManifest(data []byte, source string) Option {
	return func(c *config) { c.manifest, c.manifestSource = data, source }
}

// WithVectorDir reads vector files (manifest paths that are not data URIs)
// from dir. Default: the directory of WithPath, or none.
func WithVectorDir(dir fs.FS) Option { return func(c *config) { c.dir = dir } }

// WithSweep sets the size of the robustness sweep. Default SweepFull.
func WithSweep(s Sweep) Option {
	return func(c *config) {
		c.sweep = s
		c.sweepName = "full"
		if s == SweepSmall {
			c.sweepName = "small"
		}
	}
}

// WithSeed seeds the sweep's random values. Default 1: a report is
// reproducible.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithTimeFactor sets how many times the declared ns_per_row the measured
// time may be. Default DefaultTimeFactor.
func WithTimeFactor(f float64) Option { return func(c *config) { c.timeFactor = f } }

// WithTimeout sets the deadline of each call into the module. Default
// DefaultTimeout (30 s).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithLogger receives the module's stdout and stderr. Default: discarded.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithCompilationCache compiles through cache. Default: the host's
// (host.WithCompilationCache).
func WithCompilationCache(cache wazero.CompilationCache) Option {
	return func(c *config) { c.cache = cache }
}

// WithAllocator allocates the batches vet builds and the module's outputs.
// Default memory.DefaultAllocator.
func WithAllocator(a memory.Allocator) Option { return func(c *config) { c.alloc = a } }
