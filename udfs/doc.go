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
// sweep; -udfs.full runs the full one). `make -C udfs udfs` rebuilds the
// modules reproducibly; `make -C udfs vectors` rewrites the vectors.
package udfs
