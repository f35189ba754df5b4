// Package precompile has one test, TestPrecompile, which loads UDF modules
// once so that their compiled code lands in the host's on-disk compilation
// cache (host.WithCacheDir's default). The udfs tests run it, as a test
// binary without the race detector, before they vet the library under
// -race: wazero's compiler, instrumented by the race detector, takes minutes
// over a Go module of 7.7 MB, and the tests then load the same compiled code
// from the cache. (It is a test, not a command, because wazero keys its
// cache by its version as the binary's build information reports it, which
// differs between test binaries and commands.)
//
//	WASINFER_PRECOMPILE="a.wasm b.wasm" go test -run '^TestPrecompile$' ./udfs/internal/precompile
//
// Each module is loaded with the config example of its embedded manifest.
// Without WASINFER_PRECOMPILE the test does nothing.
package precompile
