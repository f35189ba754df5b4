package host

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasinfer/wasinfer/abi"
	_ "github.com/wasinfer/wasinfer/tensor" // registers arrow.fixed_shape_tensor (spec §4.2)
)

// UDF is a loaded module and its pool of instances. Transform may be called
// from many goroutines at once; each call takes one instance for the
// duration of one batch. The UDF owns its instances, its wazero runtime and
// the compiled module; Close releases them.
type UDF struct {
	cfg      config
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	guarded  bool           // the module carries guardModule's deadline guard
	slots    chan *instance // pool slots; nil = empty slot, filled on demand
	done     chan struct{}  // closed by Close
	describe []byte

	pool *bufferPool // output buffers (pool.go); nil with WithOutputPool(0)

	mu     sync.Mutex
	schema *arrow.Schema // the fixed output schema (spec §5.2)
	tree   *cSchema      // the validated tree it was built from
	closed bool
}

// LoadFile reads a module from path and loads it; see Load.
func LoadFile(ctx context.Context, path string, opts ...Option) (*UDF, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading udf module: %w", err)
	}
	opts = append([]Option{WithName(filepath.Base(path))}, opts...)
	return Load(ctx, wasm, opts...)
}

// Load checks, compiles and instantiates a module, creating the whole pool
// before it returns.
//
// # Errors
//
// A *UDFError of KindLoad when the module is refused (spec §3, §7), KindInit
// when _initialize or wasinfer_init fails, KindTimeout when either runs past
// the deadline.
func Load(ctx context.Context, wasm []byte, opts ...Option) (*UDF, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	refuse := func(err error) (*UDF, error) {
		return nil, &UDFError{UDF: cfg.name, Batch: -1, Kind: KindLoad, Err: err}
	}
	if cfg.poolSize < 1 {
		return refuse(fmt.Errorf("pool size %d: want at least 1", cfg.poolSize))
	}
	if cfg.memoryLimit < abi.PageSize || cfg.memoryLimit > 4<<30 {
		return refuse(fmt.Errorf("memory limit %d bytes: want 64 KiB to 4 GiB", cfg.memoryLimit))
	}
	if err := cfg.checkGrants(); err != nil {
		return refuse(err)
	}
	if err := checkBinary(wasm, cfg.maxModuleBytes); err != nil {
		return refuse(err)
	}
	cache, err := cfg.compilationCache()
	if err != nil {
		return refuse(err)
	}
	rc := wazero.NewRuntimeConfig()
	if cfg.interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	}
	guarded := !cfg.interpreter && compilerEngine() // see guard.go
	rc = rc.WithCompilationCache(cache).
		WithMemoryLimitPages(uint32(cfg.memoryLimit / abi.PageSize)).
		WithCloseOnContextDone(!guarded)
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	u := &UDF{cfg: cfg, rt: rt, guarded: guarded, done: make(chan struct{})}
	if cfg.outputPool > 0 {
		u.pool = newBufferPool(cfg.alloc, cfg.outputPool)
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return refuse(fmt.Errorf("instantiating WASI: %w", err))
	}
	prepDir := cfg.preparedDir()
	prepared, key, cached, err := prepareCached(wasm, guarded, prepDir)
	if err != nil {
		_ = rt.Close(ctx)
		return refuse(err)
	}
	if u.compiled, err = compileModule(ctx, rt, prepared); err != nil {
		_ = rt.Close(ctx)
		return refuse(fmt.Errorf("compiling: %w", err))
	}
	if err := cmp.Or(checkGuarded(u.compiled), admit(u.compiled, len(cfg.udfConfig) > 0)); err != nil {
		_ = rt.Close(ctx)
		return refuse(err)
	}
	if !cached {
		storePrepared(prepDir, key, prepared)
	}

	// Create every instance up front, in parallel.
	insts := make([]*instance, cfg.poolSize)
	errs := make([]error, cfg.poolSize)
	var wg sync.WaitGroup
	for i := range insts {
		wg.Go(func() { insts[i], errs[i] = u.newInstance(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			for _, inst := range insts {
				if inst != nil {
					inst.close(ctx)
				}
			}
			_ = rt.Close(ctx)
			return nil, err
		}
	}
	if _, ok := u.compiled.ExportedFunctions()[abi.ExportDescribe]; ok {
		u.describe = insts[0].describeJSON(ctx)
		if insts[0].broken {
			// It trapped or ran past its deadline: the empty slot is
			// refilled on demand.
			insts[0].close(ctx)
			insts[0] = nil
		}
	}
	u.slots = make(chan *instance, cfg.poolSize)
	for _, inst := range insts {
		u.slots <- inst
	}
	return u, nil
}

// compileModule is rt.CompileModule, with a panic of wazero's decoder or
// validator on a hostile module turned into the module's refusal: a module
// must not bring the process down. (wazero v1.12 panicked on a call to a
// function whose type index is out of range; checkCounts refuses those
// first.)
func compileModule(ctx context.Context, rt wazero.Runtime, wasm []byte) (m wazero.CompiledModule, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("wazero failed on this module (panic: %v): it is refused", p)
		}
	}()
	return rt.CompileModule(ctx, wasm)
}

