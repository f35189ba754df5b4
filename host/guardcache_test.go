package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// guardFingerprint is the SHA-256 of what both rewrites make of a few
// committed guests that between them have loops, calls, bulk memory
// instructions and a start section, and of a module whose data segments
// merge.
func guardFingerprint(t *testing.T) string {
	h := sha256.New()
	mods := [][]byte{guest(t, "ok_identity"), guest(t, "loop"), guest(t, "exp_calls"), guest(t, "bulk_memory"),
		withStart(t, b(0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b)),
		wasmModule(sec(5, vec(b(0x00, 0x01))), sec(11, vec(dataAt(0, "ab"), dataAt(6, "cd"))))}
	for _, wasm := range mods {
		for _, compiler := range []bool{true, false} {
			out, err := prepareModule(wasm, compiler)
			if err != nil {
				t.Fatal(err)
			}
			h.Write(out)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestGuardVersion: the rewrite's output is the one guardVersion names.
// When this fails, the rewrite changed: bump guardVersion (so that no
// process reads modules rewritten the old way from a disk cache) and record
// the new fingerprint here.
func TestGuardVersion(t *testing.T) {
	const version, want = 2, "ef6c12e42a4e0343cf64cc18ad4b34edda78e77f91d77fb04e9cf6bb5dfad685"
	got := guardFingerprint(t)
	if guardVersion != version || got != want {
		t.Fatalf("guardVersion %d, rewrite fingerprint %s; recorded: version %d, fingerprint %s: "+
			"bump guardVersion and record both here", guardVersion, got, version, want)
	}
}

// TestPreparedCache: a Load writes the rewritten module to the cache
// directory, removing earlier versions' directories; the file is what
// prepareModule makes; a later Load in a fresh process (memory cache
// emptied) reads it; a corrupted file is ignored and written again.
func TestPreparedCache(t *testing.T) {
	ctx := context.Background()
	wasm := readGuest(t, cIdentity)
	dir := t.TempDir()
	load := func() {
		t.Helper()
		u, err := Load(ctx, wasm, WithPoolSize(1), WithCacheDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		_ = u.Close(ctx)
	}
	compiler := compilerEngine()
	key := keyOf(wasm, compiler)
	path := preparedPath(dir, key)
	want, err := prepareModule(wasm, compiler)
	if err != nil {
		t.Fatal(err)
	}

	// Directories of earlier rewrites go when this version's is made;
	// anything else in the cache directory stays.
	for _, d := range []string{"wasinfer-guard-v1", "wasinfer-guard-vnext", "wazero-v1.12.0-amd64-linux"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, d, "x.wasm"), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prepared.reset()
	load()
	if got := readPrepared(dir, key); !bytes.Equal(got, want) {
		t.Fatalf("cached module (%d bytes) differs from the rewrite (%d bytes)", len(got), len(want))
	}
	for d, want := range map[string]bool{"wasinfer-guard-v1": false, "wasinfer-guard-vnext": true, "wazero-v1.12.0-amd64-linux": true} {
		if _, err := os.Stat(filepath.Join(dir, d)); (err == nil) != want {
			t.Errorf("%s: exists %t, want %t", d, err == nil, want)
		}
	}
	if got := prepared.get(key); !bytes.Equal(got, want) {
		t.Fatal("the rewrite is not in the memory cache after Load")
	}

	prepared.reset()
	load()
	if prepared.get(key) == nil {
		t.Fatal("a Load with a warm disk cache did not fill the memory cache")
	}

	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	file[len(file)-1] ^= 0xff
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if readPrepared(dir, key) != nil {
		t.Fatal("a corrupted file passed the check")
	}
	prepared.reset()
	load()
	if got := readPrepared(dir, key); !bytes.Equal(got, want) {
		t.Fatal("a corrupted file was not written again")
	}
	if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tmp-*")); len(tmp) > 0 {
		t.Fatalf("temporary files left behind: %v", tmp)
	}
}

// TestPreparedMemoryBound: the memory cache keeps at most its limit, the
// least recently used dropped first.
func TestPreparedMemoryBound(t *testing.T) {
	c := newPreparedCache(100)
	k := func(i byte) preparedKey { return preparedKey{i} }
	c.put(k(1), make([]byte, 40))
	c.put(k(2), make([]byte, 40))
	c.get(k(1))
	c.put(k(3), make([]byte, 40)) // drops 2, the least recently used
	c.put(k(4), make([]byte, 101))
	if c.get(k(1)) == nil || c.get(k(2)) != nil || c.get(k(3)) == nil || c.get(k(4)) != nil || c.size != 80 {
		t.Fatalf("cache holds %d bytes: 1 %t, 2 %t, 3 %t, 4 %t", c.size, c.get(k(1)) != nil, c.get(k(2)) != nil, c.get(k(3)) != nil, c.get(k(4)) != nil)
	}
}
