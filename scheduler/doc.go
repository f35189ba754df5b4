// Package scheduler runs pipelines: a source, an ordered list of stages and
// a sink, streamed batch by batch through bounded queues.
//
// A [Stage] is anything that transforms record batches: a pool of Wasm UDF
// instances (*host.UDF), a pool of ONNX Runtime model actors (package gpu),
// or a Go function.
package scheduler
