package scheduler

import "github.com/wasinfer/wasinfer/host"

// A Wasm UDF pool is a stage.
var (
	_ Stage      = (*host.UDF)(nil)
	_ Concurrent = (*host.UDF)(nil)
)
