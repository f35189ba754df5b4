//go:build wasip1

package wasinfer

// The exports of spec §2. Each is a thin call into the guest over the
// module's own linear memory, so that the logic runs (and is tested) natively
// too.

var wasm = &guest{mem: newWasmMemory()}

// current returns the module's guest with the UDF registered by the main
// package's init functions (which run after this package's).
func current() *guest {
	wasm.udf = registered
	return wasm
}

//go:wasmexport wasinfer_abi_v1
func wasinferABIv1() {}

//go:wasmexport wasinfer_alloc
func wasinferAlloc(size, align uint32) uint32 { return wasm.mem.alloc(size, align) }

//go:wasmexport wasinfer_free
func wasinferFree(p, size, align uint32) { wasm.mem.free(p) }

//go:wasmexport wasinfer_init
func wasinferInit(p, n uint32) int32 { return int32(current().init(p, n)) }

//go:wasmexport wasinfer_transform
func wasinferTransform(inSchema, inArray, outSchema, outArray uint32) int32 {
	return int32(current().transform(inSchema, inArray, outSchema, outArray))
}

//go:wasmexport wasinfer_release
func wasinferRelease(outSchema, outArray uint32) { current().release(outSchema, outArray) }

//go:wasmexport wasinfer_last_error
func wasinferLastError() uint64 { return current().lastError() }

//go:wasmexport wasinfer_describe
func wasinferDescribe() uint64 { return current().describe() }
