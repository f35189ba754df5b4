//go:build wasip1

package wasinfer

import (
	"fmt"
	"unsafe"
)

// wasmMemory is the guest's own linear memory. In a wasm32 Go program a
// pointer is an address in linear memory, so a 32-bit ABI pointer converts to
// a Go pointer and back. Go's garbage collector does not move objects; what
// it must not do is free a block the host still uses, so alloc keeps every
// block reachable from pins until free.
//
// The host only hands the guest pointers into blocks from alloc (its input
// block) or pointers the guest gave it, so every view is inside a live Go
// object.
type wasmMemory struct {
	pins map[uint32][]byte // aligned address → the Go allocation that holds it
}

func newWasmMemory() *wasmMemory { return &wasmMemory{pins: map[uint32][]byte{}} }

// ptr converts a wasm32 address to a Go pointer. It is a Go address (see
// wasmMemory); unsafe.Add spells the conversion without a uintptr round trip.
func ptr(p uint32) unsafe.Pointer { return unsafe.Add(nil, uintptr(p)) }

func (m *wasmMemory) view(p, n uint32) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(ptr(p)), n)
}

func (m *wasmMemory) cstring(p uint32, limit int) (string, error) {
	for i := 0; i <= limit; i++ {
		if *(*byte)(ptr(p + uint32(i))) == 0 {
			return string(unsafe.Slice((*byte)(ptr(p)), i)), nil
		}
	}
	return "", fmt.Errorf("string at %#x is not NUL-terminated within %d bytes", p, limit)
}

func (m *wasmMemory) alloc(n, align uint32) uint32 {
	if align == 0 || align&(align-1) != 0 || align > 64 || n > 1<<31 {
		return 0
	}
	align = max(align, 8)
	// Over-allocate so that an aligned address with n bytes after it exists
	// whatever alignment Go's allocator gives; n = 0 still gets its own
	// object, hence a unique non-zero address.
	b := make([]byte, uintptr(n)+uintptr(align))
	p := (uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) + align - 1) &^ (align - 1)
	m.pins[p] = b
	return p
}

func (m *wasmMemory) free(p uint32) { delete(m.pins, p) }

func (m *wasmMemory) addr(b []byte) (uint32, bool) {
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), false
}