// describeJSON calls wasinfer_describe; nil when it fails.
func (inst *instance) describeJSON(ctx context.Context) []byte {
	if !inst.hold() {
		return nil
	}
	defer inst.unhold()
	f := inst.mod.ExportedFunction(abi.ExportDescribe)
	cctx := inst.begin(ctx)
	v, err := inst.call1(cctx, f)
	_ = inst.end()
	if err != nil {
		return nil
	}
	ptr, n := abi.UnpackPtrLen(v)
	if n > 1<<20 {
		return nil
	}
	b, ok := inst.mem.Read(ptr, n)
	if !ok {
		return nil
	}
	return append([]byte(nil), b...)
}

// Name is the UDF's name (WithName).
func (u *UDF) Name() string { return u.cfg.name }

// PoolSize is the number of instances.
func (u *UDF) PoolSize() int { return u.cfg.poolSize }

// Concurrency is the number of Transform calls that run at once: the pool
// size (scheduler.Concurrent).
func (u *UDF) Concurrency() int { return u.cfg.poolSize }

// Description is the JSON the module's wasinfer_describe returned, or nil.
func (u *UDF) Description() []byte { return u.describe }

// OutputSchema is the output schema fixed by the first successful batch, or
// nil before one.
func (u *UDF) OutputSchema() *arrow.Schema {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.schema
}

// Transform runs one batch through an instance of the pool. seq is the
// caller's batch number, reported in errors (use -1 if there is none).
//
// Ownership: rec stays owned by the caller (Transform neither retains nor
// releases it); the returned batch is new and owned by the caller, who must
// Release it.
//
// # Errors
//
// ErrClosed after Close; ctx.Err() if ctx ends while waiting for an
// instance; otherwise a *UDFError. After an error whose Replaced() is true
// the failed instance has been closed and a fresh one put in its place.
func (u *UDF) Transform(ctx context.Context, seq int64, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	var inst *instance
	select {
	case inst = <-u.slots:
	case <-u.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { u.slots <- inst }()
	if inst == nil {
		var err error
		if inst, err = u.newInstance(ctx); err != nil {
			return nil, err
		}
	}
	if !inst.hold() {
		// Its module was closed while it waited in the pool: only the
		// runtime's Close does that (Close, when its context ended).
		inst.close(ctx)
		return nil, ErrClosed
	}
	out, err := inst.run(ctx, seq, rec)
	broken := inst.broken
	if broken {
		inst.close(ctx)
	}
	inst.unhold()
	if broken {
		// Replace now, so the next batch does not pay for it; a failed
		// replacement leaves the slot empty for the next caller to retry.
		inst, _ = u.newInstance(context.WithoutCancel(ctx))
	}
	return out, err
}

// Close waits for calls in flight, then closes every instance and the
// runtime. Transform returns ErrClosed afterwards. Close is idempotent; if ctx
// ends first, instances still in use are closed by the runtime.
func (u *UDF) Close(ctx context.Context) error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.closed = true
	u.mu.Unlock()
	close(u.done)
	if u.pool != nil {
		defer u.pool.close()
	}
	for range u.cfg.poolSize {
		select {
		case inst := <-u.slots:
			if inst != nil {
				inst.close(ctx)
			}
		case <-ctx.Done():
			return u.rt.Close(context.WithoutCancel(ctx))
		}
	}
	return u.rt.Close(ctx)
}

