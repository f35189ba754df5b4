package host

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Prepared modules are cached.
//
// prepareModule decodes every instruction of a module to rewrite it; for the
// Go identity guest (8 MB) that costs more than the rest of a Load with a
// warm compilation cache (BenchmarkLoad). Its result depends only on the
// module's bytes, the engine and the rewrite itself, so it is kept:
//
//   - in memory for the life of the process, at most preparedMemoryBytes of
//     rewritten modules, the least recently used dropped first;
//   - on disk in the cache directory (WithCacheDir), as
//     <dir>/wasinfer-guard-v<guardVersion>/<key>.wasm, where key is the
//     SHA-256 of the original module and the engine. A file is written
//     atomically (a temporary file, then a rename) and carries a CRC-32C of
//     its contents, checked on every read; a file that fails the check is
//     ignored and written again. The directories of earlier versions are
//     removed when this version's is first made.
//
// The disk cache is trusted as wazero's compilation cache next to it is
// (that one holds native code): whoever can write to the directory can
// change what runs. guardVersion names the rewrite; TestGuardVersion fails
// when guardModule's output changes, so that a change bumps it and stale
// files are never read.
const (
	guardVersion        = 2
	preparedMemoryBytes = 64 << 20
	preparedMagic       = "wiguard\x00"
)

// preparedKey is the SHA-256 of a module's bytes, with the engine.
type preparedKey [sha256.Size]byte

func keyOf(wasm []byte, compiler bool) preparedKey {
	h := sha256.New()
	h.Write(wasm)
	if compiler {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	var k preparedKey
	h.Sum(k[:0])
	return k
}

// preparedCache is the in-memory half: an LRU list of rewritten modules
// bounded by their total size.
type preparedCache struct {
	mu    sync.Mutex
	limit int
	size  int
	order *list.List // of *preparedEntry, most recent first
	byKey map[preparedKey]*list.Element
}

type preparedEntry struct {
	key  preparedKey
	wasm []byte
}

var prepared = newPreparedCache(preparedMemoryBytes)

func newPreparedCache(limit int) *preparedCache {
	return &preparedCache{limit: limit, order: list.New(), byKey: map[preparedKey]*list.Element{}}
}

func (c *preparedCache) get(k preparedKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*preparedEntry).wasm
	}
	return nil
}

func (c *preparedCache) put(k preparedKey, wasm []byte) {
	if len(wasm) > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; ok {
		return
	}
	c.byKey[k] = c.order.PushFront(&preparedEntry{key: k, wasm: wasm})
	c.size += len(wasm)
	for c.size > c.limit {
		e := c.order.Back()
		old := c.order.Remove(e).(*preparedEntry)
		delete(c.byKey, old.key)
		c.size -= len(old.wasm)
	}
}

// reset empties the cache (benchmarks that measure a new process's Load).
func (c *preparedCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	clear(c.byKey)
	c.size = 0
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func preparedPath(dir string, k preparedKey) string {
	return filepath.Join(dir, "wasinfer-guard-v"+strconv.Itoa(guardVersion), hex.EncodeToString(k[:])+".wasm")
}

// readPrepared returns the rewritten module cached in dir, or nil.
func readPrepared(dir string, k preparedKey) []byte {
	if dir == "" {
		return nil
	}
	b, err := os.ReadFile(preparedPath(dir, k))
	const header = len(preparedMagic) + 4
	if err != nil || len(b) < header+8 || !bytes.Equal(b[:len(preparedMagic)], []byte(preparedMagic)) {
		return nil
	}
	body := b[header:]
	if binary.LittleEndian.Uint32(b[len(preparedMagic):]) != crc32.Checksum(body, castagnoli) {
		return nil
	}
	return body
}

// writePrepared stores a rewritten module in dir; failures only cost the
// next Load the rewrite.
func writePrepared(dir string, k preparedKey, wasm []byte) {
	if dir == "" {
		return
	}
	path := preparedPath(dir, k)
	if _, err := os.Stat(filepath.Dir(path)); errors.Is(err, fs.ErrNotExist) {
		removeOldVersions(dir)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return
	}
	var head [len(preparedMagic) + 4]byte
	copy(head[:], preparedMagic)
	binary.LittleEndian.PutUint32(head[len(preparedMagic):], crc32.Checksum(wasm, castagnoli))
	_, err = f.Write(head[:])
	if err == nil {
		_, err = f.Write(wasm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
}

// removeOldVersions deletes the directories of earlier rewrites
// (wasinfer-guard-v<N>, N < guardVersion) in dir, which no process of this
// version reads; it runs when this version's directory is first made.
// Failures are ignored.
func removeOldVersions(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		v, ok := strings.CutPrefix(e.Name(), "wasinfer-guard-v")
		if n, err := strconv.Atoi(v); ok && e.IsDir() && err == nil && n >= 1 && n < guardVersion {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// prepareCached is prepareModule through the caches. stored reports whether
// the result came from a cache; when it did not, the caller stores it with
// storePrepared once the module has compiled, so that a module wazero
// refuses is never cached.
func prepareCached(wasm []byte, compiler bool, dir string) (out []byte, k preparedKey, stored bool, err error) {
	k = keyOf(wasm, compiler)
	if hit := prepared.get(k); hit != nil {
		return hit, k, true, nil
	}
	if hit := readPrepared(dir, k); hit != nil {
		prepared.put(k, hit)
		return hit, k, true, nil
	}
	out, err = prepareModule(wasm, compiler)
	return out, k, false, err
}

func storePrepared(dir string, k preparedKey, wasm []byte) {
	prepared.put(k, wasm)
	writePrepared(dir, k, wasm)
}
