// Package udfs is wasinfer's library of vetted UDF modules. Each directory
// udfs/NAME holds a module's source, the committed NAME.wasm (its manifest
// embedded as the custom section wasinfer.manifest), the manifest source
// manifest.json, and its test vectors under vectors/. README.md is the
// catalogue.
//
// The package has no Go API: its tests rebuild nothing, but check that
// every committed module embeds its current manifest, that its vectors are
// what the Go reference implementation in ref_NAME_test.go computes, and
// that `wasinfer udf vet` passes on it (package vet, with the small
// sweep; -udfs.full runs the full one). The row copy the C modules share
// (udfs_take in include/udfs.h) is also run over the canonical batch
// corpus (internal/corpus) through threshold_filter and ocr_db_post and
// compared with a Go reference (take_test.go). `make -C udfs udfs`
// rebuilds the modules reproducibly; `make -C udfs vectors` rewrites the
// vectors.
//
// Benchmarks (take_bench_test.go) time the row copy on 640 × 480 RGB image
// rows against the C SDK's identity module on the same batch, in the same
// loop; -udfs.baseline DIR runs DIR/NAME.wasm (another build, e.g. from an
// earlier commit) in that loop too and reports the speed-up:
//
//	go test ./udfs -run '^$' -bench 'ThresholdFilter|OCRDBPost' -udfs.baseline /tmp/before
package udfs