// checkSchema fixes the output schema on the first batch and compares later
// ones against it (spec §5.2). It returns the fixed schema.
func (u *UDF) checkSchema(seq int64, s *arrow.Schema, tree *cSchema) (*arrow.Schema, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.schema == nil {
		u.schema, u.tree = s, tree
		return s, nil
	}
	if diff := schemaDiff(u.schema, s); diff != "" {
		return nil, bad("", "output schema changed at batch %d: %s", seq, diff)
	}
	return u.schema, nil
}

// fixedOutput returns the fixed output schema and its tree; nil before the
// first batch.
func (u *UDF) fixedOutput() (*arrow.Schema, *cSchema) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.schema, u.tree
}

func schemaDiff(want, got *arrow.Schema) string {
	if want.NumFields() != got.NumFields() {
		return fmt.Sprintf("%d columns, earlier batches had %d", got.NumFields(), want.NumFields())
	}
	for i, w := range want.Fields() {
		g := got.Field(i)
		switch {
		case w.Name != g.Name:
			return fmt.Sprintf("column %d is %q, earlier batches had %q", i, g.Name, w.Name)
		case !arrow.TypeEqual(w.Type, g.Type, arrow.CheckMetadata()):
			return fmt.Sprintf("column %q has type %s, earlier batches had %s", w.Name, g.Type, w.Type)
		case w.Nullable != g.Nullable:
			return fmt.Sprintf("column %q nullable=%t, earlier batches had %t", w.Name, g.Nullable, w.Nullable)
		case !w.Metadata.Equal(g.Metadata):
			return fmt.Sprintf("column %q metadata %s, earlier batches had %s", w.Name, g.Metadata, w.Metadata)
		}
	}
	if !want.Metadata().Equal(got.Metadata()) {
		return "schema metadata differs from earlier batches"
	}
	return ""
}

func (u *UDF) limitBytes() int64 { return u.cfg.memoryLimit / abi.PageSize * abi.PageSize }

func (u *UDF) recycleBytes() int64 {
	if u.cfg.recycleAbove > 0 {
		return u.cfg.recycleAbove
	}
	return u.limitBytes() / 4 * 3
}

func (u *UDF) maxOutputBytes() int64 {
	if u.cfg.maxOutputBytes > 0 {
		return u.cfg.maxOutputBytes
	}
	return u.limitBytes()
}

func makeArray(d arrow.ArrayData) arrow.Array { return array.MakeFromData(d) }

func newRecord(s *arrow.Schema, cols []arrow.Array, rows int64) arrow.RecordBatch {
	return array.NewRecordBatch(s, cols, rows)
}

var (
	cachesMu sync.Mutex
	caches   = map[string]wazero.CompilationCache{}
)

// compilationCache returns the cache to compile with: the caller's, or one
// per directory shared by the whole process (never closed: it lives as long
// as the process).
func (c *config) compilationCache() (wazero.CompilationCache, error) {
	if c.cache != nil {
		return c.cache, nil
	}
	dir := c.cacheDir
	if dir == "" {
		dir = defaultCacheDir()
	}
	cachesMu.Lock()
	defer cachesMu.Unlock()
	if cc, ok := caches[dir]; ok {
		return cc, nil
	}
	var cc wazero.CompilationCache
	if dir == "" {
		cc = wazero.NewCompilationCache()
	} else {
		var err error
		if cc, err = wazero.NewCompilationCacheWithDir(dir); err != nil {
			return nil, fmt.Errorf("opening compilation cache %s: %w", dir, err)
		}
	}
	caches[dir] = cc
	return cc, nil
}

// defaultCacheDir is $XDG_CACHE_HOME/wasinfer/wazero (or the OS
// equivalent); "" when there is no home directory.
func defaultCacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "wasinfer", "wazero")
}

// preparedDir is where rewritten modules are cached on disk (guardcache.go):
// the cache directory, unless the caller brought its own compilation cache
// and no directory, in which case nothing is written to disk.
func (c *config) preparedDir() string {
	switch {
	case c.cacheDir != "":
		return c.cacheDir
	case c.cache != nil:
		return ""
	}
	return defaultCacheDir()
}
