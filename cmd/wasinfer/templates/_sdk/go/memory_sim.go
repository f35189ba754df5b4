package wasinfer

import (
	"fmt"
	"unsafe"
)

// simMemory is a simulated wasm32 linear memory: a []byte whose offsets are
// the pointers. The Harness runs the guest code path over it natively, and the
// tests use it to check every pointer the importer and exporter follow.
//
// Its allocator bumps a pointer and starts again from the bottom whenever no
// block is live, which is the case between two batches of a Harness.
type simMemory struct {
	buf  []byte
	top  uint32
	live map[uint32]uint32 // block address → size
}

// simBase is the lowest address simMemory hands out, so that no block is NULL.
const simBase = 64

func newSimMemory(size int) *simMemory {
	if size < 1<<16 || uint64(size) > 1<<32-1<<16 {
		panic(fmt.Sprintf("wasinfer: simulated memory of %d bytes (want 64 KiB to 4 GiB)", size))
	}
	raw := make([]byte, size+64)
	skip := int(-uintptr(unsafe.Pointer(&raw[0])) & 63) // make address 0 64-byte aligned
	return &simMemory{buf: raw[skip : skip+size : skip+size], top: simBase, live: map[uint32]uint32{}}
}

func (m *simMemory) view(p, n uint32) []byte {
	if p == 0 || uint64(p)+uint64(n) > uint64(len(m.buf)) {
		panic(memFault{p, n})
	}
	return m.buf[p : p+n : p+n]
}

func (m *simMemory) cstring(p uint32, limit int) (string, error) {
	if p == 0 || int(p) >= len(m.buf) {
		panic(memFault{p, 1})
	}
	for i := int(p); i < len(m.buf) && i-int(p) <= limit; i++ {
		if m.buf[i] == 0 {
			return string(m.buf[p:i]), nil
		}
	}
	return "", fmt.Errorf("string at %#x is not NUL-terminated within %d bytes", p, limit)
}

func (m *simMemory) alloc(n, align uint32) uint32 {
	if align == 0 || align&(align-1) != 0 || align > 64 {
		return 0
	}
	if len(m.live) == 0 {
		m.top = simBase
	}
	p := (uint64(m.top) + uint64(align) - 1) &^ (uint64(align) - 1)
	end := p + uint64(max(n, 1))
	if end > uint64(len(m.buf)) {
		return 0
	}
	clear(m.buf[p:end])
	m.top = uint32(end)
	m.live[uint32(p)] = n
	return uint32(p)
}

func (m *simMemory) free(p uint32) {
	if p == 0 {
		return
	}
	if _, ok := m.live[p]; !ok {
		panic(fmt.Sprintf("wasinfer: free of %#x, which is not a live block", p))
	}
	delete(m.live, p)
}

func (m *simMemory) addr(b []byte) (uint32, bool) {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(m.buf)))
	q := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if q >= start && q-start+uintptr(len(b)) <= uintptr(len(m.buf)) && q != start {
		return uint32(q - start), false
	}
	p := m.alloc(uint32(len(b)), 64)
	if p == 0 {
		panic(memFault{0, uint32(len(b))})
	}
	copy(m.buf[p:], b)
	return p, true
}
