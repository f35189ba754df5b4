// Package bench measures wasinfer against its limits and its peers, side
// by side in one process, for `wasinfer bench` and `make bench`: the
// boundary cost of the ABI against memcpy, guest languages against native
// Go, the executor against a plain read and write, the whole pipeline
// against bare ONNX Runtime, start-up, peak memory, scaling, the cost of
// the per-batch deadline, and the plain-Python loop where it can run.
//
// Each benchmark compares two sides measured alternately, after one
// untimed warm-up round (A B A B …), so that the drift of a shared machine
// hits both; its figure is the median of the per-repetition ratios, with
// their spread. Short measurements alternate the sides several times per
// repetition and keep each side's fastest (other processes only add time). Nothing here is a timed test: Run never fails on a figure,
// and a missed target is reported as such. WithQuick runs a few
// repetitions on small inputs (seconds: make test runs it once to check
// that every benchmark still runs and emits its key).
//
// What runs is committed in the checkout (found from the working
// directory, or WithRoot): the C identity guest, the normalize example of
// each SDK, testdata/spin.wasm (a tight loop; built from spin.wat by make
// udfs), udfs/image_normalize and udfs/argmax, the digits model and its
// test split (repeated into larger data sets in a temporary directory).
// Guests run through host's public API only. Start-up and peak RSS are
// measured in fresh processes: the runner starts its own executable with
// ChildCommand (see Child).
//
// # Keys
//
// Keys returns them in report order: abi_identity_vs_memcpy,
// abi_empty_batch_us, udf_c_vs_native, udf_rust_vs_native,
// udf_go_vs_native, udf_as_vs_native, executor_overhead,
// pipeline_vs_bare_ort, pipeline_vs_bare_ort_binary_layout,
// startup_cold_ms, startup_warm_ms, rss_growth_10x,
// pool_scaling, wasm_deadline_overhead, wasinfer_vs_python. Each
// Result.Measures says exactly what its two sides are.
//
// # JSON (Report.WriteJSON), schema "wasinfer-bench/v1"
//
//	{
//	  "schema": "wasinfer-bench/v1",
//	  "command": "bin/wasinfer bench --out BENCHMARKS.md --json .cache/bench/bench.json",
//	  "quick": false,
//	  "started": "2026-01-02T15:04:05Z",          // UTC
//	  "seconds": 183.2,                            // the whole run
//	  "machine": {"cpu_model": "...", "cores": 2, "memory_bytes": 25000000000,
//	              "go_version": "go1.26.8", "kernel": "6.1.0-...", "os": "linux", "arch": "amd64",
//	              "load_average_start": 7.9, "load_average_end": 8.4},
//	  "ort_library": "/root/.cache/wasinfer/onnxruntime/1.30.0/libonnxruntime.so.1",
//	  "ort_version": "1.30.0",
//	  "results": {                                 // one member per key run, named by the key
//	    "abi_identity_vs_memcpy": {
//	      "key": "abi_identity_vs_memcpy",
//	      "title": "...",
//	      "value": 0.43,                           // number, or null when not measured
//	      "unit": "x",                             // "x" (a ratio), "µs", "ms"
//	      "target": {"op": ">=", "value": 0.4, "text": "≥ 0.4 for batches ≥ 1 MiB"},  // or null
//	      "met": true,                             // or null (no target, or no value)
//	      "median": 0.43,                          // of the repetitions behind value, or null
//	      "spread": {"min": 0.39, "q1": 0.41, "q3": 0.45, "max": 0.47},             // or null
//	      "repetitions": 7,
//	      "measures": "...",                       // what the two sides are
//	      "note": "...",                           // why a target was missed (optional)
//	      "reason": "...",                         // why value is null though nothing failed (optional)
//	      "error": "...",                          // why the measurement failed (optional)
//	      "details": {...},                        // per size, per side, absolute rates (optional)
//	      "seconds": 12.3                          // the measurement's wall time
//	    },
//	    ...
//	  },
//	  "profile": {"path": "cpu.out", "runs": 40, "rows": 5242880, "seconds": 10.1}  // with --cpuprofile
//	}
//
// Keys, field names and units are stable: a field's meaning changes only
// with the schema string. value is null exactly when reason or error is
// set; the Python baseline's value is null with reason "python3 with
// onnxruntime, numpy and pyarrow not available" on machines without them.
//
// # Markdown
//
// Report.WriteMarkdown writes BENCHMARKS.md: the command and machine, a
// summary table, a section per key, the hand-written notes kept from the
// previous file (between NotesBegin and NotesEnd), and the per-package
// figure files (PackageFigures) included verbatim.
package bench
