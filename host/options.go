package host

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero"

	"github.com/wasinfer/wasinfer/abi"
)

// Option configures Load.
type Option func(*config)

type config struct {
	name           string
	poolSize       int
	memoryLimit    int64
	recycleAbove   int64
	timeout        time.Duration
	udfConfig      []byte
	cache          wazero.CompilationCache
	cacheDir       string
	maxModuleBytes int64
	maxOutputBytes int64
	alloc          memory.Allocator
	outputPool     int64
	logger         *slog.Logger
	interpreter    bool
	clock          bool              // WithClock
	env            map[string]string // WithEnv; nil: none
	mounts         []mount           // WithReadOnlyDir
}

// mount is one WithReadOnlyDir grant.
type mount struct {
	host, guest string
	root        string // host, absolute and with its links resolved (at Load)
}

func defaults() config {
	return config{
		name:           "udf",
		poolSize:       runtime.GOMAXPROCS(0),
		memoryLimit:    abi.DefaultMemoryLimitBytes,
		timeout:        abi.DefaultTimeoutSeconds * time.Second,
		maxModuleBytes: abi.DefaultMaxModuleBytes,
		alloc:          memory.DefaultAllocator,
		outputPool:     DefaultOutputPool,
		logger:         slog.Default(),
	}
}

// WithName names the UDF in errors and logs. Default "udf".
func WithName(name string) Option { return func(c *config) { c.name = name } }

// WithPoolSize sets the number of instances. Default GOMAXPROCS. All are
// created by Load, before the first batch.
func WithPoolSize(n int) Option { return func(c *config) { c.poolSize = n } }

// WithMemoryLimit caps each instance's linear memory, in bytes (rounded down
// to 64 KiB pages). Default 512 MiB.
func WithMemoryLimit(bytes int64) Option { return func(c *config) { c.memoryLimit = bytes } }

// WithRecycleAbove replaces an instance after a batch that left its memory
// above this many bytes. Default ¾ of the memory limit; 0 keeps the default.
func WithRecycleAbove(bytes int64) Option { return func(c *config) { c.recycleAbove = bytes } }

// WithTimeout sets the deadline of each init and transform call. Default 60 s.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithConfig passes the stage's configuration (JSON text) to wasinfer_init.
// Default none.
func WithConfig(json []byte) Option { return func(c *config) { c.udfConfig = json } }

// WithCompilationCache shares a wazero compilation cache the caller owns.
// Default: a cache on disk under the user's cache directory (see
// WithCacheDir), shared by every UDF of the process. With this option and
// no WithCacheDir, rewritten modules are cached in memory only.
func WithCompilationCache(cache wazero.CompilationCache) Option {
	return func(c *config) { c.cache = cache }
}

// WithCacheDir puts the on-disk caches in dir: wazero's compiled code
// (unless WithCompilationCache is given) and the modules as rewritten for
// the deadline guard, in dir/wasinfer-guard-v2 (see guardcache.go). Default
// $XDG_CACHE_HOME/wasinfer/wazero (or the OS equivalent); "" keeps the
// default.
func WithCacheDir(dir string) Option { return func(c *config) { c.cacheDir = dir } }

// WithMaxModuleBytes refuses modules larger than n bytes. Default 64 MiB.
func WithMaxModuleBytes(n int64) Option { return func(c *config) { c.maxModuleBytes = n } }

// WithMaxOutputBytes caps the bytes one output batch may copy out of the
// guest. Default: the memory limit.
func WithMaxOutputBytes(n int64) Option { return func(c *config) { c.maxOutputBytes = n } }

// WithAllocator allocates output batches. Default memory.DefaultAllocator.
// With an output pool (WithOutputPool) the pool's buffers come from this
// allocator and go back to it when the pool is full or the UDF is closed.
func WithAllocator(a memory.Allocator) Option { return func(c *config) { c.alloc = a } }

// DefaultOutputPool is the default of WithOutputPool: 128 MiB.
const DefaultOutputPool = 128 << 20

// WithOutputPool keeps up to bytes of the output buffers that callers have
// released, per UDF, to reuse for later batches instead of allocating new
// ones (a new buffer costs page faults, zeroing and garbage collection,
// often more than the copy into it). The bound counts idle buffers only,
// not the ones in use; past it, the buffers of the least recently used
// size are given back to the allocator first. Close gives back every idle
// buffer, and buffers released after Close go back directly. A reused
// buffer is overwritten in full by the copy out of the guest and its
// padding zeroed. 0 (or less) turns the pool off: every buffer then comes
// from the allocator. Default DefaultOutputPool (128 MiB).
func WithOutputPool(bytes int64) Option { return func(c *config) { c.outputPool = bytes } }

// WithLogger receives the guests' stdout and stderr, a record per line.
// Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithInterpreter runs the module in wazero's interpreter instead of its
// compiler. Default: the compiler where the platform has one.
func WithInterpreter() Option { return func(c *config) { c.interpreter = true } }

// WithClock grants the real clocks: clock_time_get reads the host's wall
// clock (realtime) and monotonic clock. Default: fake clocks, a wall clock
// that starts at 2022-01-01T00:00:00Z and advances 1 ms per read, and a
// monotonic clock that starts at 0. The sleep stays the sandbox's, a no-op
// that returns at once (poll_oneoff on a clock): a real one would block the
// call past its deadline, which is enforced by checks in the guest's code,
// not by interrupting the host function.
func WithClock() Option { return func(c *config) { c.clock = true } }

// WithEnv grants environment variables: the guest sees exactly these, with
// these values (environ_get), and no others. Calls add to the set; a name
// given twice keeps its last value. Names must be non-empty and contain no
// '=' (Load refuses them otherwise). Default: no environment.
func WithEnv(vars map[string]string) Option {
	return func(c *config) {
		if c.env == nil {
			c.env = make(map[string]string, len(vars))
		}
		for k, v := range vars {
			c.env[k] = v
		}
	}
}

// WithReadOnlyDir mounts the host directory hostDir, read-only, at
// guestPath (absolute, e.g. /lookup) in the guest's filesystem (a WASI
// preopen). Load refuses a hostDir that is not an existing directory, a
// guestPath that is not absolute, and a guestPath given twice. Any write,
// create, rename or delete under the mount fails (under wazero 1.12 a
// path_open with O_CREAT answers ENOSYS, 52).
// Default: no filesystem.
//
// Paths under the mount stay inside it: ".." cannot climb above it, and a
// symbolic link inside hostDir that resolves to a target outside it is
// refused (EACCES, errno 2) when the guest opens or stats it
// (host/grant_test.go, TestGrantDirSymlink); links that stay inside work.
// The check resolves the path and then opens it, so a link that someone
// swaps between the two on the host is not caught: mount directories that
// only you can write to.
func WithReadOnlyDir(hostDir, guestPath string) Option {
	return func(c *config) { c.mounts = append(c.mounts, mount{host: hostDir, guest: guestPath}) }
}
