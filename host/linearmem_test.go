package host

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero/experimental"
)

// TestLinearMemoryGrowsInPlace: a reserved memory grows without moving or
// copying, keeps its contents, gives zero bytes past them, refuses to pass
// its maximum, and is unusable once freed.
func TestLinearMemoryGrowsInPlace(t *testing.T) {
	if !reservable {
		t.Skip("no reservable address space on this platform: guest memory is a Go slice")
	}
	const page = 1 << 16
	m := newLinearMemory(64 * page)
	if m == nil {
		t.Fatal("reserving 4 MiB of address space failed")
	}
	defer m.Free()
	m.unhold()
	b := m.Reallocate(page)
	if len(b) != page || cap(b) != page {
		t.Fatalf("Reallocate(64 KiB): len %d cap %d", len(b), cap(b))
	}
	base := unsafe.SliceData(b)
	for i := range b {
		b[i] = byte(i)
	}
	for _, size := range []int{page, 2 * page, 17 * page, 64 * page} {
		g := m.Reallocate(uint64(size))
		if len(g) != size || unsafe.SliceData(g) != base {
			t.Fatalf("Reallocate(%d): len %d at %p, want the same base %p", size, len(g), unsafe.SliceData(g), base)
		}
		for i := range page {
			if g[i] != byte(i) {
				t.Fatalf("Reallocate(%d): byte %d is %d, want %d", size, i, g[i], byte(i))
			}
		}
		for i := page; i < size; i++ {
			if g[i] != 0 {
				t.Fatalf("Reallocate(%d): new byte %d is %d, want 0", size, i, g[i])
			}
		}
		if size > page {
			g[size-1] = 1 // writable to the end
			g[size-1] = 0
		}
		if got := m.resident(); got != size {
			t.Fatalf("Reallocate(%d): %d bytes committed", size, got)
		}
	}
	if g := m.Reallocate(65 * page); g != nil {
		t.Fatalf("Reallocate past the maximum: %d bytes, want nil", len(g))
	}
	m.Free()
	if !m.isUnmapped() {
		t.Fatal("Free of a memory nobody holds did not unmap it")
	}
	if g := m.Reallocate(page); g != nil || m.hold() {
		t.Fatal("a freed memory can still be grown or held")
	}
}

// TestLinearMemoryFreeWhileHeld: Free of a held memory leaves it mapped
// until unhold.
func TestLinearMemoryFreeWhileHeld(t *testing.T) {
	if !reservable {
		t.Skip("no reservable address space on this platform: guest memory is a Go slice")
	}
	m := newLinearMemory(1 << 20)
	if m == nil {
		t.Fatal("reserving 1 MiB of address space failed")
	}
	b := m.Reallocate(1 << 20) // held since creation
	m.Free()
	b[len(b)-1] = 1 // still mapped
	if m.isUnmapped() {
		t.Fatal("unmapped while held")
	}
	m.unhold()
	if !m.isUnmapped() {
		t.Fatal("not unmapped by unhold after Free")
	}
}

// TestGuestMemoryOffHeap: a guest that grows its memory to 400 MiB costs
// the Go heap nothing for it. wazero's own memory is a Go slice copied at
// every memory.grow, which left several times the limit of garbage
// (RELIABILITY.md: a 512 MiB instance took the process to +2.3 GiB).
func TestGuestMemoryOffHeap(t *testing.T) {
	if !reservable {
		t.Skip("no reservable address space on this platform: guest memory is a Go slice")
	}
	ctx := context.Background()
	u, err := loadGuest(t, "memory_grow_ok", WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(ctx)
	inst := <-u.slots
	u.slots <- inst
	if inst.linear == nil {
		t.Fatal("the instance's memory is not a reserved mapping")
	}
	rec := smallBatch(memory.DefaultAllocator)
	defer rec.Release()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := u.Transform(ctx, 0, rec)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	if !inst.linear.isUnmapped() {
		t.Fatal("the instance that grew past the recycle threshold was replaced, but its memory is still mapped")
	}
	if heap := after.TotalAlloc - before.TotalAlloc; heap > 32<<20 {
		t.Fatalf("growing guest memory to 400 MiB allocated %d MiB of Go heap, want under 32 MiB", heap>>20)
	}
}

// TestCloseDuringCallKeepsMemoryMapped: a UDF closed while a call is
// running (Close's context already done, so the runtime closes the module
// under the call) does not unmap the memory the guest is writing to; the
// call's end does. bulk_memory fills and copies its memory without end.
func TestCloseDuringCallKeepsMemoryMapped(t *testing.T) {
	if !reservable {
		t.Skip("no reservable address space on this platform: guest memory is a Go slice")
	}
	for _, engine := range []struct {
		name string
		opts []Option
	}{{"compiler", nil}, {"interpreter", []Option{WithInterpreter()}}} {
		t.Run(engine.name, func(t *testing.T) {
			u, err := loadGuest(t, "bulk_memory", append(engine.opts, WithTimeout(time.Minute), WithMemoryLimit(256<<20))...)
			if err != nil {
				t.Fatal(err)
			}
			inst := <-u.slots
			u.slots <- inst
			rec := smallBatch(memory.DefaultAllocator)
			defer rec.Release()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, err := u.Transform(ctx, 0, rec)
				errc <- err
			}()
			// The guest is in its loop once it has its 128 MiB.
			for inst.linear.resident() < 128<<20 {
				select {
				case err := <-errc:
					t.Fatalf("the call returned before its loop: %v", err)
				case <-time.After(time.Millisecond):
				}
			}
			done, stop := context.WithCancel(context.Background())
			stop()
			if err := u.Close(done); err != nil {
				t.Fatal(err)
			}
			if inst.linear.isUnmapped() {
				t.Fatal("Close unmapped the memory of a running call")
			}
			select {
			case err := <-errc:
				// The interpreter sees the module closed at its next
				// check; the guard only the caller's cancellation.
				t.Logf("the call returned after Close: %v", err)
			case <-time.After(50 * time.Millisecond):
				cancel()
				err := <-errc
				var ue *UDFError
				if !errors.As(err, &ue) || !ue.Replaced() {
					t.Fatalf("got %v, want the failure of a stopped call", err)
				}
			}
			if !inst.linear.isUnmapped() {
				t.Fatal("the memory of the closed instance is still mapped after its call returned")
			}
		})
	}
}

// TestCallerMemoryAllocatorWins: an allocator the caller put in the context
// (experimental.WithMemoryAllocator, as package vet does to measure peak
// memory) backs the instances instead of the host's reserved mappings.
func TestCallerMemoryAllocatorWins(t *testing.T) {
	var calls atomic.Int64
	alloc := experimental.MemoryAllocatorFunc(func(_, maxBytes uint64) experimental.LinearMemory {
		calls.Add(1)
		return &heapMemory{max: maxBytes}
	})
	ctx := experimental.WithMemoryAllocator(context.Background(), alloc)
	u, err := Load(ctx, guest(t, "trap_every_other"), WithPoolSize(1), WithCacheDir(testCacheDir))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(ctx)
	rec := smallBatch(memory.DefaultAllocator)
	defer rec.Release()
	for i := range 2 { // the second call traps: its replacement is the caller's too
		out, err := u.Transform(ctx, int64(i), rec)
		if err == nil {
			out.Release()
		}
	}
	inst := <-u.slots
	u.slots <- inst
	if got := calls.Load(); got != 2 || inst.linear != nil {
		t.Fatalf("the caller's allocator made %d memories (want 2), host mapping %v", got, inst.linear != nil)
	}
}

func (m *linearMemory) isUnmapped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unmapped
}
