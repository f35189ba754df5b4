package host

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/internal/corpus"
)

// testCacheDir is one compilation cache for the whole test binary.
var testCacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wasinfer-host-test-")
	if err != nil {
		panic(err)
	}
	testCacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestLayoutRoundTrip lays every corpus batch out as guest input and reads it
// back through the output validator: the two sides of the ABI agree, with no
// guest in between.
func TestLayoutRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, c := range corpus.Batches(mem) {
		t.Run(c.Name, func(t *testing.T) {
			defer c.Batch.Release()
			buf, s, a := encodeToMemory(t, c.Batch)
			got, err := decodeFromMemory(buf, s, a, mem)
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			defer got.Release()
			if err := corpus.Equal(c.Batch, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

var identities = []struct{ lang, path string }{
	{"c", cIdentity},
	{"rust", rustIdentity},
	{"go", goIdentity},
	{"assemblyscript", asIdentity},
}

// TestIdentityCorpus sends the whole corpus through the identity UDF of every
// SDK and checks each batch comes back bit-exact, with no Arrow memory
// leaked.
func TestIdentityCorpus(t *testing.T) {
	ctx := context.Background()
	for _, id := range identities {
		t.Run(id.lang, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			u, err := Load(ctx, readGuest(t, id.path), WithName(id.lang+"-identity"), WithPoolSize(1),
				WithAllocator(mem), WithCacheDir(testCacheDir), WithMemoryLimit(1<<30))
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close(ctx)
			for _, c := range corpus.Batches(mem) {
				out, err := u.Transform(ctx, 0, c.Batch)
				if err != nil {
					c.Batch.Release()
					t.Errorf("%s: %v", c.Name, err)
					continue
				}
				if err := corpus.Equal(c.Batch, out); err != nil {
					t.Errorf("%s: %v", c.Name, err)
				}
				out.Release()
				c.Batch.Release()
				// Each case has its own schema; a fresh pool fixes a new
				// output schema per case.
				u.resetSchema()
			}
		})
	}
}

// TestConcurrentTransform shares one pool between many goroutines (run it
// under -race): every output equals its input.
func TestConcurrentTransform(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	u, err := Load(ctx, readGuest(t, cIdentity), WithPoolSize(3), WithAllocator(mem), WithCacheDir(testCacheDir))
	if err != nil {
		t.Fatal(err)
	}
	rec := int64Batch(mem, 64<<10)
	defer rec.Release()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				sl := rec.NewSlice(int64(g+i), rec.NumRows()-int64(i))
				out, err := u.Transform(ctx, int64(i), sl)
				if err == nil {
					err = corpus.Equal(sl, out)
					out.Release()
				}
				sl.Release()
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := u.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Transform(ctx, 0, rec); !errors.Is(err, ErrClosed) {
		t.Fatalf("Transform after Close: got %v, want ErrClosed", err)
	}
}

// resetSchema forgets the fixed output schema (tests that reuse a pool for
// unrelated batches).
func (u *UDF) resetSchema() {
	u.mu.Lock()
	u.schema = nil
	u.mu.Unlock()
}
