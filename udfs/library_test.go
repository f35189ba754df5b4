package udfs

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/manifest"
	"github.com/wasinfer/wasinfer/vet"
)

var full = flag.Bool("udfs.full", false, "vet the library with the full sweep (as `wasinfer udf vet` does) instead of the small one")

// TestEmbeddedManifests checks that every committed module embeds what
// `make udfs` would embed from its manifest.json and vectors now: a
// manifest edited without a rebuild fails here.
func TestEmbeddedManifests(t *testing.T) {
	for _, name := range moduleNames(t) {
		t.Run(name, func(t *testing.T) {
			wasm, err := os.ReadFile(filepath.Join(name, name+".wasm"))
			if err != nil {
				t.Fatalf("%v (run make -C udfs udfs)", err)
			}
			src, err := os.ReadFile(filepath.Join(name, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			code, err := manifest.Strip(wasm)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := manifest.Pack(code, src, os.DirFS(name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(wasm, want) {
				t.Fatalf("%s/%s.wasm does not embed the current manifest.json and vectors: run make -C udfs udfs", name, name)
			}
		})
	}
}

// TestVet vets every module of the library; each must pass every check.
func TestVet(t *testing.T) {
	sweep := vet.SweepSmall
	if *full {
		sweep = vet.SweepFull
	}
	for _, name := range moduleNames(t) {
		t.Run(name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			path := filepath.Join(name, name+".wasm")
			wasm, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The host's on-disk compilation cache: a module compiles once,
			// not once per run (see TestMain).
			r, err := vet.Module(context.Background(), wasm, vet.WithPath(path), vet.WithSweep(sweep), vet.WithAllocator(mem))
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			_ = r.WriteText(&text, vet.TextOptions{Durations: true})
			if !r.Passed {
				t.Fatalf("not vetted:\n%s", text.String())
			}
			t.Logf("\n%s", text.String())
		})
	}
}
