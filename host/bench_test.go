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
// (copy in, transform, validate, copy out, release) against a host memcpy
// of the same bytes, measured in the same loop: each iteration times one
// round trip, then enough copies of the batch's bytes between two warm
// buffers to be timed reliably. Interleaving keeps the ratio honest on a
// shared machine whose speed drifts during the run.
//
// Metrics: ns/op and MB/s are the round trip's alone (the copies are
// excluded; allocs/op and B/op include nothing else either); x_memcpy is
// memcpy time ÷ round-trip time for the same bytes, the headline: 0.5 is
// the time of two plain memcpys, copy in and copy out (the host can do
// better than that while a batch fits in cache, copy.go).
//
// One round trip runs before the loop: the first batch grows the guest's
// input block and fixes the output schema, costs later batches never pay.
//
// Sub-benchmarks: alloc=pool is the default (output buffers reused through
// the UDF's pool, WithOutputPool); alloc=go turns the pool off
// (WithOutputPool(0)), so every output buffer is new memory from the Go
// allocator.
func BenchmarkIdentity(b *testing.B) {
	ctx := context.Background()
	wasm := readGuest(b, cIdentity)
	for _, alloc := range []string{"pool", "go"} {
		opts := []Option{WithPoolSize(1), WithMemoryLimit(1 << 30), WithCacheDir(b.TempDir())}
		if alloc == "go" {
			opts = append(opts, WithOutputPool(0))
		}
		u, err := Load(ctx, wasm, opts...)
		if err != nil {
			b.Fatal(err)
		}
		for _, size := range []int{1 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20} {
			b.Run(fmt.Sprintf("bytes=%s/alloc=%s", sizeName(size), alloc), func(b *testing.B) {
				benchIdentity(ctx, b, u, size)
			})
		}
		_ = u.Close(ctx)
	}
}

func benchIdentity(ctx context.Context, b *testing.B, u *UDF, size int) {
	rec := int64Batch(memory.DefaultAllocator, size)
	defer rec.Release()
	src, dst := make([]byte, size), make([]byte, size)
	for i := range src {
		src[i] = byte(i)
	}
	copy(dst, src)
	reps := max(1, (1<<20)/size) // at least 1 MiB of copying per timing
	out, err := u.Transform(ctx, 0, rec)
	if err != nil {
		b.Fatal(err)
	}
	out.Release()
	var udf, memcpy time.Duration
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		out, err := u.Transform(ctx, 0, rec)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
		t1 := time.Now()
		for range reps {
			copy(dst, src)
		}
		udf += t1.Sub(t0)
		memcpy += time.Since(t1)
	}
	perUDF := float64(udf) / float64(b.N)
	perCopy := float64(memcpy) / float64(reps) / float64(b.N)
	b.ReportMetric(perUDF, "ns/op")
	b.ReportMetric(float64(size)/perUDF*1e3, "MB/s")
	b.ReportMetric(perCopy/perUDF, "x_memcpy")
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
// instance, _initialize) of the Go identity guest, as a new process would
// see it: each iteration opens a new wazero cache object on the directory
// and empties the in-memory cache of rewritten modules (guardcache.go).
//
//   - cache=cold: an empty cache directory, so a compile and a rewrite;
//   - cache=warm: the directory of an earlier Load (the headline);
//   - cache=warm/rewrite=every: wazero's cache warm but no cache of
//     rewritten modules, so the deadline guard's rewrite runs on every Load
//     (how Load worked before that cache).
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	wasm := readGuest(b, goIdentity)
	load := func(b *testing.B, dir string, keepRewrite bool) {
		prepared.reset()
		cache, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		opts := []Option{WithPoolSize(1), WithCompilationCache(cache)}
		if keepRewrite {
			opts = append(opts, WithCacheDir(dir))
		}
		u, err := Load(ctx, wasm, opts...)
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
			load(b, dir, true)
		}
	})
	b.Run("cache=warm", func(b *testing.B) {
		dir := b.TempDir()
		load(b, dir, true)
		for b.Loop() {
			load(b, dir, true)
		}
	})
	b.Run("cache=warm/rewrite=every", func(b *testing.B) {
		dir := b.TempDir()
		load(b, dir, false)
		for b.Loop() {
			load(b, dir, false)
		}
	})
}
