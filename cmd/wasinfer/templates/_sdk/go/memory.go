package wasinfer

import (
	"encoding/binary"
	"fmt"
)

// linearMemory is the guest's linear memory as the importer, the exporter
// and the ABI exports see it: addresses are 32-bit pointers (spec §4), 0 is
// NULL.
//
// Two implementations exist. In a wasip1 build (memory_wasm.go) a pointer is
// a Go address: views are unsafe slices over the Go heap and the allocator
// keeps its blocks reachable until they are freed. In native builds
// (memory_sim.go) a simMemory is a []byte indexed by 32-bit offsets, so the
// same importer and exporter run and are tested on a 64-bit machine.
type linearMemory interface {
	// view returns the n bytes at p. Reads and writes through it reach the
	// memory itself. simMemory panics with a memFault when [p, p+n) is not
	// inside the memory; the wasm memory trusts its caller.
	view(p, n uint32) []byte
	// cstring returns the NUL-terminated string at p, reading at most limit
	// bytes before the NUL.
	cstring(p uint32, limit int) (string, error)
	// alloc returns a zeroed block of n bytes aligned to align (a power of
	// two), or 0 when memory is exhausted. The block stays valid until free.
	alloc(n, align uint32) uint32
	// free releases a block returned by alloc. free(0) does nothing.
	free(p uint32)
	// addr returns a pointer to b[0] that the reader of the memory can follow,
	// for a non-empty b that the caller keeps reachable. In the guest this is
	// b's own address; simMemory returns the offset of b when b is a view of
	// the memory and otherwise copies b into a new block (which the caller
	// gives back with release).
	addr(b []byte) (p uint32, owned bool)
}

// memFault is the panic value of an out-of-bounds access to a simMemory.
type memFault struct{ p, n uint32 }

func (f memFault) Error() string {
	return fmt.Sprintf("wasinfer: memory access [%#x, +%d) out of bounds", f.p, f.n)
}

func getU32(m linearMemory, p uint32) uint32 { return binary.LittleEndian.Uint32(m.view(p, 4)) }
func getI64(m linearMemory, p uint32) int64  { return int64(binary.LittleEndian.Uint64(m.view(p, 8))) }
func putU32(m linearMemory, p, v uint32)     { binary.LittleEndian.PutUint32(m.view(p, 4), v) }
func putI64(m linearMemory, p uint32, v int64) {
	binary.LittleEndian.PutUint64(m.view(p, 8), uint64(v))
}

// arena hands out small blocks for the exporter (structures, pointer arrays,
// strings, metadata) from larger chunks of linear memory, and frees them all
// at once.
type arena struct {
	mem    linearMemory
	chunks []uint32 // blocks from mem.alloc, freed by release
	owned  []uint32 // copies made by mem.addr (simMemory only)
	next   uint32   // next free byte in the current chunk
	end    uint32   // end of the current chunk
}

const arenaChunk = 16 << 10

var errOutOfMemory = &Error{Status: StatusOutOfMemory, Err: fmt.Errorf("wasinfer: out of linear memory")}

// alloc returns n zeroed bytes aligned to align (≤ 64).
func (a *arena) alloc(n, align uint32) (uint32, error) {
	if n > 1<<30 {
		return 0, errOutOfMemory
	}
	p := (a.next + align - 1) &^ (align - 1)
	if a.next != 0 && p >= a.next && uint64(p)+uint64(n) <= uint64(a.end) {
		a.next = p + n
		return p, nil
	}
	size := uint32(arenaChunk)
	if n+align > size {
		size = n + align
	}
	c := a.mem.alloc(size, 64)
	if c == 0 {
		return 0, errOutOfMemory
	}
	a.chunks = append(a.chunks, c)
	p = (c + align - 1) &^ (align - 1)
	a.next, a.end = p+n, c+size
	return p, nil
}

// bytes copies b into the arena and returns its address.
func (a *arena) bytes(b []byte, align uint32) (uint32, error) {
	p, err := a.alloc(uint32(len(b)), align)
	if err != nil {
		return 0, err
	}
	copy(a.mem.view(p, uint32(len(b))), b)
	return p, nil
}

// addr is linearMemory.addr, remembering blocks it had to copy.
func (a *arena) addr(b []byte) uint32 {
	p, owned := a.mem.addr(b)
	if owned {
		a.owned = append(a.owned, p)
	}
	return p
}

// release frees every block the arena handed out.
func (a *arena) release() {
	for _, c := range a.chunks {
		a.mem.free(c)
	}
	for _, c := range a.owned {
		a.mem.free(c)
	}
	*a = arena{mem: a.mem}
}
