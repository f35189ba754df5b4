package oci_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wasinfer/wasinfer/oci"
	"github.com/wasinfer/wasinfer/sign"
)

// The tests run a real OCI registry in-process: the distribution-spec
// implementation of go-containerregistry's pkg/registry (in memory, with or
// without the referrers API), on 127.0.0.1, over plain HTTP.

const identityWasm = "../sdk/c/examples/identity/identity.wasm"

var sidecar = []byte(`{"name":"identity","version":"1.0.0"}`)

func module(t *testing.T) []byte {
	t.Helper()
	wasm, err := os.ReadFile(identityWasm)
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// blobStore is an in-memory blob store whose blobs a test can corrupt, as a
// damaged disk or a malicious registry would.
type blobStore struct {
	mu      sync.Mutex
	m       map[string][]byte
	corrupt map[string]bool
}

func (s *blobStore) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[h.String()]
	if !ok {
		return nil, registry.ErrNotFound
	}
	if s.corrupt[h.String()] {
		b = bytes.Clone(b)
		b[len(b)/2] ^= 0x01
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (s *blobStore) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[h.String()]
	if !ok {
		return 0, registry.ErrNotFound
	}
	return int64(len(b)), nil
}

func (s *blobStore) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[h.String()] = b
	return nil
}

func (s *blobStore) corruptBlob(digest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt[digest] = true
}

type testRegistry struct {
	host     string // 127.0.0.1:PORT
	blobs    *blobStore
	requests atomic.Int64
	srv      *httptest.Server
}

// newRegistry starts a registry; wrap, when not nil, wraps its handler (a
// proxy that tampers, an authenticating front).
func newRegistry(t *testing.T, referrers bool, wrap func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	r := &testRegistry{blobs: &blobStore{m: map[string][]byte{}, corrupt: map[string]bool{}}}
	h := registry.New(
		registry.Logger(log.New(io.Discard, "", 0)),
		registry.WithBlobHandler(r.blobs),
		registry.WithReferrersSupport(referrers),
	)
	if wrap != nil {
		h = wrap(h)
	}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

func (r *testRegistry) ref(repoTag string) string { return "oci://" + r.host + "/" + repoTag }

// get fetches a registry path directly (for checks of what was stored).
func (r *testRegistry) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(r.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// opts are the options every test passes: plain HTTP to loopback, a fresh
// cache, no credentials from the machine's Docker config.
func opts(t *testing.T, more ...oci.Option) []oci.Option {
	t.Helper()
	return append([]oci.Option{
		oci.WithPlainHTTP(true),
		oci.WithCacheDir(filepath.Join(t.TempDir(), "cache")),
		oci.WithDockerConfig(filepath.Join(t.TempDir(), "config.json")),
	}, more...)
}

func key(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

func envelope(t *testing.T, wasm, manifest []byte, seed byte) []byte {
	t.Helper()
	_, priv := key(seed)
	env, err := sign.Sign(wasm, manifest, priv, sign.WithName("identity"))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
