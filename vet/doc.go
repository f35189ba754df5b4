// Package vet checks that a UDF module is what its manifest says it is:
// the machine-checked meaning of "vetted" behind `wasinfer udf vet`.
//
//	r, err := vet.Module(ctx, wasm, vet.WithPath("udfs/softmax/softmax.wasm"))
//	if err != nil { ... }          // only ctx ending
//	r.WriteText(os.Stdout, vet.TextOptions{})
//	if !r.Passed { ... }
//
// Module runs seven named checks, in order; a module is vetted when every
// one passes. A check that cannot run because an earlier one failed is
// reported as skipped, which is not a pass.
//
//  1. admission: the host's own admission (ABI version, exports and their
//     signatures, only allowed imports, module size) and one instantiation
//     with config.example.
//  2. manifest: present (the embedded section, else the sidecar, or the one
//     given with WithManifest), well-formed (manifest.Parse), its
//     code_sha256 matches the module (a flipped byte in the code fails
//     here), and the module's own wasinfer_describe, if any, names the same
//     name and version.
//  3. capabilities: the declared capabilities match the imports (below).
//  4. vectors: every test vector, run on a pool of two instances under the
//     compiler and once under the interpreter, gives its expected output,
//     bit-exact (internal/corpus.Equal) or within the vector's float
//     tolerance, and conforms to the declared outputs; a vector with an
//     "error" must be refused with an error status whose message contains
//     it. A manifest without vectors fails.
//  5. determinism: every vector input and every sweep batch gives the same
//     result on two instances (the pool of two hands out its instances in
//     turn, so consecutive calls run on different ones), and every vector
//     and every sweep batch of the typical variant but the large one gives
//     the same result under wazero's interpreter as under its compiler.
//     Same means the same bits, except that NaN payloads may differ (the
//     WebAssembly spec leaves them unspecified); errors must have the same
//     kind and message.
//  6. robustness: the sweep (gen.go) of batches that satisfy the declared
//     inputs: empty, one row, random values, nulls in the nullable columns,
//     extreme values (min, max, 0, NaN, ±Inf, -0, subnormals, odd strings),
//     long strings, lists and tensors, many rows; with a fixed seed
//     (WithSeed) and sizes (WithSweep), so the same module always gets the
//     same batches and the total time is bounded (plus a deadline per call,
//     WithTimeout). The rule is the stricter one the issue allows: a trap, a
//     timeout, running out of memory, proc_exit or a bad output fails; so
//     does an error status, unless the manifest declares that class of input
//     in rejects (optionally for one column) and the message contains the
//     declared text; and every output must conform to the declared outputs
//     (each declared column present, of a declared type, without nulls
//     unless nullable; symbolic tensor dims bound consistently with the
//     inputs).
//  7. resources: the peak linear memory of any instance during the whole
//     run is at most resources.memory_bytes, and the time per row of the
//     sweep's large batch (the best of three runs, host copies included) is
//     at most WithTimeFactor (default 20) times resources.ns_per_row. The
//     factor is generous on purpose: the hint is a typical figure, the check
//     catches hints that are wrong by an order of magnitude, and it must
//     never fail on a slow or loaded machine. Memory is measured from
//     outside the host, through wazero's experimental memory allocator hook
//     carried by the context (the host reports no memory sizes).
//
// # Capabilities and imports
//
// Each WASI function belongs to at most one capability: files (path_* and
// the fd_* functions that only work on files or directories: preopens,
// readdir, pread/pwrite, filestat, allocate, advise, sync, renumber), env
// (environ_*, args_*), clock (clock_*, poll_oneoff), network (sock_*).
// Stdio on the descriptors the host always opens (fd_write, fd_read,
// fd_close, fd_seek, fd_tell, fd_fdstat_*), proc_exit, proc_raise,
// sched_yield and random_get (deterministic in the sandbox) need none.
//
// The check fails when the manifest declares a capability the module
// imports no function of (it cannot use it: the manifest over-claims), and
// when the module imports a function of a capability it does not declare,
// unless that function is one the SDK languages' runtimes import on their
// own: clock_time_get and poll_oneoff (Go's scheduler), environ_*, args_*
// (Rust's and Go's start-up), fd_prestat_*, path_open (Go's syscall and os
// packages). Those can only see the sandbox's fake clock, empty
// environment and missing preopens, and every check above runs the module
// in that sandbox, so a module that passes does not need them; the report
// lists them as a note. Any other import of a capability's class is a
// deliberate use and must be declared.
//
// # Ownership and concurrency
//
// Module does not retain wasm. It creates and closes its own UDFs (through
// package host); the batches it builds come from WithAllocator and are
// released before it returns. Calls to Module may run concurrently.
package vet
