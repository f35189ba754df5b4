package vet

import (
	"context"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// memTracker measures the peak linear memory of every instance created with
// a context it has wrapped (wazero's experimental memory allocator hook,
// which the host passes through because it instantiates with the caller's
// context). It is the only way to see an instance's memory from outside
// package host, which does not report it.
type memTracker struct {
	peak atomic.Uint64
}

func (t *memTracker) context(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(t.allocate))
}

func (t *memTracker) allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	return &trackedMemory{t: t, max: maxBytes, buf: make([]byte, 0, capacity)}
}

// trackedMemory is a growable linear memory, as wazero's own, that records
// its largest size.
type trackedMemory struct {
	t   *memTracker
	max uint64
	buf []byte
}

func (m *trackedMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size] // never shrunk, so the bytes past len are zero
	} else {
		grown := make([]byte, size, max(size, min(m.max, uint64(cap(m.buf))*2)))
		copy(grown, m.buf)
		m.buf = grown
	}
	for {
		p := m.t.peak.Load()
		if size <= p || m.t.peak.CompareAndSwap(p, size) {
			break
		}
	}
	return m.buf
}

func (m *trackedMemory) Free() { m.buf = nil }
