package host

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero"
)

// Guests the benchmarks and tests run, built by `make udfs` and committed.
const (
	cIdentity    = "../sdk/c/examples/identity/identity.wasm"
	goIdentity   = "../sdk/go/examples/identity/identity.wasm"
	rustIdentity = "../sdk/rust/examples/identity/identity.wasm"
	asIdentity   = "../sdk/assemblyscript/examples/identity/identity.wasm"
)

func readGuest(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("reading committed guest (run `make udfs`): %v", err)
	}
	return b
}

// int64Batch is one non-null int64 column of n bytes.
func int64Batch(mem memory.Allocator, n int) arrow.RecordBatch {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	vals := make([]int64, n/8)
	for i := range vals {
		vals[i] = int64(i)
	}
	b.AppendValues(vals, nil)
	col := b.NewArray()
	defer col.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	return array.NewRecordBatch(s, []arrow.Array{col}, int64(len(vals)))
}

// BenchmarkIdentity measures a round trip through the C identity guest
// (copy in, transform, validate, copy out) and reports it as a ratio to a
// host memcpy of the same bytes measured in the same run.
func BenchmarkIdentity(b *testing.B) {
	ctx := context.Background()
	wasm := readGuest(b, cIdentity)
	u, err := Load(ctx, wasm, WithPoolSize(1), WithMemoryLimit(1<<30), WithCacheDir(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close(ctx)
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("bytes=%s", sizeName(size)), func(b *testing.B) {
			rec := int64Batch(memory.DefaultAllocator, size)
			defer rec.Release()
			memcpy := memcpyBytesPerSec(size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				out, err := u.Transform(ctx, 0, rec)
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
			b.StopTimer()
			perSec := float64(size) * float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(perSec/memcpy, "x_memcpy")
		})
	}
}

// memcpyBytesPerSec times copy() of size bytes between two warm buffers.
func memcpyBytesPerSec(size int) float64 {
	src, dst := make([]byte, size), make([]byte, size)
	for i := range src {
		src[i] = byte(i)
	}
	return float64(size) * perSecond(func() { copy(dst, src) })
}

// perSecond runs f repeatedly for at least half a second and returns how
// many times per second it ran. (testing.Benchmark cannot be called from
// inside a benchmark: both take the testing package's benchmark lock.)
func perSecond(f func()) float64 {
	f() // warm up
	n := 0
	start := time.Now()
	for time.Since(start) < 500*time.Millisecond {
		f()
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkEmptyBatch is the fixed cost of a call: a zero-row batch of one
// column through the C identity guest.
func BenchmarkEmptyBatch(b *testing.B) {
	ctx := context.Background()
	u, err := Load(ctx, readGuest(b, cIdentity), WithPoolSize(1), WithCacheDir(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close(ctx)
	rec := int64Batch(memory.DefaultAllocator, 0)
	defer rec.Release()
	b.ReportAllocs()
	for b.Loop() {
		out, err := u.Transform(ctx, 0, rec)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
}

// BenchmarkLoad measures Load (compile or cache read, instantiate one
// instance, _initialize) of the Go identity guest with an empty and with a
// warm on-disk compilation cache. Each iteration opens a new cache object, as
// a new process would.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	wasm := readGuest(b, goIdentity)
	load := func(b *testing.B, dir string) {
		cache, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		u, err := Load(ctx, wasm, WithPoolSize(1), WithCompilationCache(cache))
		if err != nil {
			b.Fatal(err)
		}
		_ = u.Close(ctx)
		_ = cache.Close(ctx)
	}
	b.Run("cache=cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			b.StartTimer()
			load(b, dir)
		}
	})
	b.Run("cache=warm", func(b *testing.B) {
		dir := b.TempDir()
		load(b, dir)
		b.ResetTimer()
		for b.Loop() {
			load(b, dir)
		}
	})
}
