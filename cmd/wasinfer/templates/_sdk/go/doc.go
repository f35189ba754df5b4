// Package wasinfer is the Go guest SDK of wasinfer: it turns a Go function
// over Apache Arrow record batches into a UDF module that the wasinfer host
// runs in its WebAssembly sandbox, per ABI v1 (abi/spec.md in the wasinfer
// repository).
//
// A UDF is a main package that registers a UDF from an init function:
//
//	package main
//
//	import (
//		"github.com/apache/arrow-go/v18/arrow"
//		wasinfer "github.com/wasinfer/wasinfer/sdk/go"
//	)
//
//	func init() {
//		wasinfer.Register(wasinfer.UDF{
//			Init:      func(config []byte) error { return nil },
//			Transform: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) { return rec, nil },
//		})
//	}
//
//	func main() {}
//
// built as a WASI reactor with Go 1.25 or newer:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-s -w' -tags arrow_json_stdlib -o udf.wasm .
//
// The tag arrow_json_stdlib makes arrow-go use encoding/json: otherwise it
// links github.com/goccy/go-json, which makes every module about 3 MB larger
// and slower to load, and the guest does not need it.
//
// In that build the package exports everything spec §2 requires
// (wasinfer_abi_v1, wasinfer_alloc, wasinfer_free, wasinfer_init,
// wasinfer_transform, wasinfer_release, wasinfer_last_error,
// wasinfer_describe) with //go:wasmexport; the Go runtime adds memory and
// _initialize. No cgo is involved.
//
// # Batches
//
// Transform sees its input as an arrow-go arrow.RecordBatch whose buffers are
// the bytes the host wrote into linear memory: nothing is copied or parsed,
// and every offset (of the batch's columns, of nested arrays, of their
// children) is the one the host sent, as the C Data Interface defines it.
// All ABI v1 types arrive as their arrow-go types (see spec §4.2); extension
// types arrive as their storage type with the ARROW:extension:name and
// ARROW:extension:metadata keys in the field metadata.
//
// The output batch is written back as C Data Interface structures that point
// at the arrow-go buffers themselves: a column returned from the input is not
// copied, and a new column is not copied either (the Go heap is linear
// memory). The SDK keeps the output reachable until the host has copied it.
//
// # Ownership
//
// The input batch is borrowed for the duration of Transform: do not Release
// it or keep it (or any array or slice of it) after Transform returns; the
// host reuses the memory. The returned batch passes to the SDK, which
// releases it after the host's copy; returning the input itself is allowed.
//
// # Errors
//
// A Transform error fails the batch: the host reports its text with status
// ERROR, and the instance stays in service. Errorf chooses another status:
// StatusUnsupportedInput for an input schema the UDF cannot handle (fatal
// for the stage), StatusInvalidConfig from Init, StatusOutOfMemory. A panic
// in Init or Transform is recovered and reported as ERROR with the panic
// value and the stack. A Go runtime fatal error (out of memory, deadlock)
// cannot be recovered: the module exits, and the host replaces the instance.
// For the same reason wasinfer_alloc cannot return 0 when linear memory is
// exhausted; the runtime's fatal error stops the module instead.
//
// # Limits of the Go runtime in a reactor
//
// The module has one thread. Transform may start goroutines and wait for
// them (the runtime schedules them inside the call), but gains no
// parallelism from them; the host runs several instances for that. The
// module takes about 5 MB, most of it arrow-go's array package; the host
// compiles it once and caches the result.
//
// # Testing
//
// The package builds natively as well. Harness runs a UDF through the same
// import, transform and export code over a simulated 32-bit linear memory,
// so that `go test` exercises a UDF as the host would, without Wasm.
package wasinfer
