// Package host runs wasinfer UDFs: WebAssembly modules that transform Arrow
// record batches, per the contract in abi/spec.md (ABI v1).
//
// Load checks a module (admission: ABI version, exports and their
// signatures, allowed imports, size, and every count it declares against
// the bytes that follow and the WebAssembly JS API's limits, counts.go, so
// that wazero's decoder never allocates for entries that are not there),
// compiles it once through a persistent compilation cache, and
// instantiates a fixed pool of sandboxed instances before it returns.
// Transform sends one batch through one instance:
//
//	u, err := host.LoadFile(ctx, "normalize.wasm", host.WithPoolSize(4), host.WithConfig(cfg))
//	if err != nil { ... }
//	defer u.Close(ctx)
//	out, err := u.Transform(ctx, seq, batch) // out is the caller's to Release
//
// # The sandbox
//
// An instance has no files, environment, arguments, network or real clock
// unless the caller grants them: WithClock (the real wall and monotonic
// clocks; sleeping stays a no-op, so that no host call can outlast the
// deadline), WithEnv (exactly the variables given) and WithReadOnlyDir (a
// read-only mount; a symbolic link inside it that resolves outside it is
// refused). There is no network grant: WASI preview 1 cannot create a
// socket, and admission refuses the sock_* imports. Its stdout and stderr
// become log records tagged with the UDF's name; its
// linear memory is capped (WithMemoryLimit); every call has a deadline
// (WithTimeout). An instance that traps, runs past its deadline, calls
// proc_exit, returns output that fails validation, or grows past the recycle
// threshold is closed and replaced before the pool hands out another batch;
// a guest's error status (bad data) leaves the instance in service.
//
// # Cost
//
// Each batch is copied once into guest memory (sliced arrays are trimmed to
// their rows first) and once out of it after validation; a batch of up to
// 8 MiB is copied so that it stays in cache for the next step (copy.go).
// The input block is kept per instance and reused. Validation reads every
// offset, dictionary index and utf8 byte of the output once; an output
// schema that is byte for byte the one of the first batch is checked
// without being built again. Output buffers come from a per-UDF pool that
// reuses the buffers callers release (WithOutputPool, 128 MiB of idle
// buffers by default). The fixed cost of a batch is a few wasm calls and a
// handful of small allocations (BenchmarkEmptyBatch); nothing is allocated
// per call to enforce the deadline.
//
// An instance's linear memory is a mapping of its maximum size reserved
// off the Go heap (linearmem.go; on 64-bit Unix, elsewhere a Go slice):
// memory.grow makes more of it usable in place, without a copy, only the
// pages the guest touches are resident, and it is unmapped when the
// instance closes. The process's resident memory for guests is about the
// sum of what their instances touched, not a multiple of it (the Go
// collector never sees it, so GOMEMLIMIT does not count it either). A
// memory allocator the caller puts in the context
// (experimental.WithMemoryAllocator) is used instead.
//
// Load compiles through wazero's compilation cache; the module as rewritten
// for the deadline guard (guard.go) is cached too, in memory and beside the
// compilation cache on disk (guardcache.go), so a warm Load pays wazero's
// decoding and validation of the module, instantiation and the guest's own
// initialisation, not the rewrite.
//
// # Ownership and concurrency
//
// A UDF is safe for concurrent use; each Transform holds one instance for one
// batch and waits (honouring its context) when all are busy. Transform never
// retains or releases its input; the output batch belongs to the caller.
// When the caller releases it, its buffers return to the UDF's output pool
// (or, past the pool's bound or after Close, to the allocator); a batch may
// outlive its UDF. The UDF owns its instances, runtime, compiled module and
// pool; Close releases them after the calls in flight finish.
//
// # Errors
//
// Failures of a module or a call are *UDFError values that name the UDF, the
// batch, the kind of failure, and the guest's own message.
package host
