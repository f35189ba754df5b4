package reliability

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

// TestMalformedModules: the host corpus's modules that must be refused at
// load, and damaged copies (truncated, bit-flipped, overwritten) of real
// modules built by two toolchains (three in the full run: the Rust one
// compiles slowly under -race). Each Load returns within a bound and
// either refuses the module with a *host.UDFError or loads it; a module that
// loads runs one batch, which returns (a success or an error) within a
// bound. Nothing panics.
func TestMalformedModules(t *testing.T) {
	ctx := context.Background()
	refusedCorpus := []string{
		hostGuest("abi_v2"), hostGuest("no_marker"), hostGuest("missing_transform"), hostGuest("missing_alloc"),
		hostGuest("bad_signature"), hostGuest("forbidden_import"), hostGuest("sock_import"), hostGuest("imported_memory"),
		hostGuest("command_module"), hostGuest("not_wasm"), hostGuest("truncated"), ownGuest("memory_initial_huge"),
	}
	refused := 0
	for _, path := range refusedCorpus {
		u, err := loadGuest(ctx, t, path)
		var ue *host.UDFError
		switch {
		case err == nil:
			u.Close(ctx)
			t.Errorf("%s: loaded; want a refusal", path)
		case !errors.As(err, &ue) || ue.Kind != host.KindLoad:
			t.Errorf("%s: %v, want a load error", path, err)
		default:
			refused++
		}
	}

	sources := []string{
		hostGuest("ok_identity"),                                  // wat2wasm
		repo("sdk", "c", "examples", "identity", "identity.wasm"), // clang + wasi-libc
	}
	if full() {
		// Compiling damaged copies of a Rust module is the slow part
		// under -race: the full run only.
		sources = append(sources, repo("udfs", "softmax", "softmax.wasm")) // rustc
	}
	flips := pick(4, 200)
	var total, refusedMut, loaded, ran, failed, panics int
	var samples []string
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := smallBatch(mem)
	defer rec.Release()
	start := time.Now()
	for _, src := range sources {
		base := strings.TrimSuffix(filepath.Base(src), ".wasm")
		for _, m := range mutations(base, readFile(t, src), flips) {
			total++
			ok := within(t, 30*time.Second, m.Name+": Load and Transform", func() {
				defer func() {
					if p := recover(); p != nil {
						panics++
						t.Errorf("%s: panic: %v", m.Name, p)
					}
				}()
				u, err := host.Load(ctx, m.Data, host.WithName(m.Name), host.WithPoolSize(1), host.WithCacheDir(cacheDir),
					host.WithTimeout(200*time.Millisecond), host.WithMemoryLimit(64<<20), host.WithAllocator(mem))
				if err != nil {
					var ue *host.UDFError
					if !errors.As(err, &ue) {
						t.Errorf("%s: %v (%T), want a *host.UDFError", m.Name, err, err)
					}
					refusedMut++
					if len(samples) < 8 && strings.Contains(m.Name, "bitflip") {
						samples = append(samples, err.Error())
					}
					return
				}
				defer u.Close(ctx)
				loaded++
				out, err := u.Transform(ctx, 0, rec)
				if err != nil {
					failed++
					return
				}
				out.Release()
				ran++
			})
			if !ok {
				return
			}
		}
	}
	record(t, "hostile modules", "malformed modules", fmt.Sprintf("%d/%d corpus modules refused at load; %d damaged copies of %d real modules (wat2wasm, clang%s): %d refused at load, %d loaded (%d ran a batch, %d failed it with an error); 0 hangs, %d panics, in %s",
		refused, len(refusedCorpus), total, len(sources), pick("", ", rustc"), refusedMut, loaded, ran, failed, panics, time.Since(start).Round(time.Millisecond)),
		"TestMalformedModules", map[string]any{"refused_samples": samples})
}
