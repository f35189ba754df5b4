package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// cache is the local content-addressed store:
//
//	DIR/sha256/<hex>             any blob: OCI manifests, modules, sidecar
//	                             manifests, signature envelopes
//	DIR/signatures/sha256/<hex>  JSON list of the envelope digests attached
//	                             to the module manifest <hex> when last fetched
//
// Every file is written to a temporary name in its directory and renamed, so
// a reader sees a whole file or none. Every read re-checks the digest; a
// corrupt blob is removed and reported as absent, so the caller fetches it
// again.
type cache struct {
	dir    string
	logger *slog.Logger
}

func (c *cache) blobPath(d digest.Digest) string {
	return filepath.Join(c.dir, d.Algorithm().String(), d.Encoded())
}

func (c *cache) signaturesPath(d digest.Digest) string {
	return filepath.Join(c.dir, "signatures", d.Algorithm().String(), d.Encoded())
}

// get returns the cached blob d of the given size (-1: any size up to
// limit) after checking its digest.
func (c *cache) get(d digest.Digest, size, limit int64) ([]byte, bool) {
	path := c.blobPath(d)
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.logger.Warn("module cache: unreadable entry; fetching it again", "path", path, "err", err)
		}
		return nil, false
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	f.Close()
	if err != nil {
		c.logger.Warn("module cache: unreadable entry; fetching it again", "path", path, "err", err)
		return nil, false
	}
	if got := digest.FromBytes(data); got != d || (size >= 0 && int64(len(data)) != size) {
		c.logger.Warn("module cache: corrupt entry removed; fetching it again", "path", path, "want", d.String(), "got", got.String())
		_ = os.Remove(path)
		return nil, false
	}
	return data, true
}

// put stores data, whose digest the caller verified, as blob d and returns
// its path.
func (c *cache) put(d digest.Digest, data []byte) (string, error) {
	path := c.blobPath(d)
	if err := writeAtomic(path, data); err != nil {
		return "", fmt.Errorf("oci: writing the module cache (set XDG_CACHE_HOME, or the cache directory option, to a writable place): %w", err)
	}
	return path, nil
}

// signatures returns the envelope digests recorded for module manifest d.
func (c *cache) signatures(d digest.Digest) ([]digest.Digest, bool) {
	data, err := os.ReadFile(c.signaturesPath(d))
	if err != nil {
		return nil, false
	}
	var list []digest.Digest
	if err := json.Unmarshal(data, &list); err != nil || len(list) > maxSignatures {
		return nil, false
	}
	for _, e := range list {
		if checkDigest(e.String()) != nil {
			return nil, false
		}
	}
	return list, true
}

func (c *cache) putSignatures(d digest.Digest, list []digest.Digest) error {
	if list == nil {
		list = []digest.Digest{}
	}
	data, _ := json.Marshal(list)
	if err := writeAtomic(c.signaturesPath(d), data); err != nil {
		return fmt.Errorf("oci: writing the module cache: %w", err)
	}
	return nil
}

// writeAtomic writes data to a temporary file beside path and renames it
// into place.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
