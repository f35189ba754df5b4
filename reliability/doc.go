// Package reliability is wasinfer's system-level reliability and security
// suite: hostile modules, hostile data, faults and crashes, each proven by a
// test that also measures a figure (RELIABILITY.md at the repository root
// quotes them with the command that reproduces each).
//
// The package holds tests only (and this comment). They run the real
// components end to end — the Wasm host on committed guests, the dataset
// readers and sinks on real and damaged files, ONNX Runtime on the digits
// model, the scheduler's retries, dead letters and commits — and reuse the
// unit-level corpora of the other packages by path
// (host/testdata/guests, dataset/testdata, gpu/testdata). The hostile
// guests the host corpus lacks are in testdata/guests (source and built
// .wasm; `make -C reliability/testdata/guests udfs` rebuilds them).
//
// # Fast and full
//
// `go test ./reliability/` (and so `make test`) runs the fast part: every
// case, with fewer repetitions (a few kill trials, a few latency samples,
// fewer mutations per file). The full part runs with
// WASINFER_RELIABILITY=full or the test flag -reliability.full (`make
// reliability`): at least 50 kill trials across the read, transform, model,
// write and commit phases, 20 latency samples per runaway guest, and more
// damaged files. Nothing is skipped in the fast part.
//
// # Figures
//
// Each test records its figures (counts, latencies past the deadline,
// resident memory, what a probing guest saw); at the end of the run they are
// written to .cache/reliability/results-{fast,full}.json and .md under the
// repository root (WASINFER_RELIABILITY_RESULTS overrides the directory).
// Latencies are reported, never asserted: the machines are shared. Memory is
// asserted against generous bounds, measured in a child process per case.
//
// # Child processes
//
// Kill trials, memory measurements and decoders that could bring the whole
// process down (ONNX Runtime on a damaged model, image decoders on a
// decompression bomb) run in a child: the test binary re-executed with
// WASINFER_RELIABILITY_CHILD naming what to run (TestMain dispatches).
package reliability
