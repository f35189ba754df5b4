package host

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// bufferPool allocates the buffers of a UDF's output batches and keeps the
// ones their owners release, so that the next batch reuses them instead of
// asking for new memory: a fresh buffer from the Go allocator costs page
// faults, zeroing and garbage collection, often more than copying the data
// into it (BenchmarkIdentity, alloc=go against alloc=pool).
//
// Memory comes from the backing allocator (WithAllocator) and goes back to
// it when the pool is full, when it is closed (UDF.Close), and for every
// buffer released after that. The pool holds at most limit bytes of
// released buffers (WithOutputPool; the buffers in use are not counted);
// when a released buffer would pass the limit, the buffers of the size
// class used least recently are freed first.
//
// Sizes are rounded up to 64 bytes, then to a class: four classes per
// power of two (1¼, 1½, 1¾, 2 × 2^k), so a buffer is at most 25 % larger
// than asked for.
//
// Contents: Allocate and Reallocate return zeroed memory, as arrow-go's
// allocators do. The host's own output buffers (buffer) skip the zeroing
// because every byte of their length is overwritten by the copy out of the
// guest (the last byte of a bitmap is cleared before its bits are copied);
// their padding, from the length up to the next multiple of 64, is zeroed.
//
// A bufferPool is safe for concurrent use: buffers are released from any
// goroutine.
type bufferPool struct {
	backing memory.Allocator
	limit   int64

	mu     sync.Mutex
	idle   int64 // bytes in free
	free   [numClasses][][]byte
	used   [numClasses]uint64 // tick of each class's last get or put
	tick   uint64
	closed bool
}

const (
	// numClasses covers buffers up to maxPooled bytes.
	numClasses = 1 + (maxPooledShift-6)*4
	// maxPooledShift: larger buffers come from and go back to the backing
	// allocator directly.
	maxPooledShift = 34
)

func newBufferPool(backing memory.Allocator, limit int64) *bufferPool {
	return &bufferPool{backing: backing, limit: limit}
}

// sizeClass returns the class of a buffer of n bytes (n > 0) and its
// capacity; ok is false when n is too large to pool.
func sizeClass(n int) (class, capacity int, ok bool) {
	n = (n + 63) &^ 63
	if n <= 64 {
		return 0, 64, true
	}
	k := bits.Len(uint(n - 1)) // 2^(k-1) < n <= 2^k, k >= 7
	if k > maxPooledShift {
		return 0, 0, false
	}
	half := 1 << (k - 1)
	quarter := half >> 2
	step := (n - half + quarter - 1) / quarter // 1..4
	return 1 + (k-7)*4 + step - 1, half + step*quarter, true
}

// get returns a slice of n bytes whose capacity is n's class capacity. Its
// contents are arbitrary.
func (p *bufferPool) get(n int) []byte {
	c, capacity, ok := sizeClass(n)
	if !ok {
		b := p.backing.Allocate(n)
		return b[:n:n]
	}
	p.mu.Lock()
	p.tick++
	p.used[c] = p.tick
	if k := len(p.free[c]); k > 0 {
		b := p.free[c][k-1]
		p.free[c][k-1] = nil
		p.free[c] = p.free[c][:k-1]
		p.idle -= int64(capacity)
		p.mu.Unlock()
		return b[:n]
	}
	p.mu.Unlock()
	b := p.backing.Allocate(capacity)
	return b[:n:capacity]
}

// buffer returns an output buffer of n bytes that the caller overwrites
// entirely; its padding up to a multiple of 64 bytes is zeroed. The buffer
// returns to the pool when its last reference is released.
func (p *bufferPool) buffer(n int) *memory.Buffer {
	if n == 0 {
		return memory.NewBufferBytes(nil)
	}
	padded := (n + 63) &^ 63
	b := p.get(padded)
	clear(b[n:padded])
	buf := memory.NewBufferWithAllocator(b, p)
	buf.ResizeNoShrink(n) // Len n, Buf the padded slice
	return buf
}

// Allocate implements memory.Allocator: n zeroed bytes.
func (p *bufferPool) Allocate(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	b := p.get(n)
	clear(b)
	return b
}

// Reallocate implements memory.Allocator; bytes past len(b) are zeroed.
func (p *bufferPool) Reallocate(n int, b []byte) []byte {
	if n <= cap(b) {
		old := len(b)
		b = b[:n]
		if n > old {
			clear(b[old:])
		}
		return b
	}
	nb := p.Allocate(n)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free implements memory.Allocator: b goes back to the pool, or to the
// backing allocator when the pool is full or closed.
func (p *bufferPool) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	full := b[:cap(b)]
	c, capacity, ok := sizeClass(cap(b))
	if !ok || capacity != cap(b) {
		p.backing.Free(full) // not one of the pool's classes
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || int64(capacity) > p.limit {
		p.backing.Free(full)
		return
	}
	for p.idle+int64(capacity) > p.limit {
		if !p.evict(c) {
			break
		}
	}
	if p.idle+int64(capacity) > p.limit {
		p.backing.Free(full)
		return
	}
	p.tick++
	p.used[c] = p.tick
	p.free[c] = append(p.free[c], full)
	p.idle += int64(capacity)
}

// evict frees the buffers of the least recently used class other than
// keep; false when there is none. p.mu is held.
func (p *bufferPool) evict(keep int) bool {
	victim := -1
	for c := range p.free {
		if c != keep && len(p.free[c]) > 0 && (victim < 0 || p.used[c] < p.used[victim]) {
			victim = c
		}
	}
	if victim < 0 {
		return false
	}
	p.drain(victim)
	return true
}

func (p *bufferPool) drain(c int) {
	for i, b := range p.free[c] {
		p.idle -= int64(cap(b))
		p.backing.Free(b)
		p.free[c][i] = nil
	}
	p.free[c] = p.free[c][:0]
}

// close frees every idle buffer; buffers released later go straight back
// to the backing allocator.
func (p *bufferPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for c := range p.free {
		p.drain(c)
	}
}

// idleBytes is the memory the pool holds (tests).
func (p *bufferPool) idleBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idle
}
