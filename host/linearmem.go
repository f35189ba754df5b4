package host

import (
	"context"
	"runtime"
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// Guest linear memory, off the Go heap.
//
// wazero's own linear memory is a Go slice that memory.grow replaces by a
// larger copy: the old slice stays on the heap as garbage until the next
// collection, so a guest that grows to its limit a few pages at a time
// leaves several times the limit behind it (a 512 MiB instance took the
// process to +2.3 GiB; RELIABILITY.md, TestMemoryBombs). Each instance's
// memory is instead one mapping of its maximum size, reserved as
// inaccessible address space (no memory behind it, no commit charge) and
// made readable and writable from the start as it grows (reserve and
// commit, linearmem_unix.go): growing moves nothing and copies nothing, the
// pages a guest never touches are never resident, and closing the instance
// unmaps it at once instead of leaving it to the collector. Where address
// space cannot be reserved (a platform without mmap, a 32-bit one, or a
// failed reservation) the memory is a Go slice, grown as wazero grows its
// own.
//
// The mapping is wazero's through experimental.WithMemoryAllocator, which
// wazero reads from the context of InstantiateModule. An allocator the
// caller put in that context wins over the host's (package vet measures
// peak memory so); its memory is the caller's to keep safe.
//
// Unmapping is the one new danger: a guest or host access to an unmapped
// page kills the process, where a Go slice would have stayed alive for as
// long as anything used it. wazero frees an instance's memory (Free) when
// its module closes, and a runtime's Close closes every module, including
// those an instance is using on another goroutine (UDF.Close when its
// context ends first). So the goroutine that uses an instance holds its
// memory (hold, from creation and around each batch); Free while it is held
// only marks it, and the holder's unhold unmaps it. A memory that nothing
// frees (a UDF dropped without Close, an instantiation that failed after
// wazero allocated the memory and that newInstance frees itself) is
// unmapped when it becomes unreachable.

// linearMemory is one instance's guest memory, reserved at its maximum size.
// It implements experimental.LinearMemory.
type linearMemory struct {
	mu        sync.Mutex
	region    []byte // the reservation: committed bytes, then inaccessible ones
	committed int    // bytes of region that are readable and writable
	held      bool   // a host goroutine uses the memory: Free leaves the unmapping to unhold
	freed     bool   // wazero is done with it (the module closed)
	unmapped  bool
	cleanup   runtime.Cleanup
}

// newLinearMemory reserves maxBytes of address space; nil when it cannot
// (the caller falls back to a Go slice). The memory starts held.
func newLinearMemory(maxBytes uint64) *linearMemory {
	region, err := reserve(maxBytes)
	if err != nil {
		return nil
	}
	m := &linearMemory{region: region, held: true}
	m.cleanup = runtime.AddCleanup(m, func(region []byte) { _ = release(region) }, region)
	return m
}

// Reallocate implements experimental.LinearMemory: it commits the region up
// to size bytes (in place, the new bytes zero) and returns that many; nil
// when size is past the maximum, the commit fails, or the memory was freed:
// memory.grow then returns -1 to the guest. Memory never shrinks.
func (m *linearMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed || size > uint64(len(m.region)) {
		return nil
	}
	if n := int(size); n > m.committed {
		end := min(roundUp(n, pageSize), len(m.region))
		if err := commit(m.region[m.committed:end]); err != nil {
			return nil
		}
		m.committed = end
	}
	return m.region[:size:size]
}

// Free implements experimental.LinearMemory: wazero calls it when the
// module closes. The region is unmapped now, or by unhold if a goroutine
// still holds it.
func (m *linearMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.freed = true
	if !m.held {
		m.unmap()
	}
}

// hold marks the memory in use by the calling goroutine until unhold:
// unmapping waits for unhold. It reports false when the memory was freed
// already (the module closed while idle): then nothing may touch it.
func (m *linearMemory) hold() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed {
		return false
	}
	m.held = true
	return true
}

// unhold ends hold, unmapping the memory if it was freed meanwhile.
func (m *linearMemory) unhold() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.held = false
	if m.freed {
		m.unmap()
	}
}

// unmap gives the region back to the system. m.mu is held.
func (m *linearMemory) unmap() {
	if m.unmapped {
		return
	}
	m.unmapped = true
	m.cleanup.Stop()
	_ = release(m.region)
	m.region, m.committed = nil, 0
}

// resident reports the committed bytes (tests).
func (m *linearMemory) resident() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.committed
}

// heapMemory is the fallback: a Go slice grown as wazero grows its own.
type heapMemory struct {
	buf []byte
	max uint64
}

func (m *heapMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if n := int(size); n > len(m.buf) {
		m.buf = append(m.buf, make([]byte, n-len(m.buf))...)
	}
	return m.buf
}

func (m *heapMemory) Free() { m.buf = nil }

// memoryContext returns the context to instantiate inst's module with: one
// whose memory allocator gives the instance a linearMemory (recorded in
// inst.linear), unless ctx carries an allocator of its own.
func (inst *instance) memoryContext(ctx context.Context) context.Context {
	if !reservable {
		return ctx
	}
	alloc := experimental.MemoryAllocatorFunc(func(_, maxBytes uint64) experimental.LinearMemory {
		if inst.linear == nil && maxBytes > 0 {
			if m := newLinearMemory(maxBytes); m != nil {
				inst.linear = m
				return m
			}
		}
		return &heapMemory{max: maxBytes}
	})
	return &defaultAllocatorContext{Context: ctx, alloc: alloc}
}

// defaultAllocatorContext gives wazero alloc as the memory allocator unless
// the parent context has one. wazero's context key is internal to it: the
// key is recognised by asking a context that holds a known allocator.
type defaultAllocatorContext struct {
	context.Context
	alloc experimental.MemoryAllocator
}

var allocatorProbe = experimental.WithMemoryAllocator(context.Background(),
	experimental.MemoryAllocatorFunc(func(_, _ uint64) experimental.LinearMemory { panic("host: the allocator probe was called") }))

func (c *defaultAllocatorContext) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	if allocatorProbe.Value(key) != nil {
		return c.alloc
	}
	return nil
}

// hold holds the instance's memory (see linearMemory.hold); true when it
// is not a linearMemory.
func (inst *instance) hold() bool {
	return inst.linear == nil || inst.linear.hold()
}

// unhold ends hold.
func (inst *instance) unhold() {
	if inst.linear != nil {
		inst.linear.unhold()
	}
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }
