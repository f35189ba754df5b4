package oci_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/wasinfer/wasinfer/oci"
	"github.com/wasinfer/wasinfer/sign"
)

func TestPushResolveRoundTrip(t *testing.T) {
	for _, referrers := range []bool{true, false} {
		name := "referrers API"
		if !referrers {
			name = "referrers tag schema"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			reg := newRegistry(t, referrers, nil)
			wasm := module(t)
			env := envelope(t, wasm, sidecar, 1)
			o := opts(t)
			p, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: wasm, Manifest: sidecar, Signature: env, Title: "identity.wasm"}, o...)
			if err != nil {
				t.Fatal(err)
			}
			if p.WasmDigest != digest.FromBytes(wasm).String() || p.Ref.Digest != p.Digest || p.Ref.Tag != "1.0.0" || p.SignatureDigest == "" {
				t.Fatalf("pushed %+v", p)
			}
			pinned := p.Ref.String()
			if want := reg.ref("udfs/identity:1.0.0@") + p.Digest; pinned != want {
				t.Fatalf("pinned %s, want %s", pinned, want)
			}

			m, err := oci.Resolve(ctx, pinned, o...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Wasm, wasm) || !bytes.Equal(m.Manifest, sidecar) || m.Digest != p.Digest || m.Cached {
				t.Fatalf("resolved %+v", m)
			}
			if len(m.Signatures) != 1 || !bytes.Equal(m.Signatures[0], env) {
				t.Fatalf("signatures %q", m.Signatures)
			}
			onDisk, err := os.ReadFile(m.Path)
			if err != nil || !bytes.Equal(onDisk, wasm) || filepath.Base(m.Path) != digest.FromBytes(wasm).Encoded() {
				t.Fatalf("cache file %s: %v", m.Path, err)
			}
			// The signature that travelled verifies against what was pulled.
			pub, _ := key(1)
			policy, _ := sign.KeyPolicy("key alice.pub", pub)
			if _, err := policy.VerifyModule(m.Wasm, m.Manifest, m.Signatures[0]); err != nil {
				t.Fatal(err)
			}

			// Pinned and cached: no request reaches the registry.
			before := reg.requests.Load()
			m2, err := oci.Resolve(ctx, pinned, o...)
			if err != nil {
				t.Fatal(err)
			}
			if !m2.Cached || !bytes.Equal(m2.Wasm, wasm) || len(m2.Signatures) != 1 || reg.requests.Load() != before {
				t.Fatalf("second resolve: cached %v, %d requests", m2.Cached, reg.requests.Load()-before)
			}

			// By tag: asks the registry, finds the same digest.
			m3, err := oci.Resolve(ctx, reg.ref("udfs/identity:1.0.0"), o...)
			if err != nil || m3.Digest != p.Digest || m3.Cached || !bytes.Equal(m3.Wasm, wasm) {
				t.Fatalf("by tag: %+v, %v", m3, err)
			}

			// Where the signature lives in the registry.
			if referrers {
				code, body := reg.get(t, "/v2/udfs/identity/referrers/"+p.Digest)
				if code != http.StatusOK || !strings.Contains(body, p.SignatureDigest) || !strings.Contains(body, oci.ArtifactTypeSignature) {
					t.Fatalf("referrers API: %d %s", code, body)
				}
			} else {
				_, tags := reg.get(t, "/v2/udfs/identity/tags/list")
				if !strings.Contains(tags, strings.Replace(p.Digest, ":", "-", 1)) {
					t.Fatalf("no referrers tag schema tag in %s", tags)
				}
			}
		})
	}
}

// The manifest stored is the Wasm OCI artifact layout, and the same module
// always has the same digest.
func TestPushedArtifact(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, true, nil)
	wasm := module(t)
	a, err := oci.Push(ctx, reg.ref("udfs/identity:a"), oci.Artifact{Wasm: wasm}, opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := oci.Push(ctx, reg.ref("other/repo:b"), oci.Artifact{Wasm: wasm}, opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest {
		t.Fatalf("the same module pushed twice has digests %s and %s", a.Digest, b.Digest)
	}
	_, body := reg.get(t, "/v2/udfs/identity/manifests/"+a.Digest)
	var m struct {
		MediaType    string `json:"mediaType"`
		ArtifactType string `json:"artifactType"`
		Config       struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.ArtifactType != "application/vnd.wasm.config.v0+json" ||
		m.Config.MediaType != "application/vnd.wasm.config.v0+json" || len(m.Layers) != 1 ||
		m.Layers[0].MediaType != "application/wasm" || m.Layers[0].Digest != a.WasmDigest || m.Annotations != nil {
		t.Fatalf("manifest %s", body)
	}
	_, cfg := reg.get(t, "/v2/udfs/identity/blobs/"+m.Config.Digest)
	if want := `{"architecture":"wasm","os":"wasip1","layerDigests":["` + a.WasmDigest + `"]}`; cfg != want {
		t.Fatalf("config %s, want %s", cfg, want)
	}
}

func TestResolveWrongPin(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, true, nil)
	p, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: module(t)}, opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "sha256:" + strings.Repeat("ab", 32)
	cases := []struct{ ref, want string }{
		{reg.ref("udfs/identity:1.0.0@" + wrong),
			"oci: not found: " + reg.host + "/udfs/identity has no manifest sha256:abababababab…; its tag 1.0.0 is at " + short(p.Digest) + " (is the pin in the reference stale or mistyped?)"},
		{reg.ref("udfs/identity:2.0.0@" + wrong),
			"oci: not found: " + reg.host + "/udfs/identity has no manifest sha256:abababababab…, nor a tag 2.0.0"},
		{reg.ref("udfs/identity@" + wrong),
			"oci: not found: " + reg.host + "/udfs/identity has no manifest sha256:abababababab…"},
	}
	for _, c := range cases {
		_, err := oci.Resolve(ctx, c.ref, opts(t)...)
		if err == nil || err.Error() != c.want || !errors.Is(err, oci.ErrNotFound) {
			t.Errorf("%s:\nerror %v\nwant  %s", c.ref, err, c.want)
		}
	}
	// A pin that matches resolves whatever the tag says.
	if _, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: []byte("\x00asm\x01\x00\x00\x00")}, opts(t)...); err != nil {
		t.Fatal(err)
	}
	m, err := oci.Resolve(ctx, p.Ref.String(), opts(t)...)
	if err != nil || !bytes.Equal(m.Wasm, module(t)) {
		t.Fatalf("pinned after the tag moved: %v", err)
	}
}

func short(d string) string { return d[:len("sha256:")+12] + "…" }

// A registry that serves different bytes for a blob: the pull fails, names
// the blob, and caches nothing.
func TestResolveTamperedLayer(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, true, nil)
	wasm := module(t)
	p, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: wasm}, opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	reg.blobs.corruptBlob(p.WasmDigest)
	flipped := bytes.Clone(wasm)
	flipped[len(flipped)/2] ^= 1
	cache := filepath.Join(t.TempDir(), "cache")
	_, err = oci.Resolve(ctx, p.Ref.String(), append(opts(t), oci.WithCacheDir(cache))...)
	want := "oci: digest mismatch: module layer " + short(p.WasmDigest) + " from " + reg.host + "/udfs/identity: the bytes received have digest " +
		short(digest.FromBytes(flipped).String()) + " (corrupted or tampered with in the registry or on the way; nothing was cached)"
	if err == nil || err.Error() != want || !errors.Is(err, oci.ErrDigestMismatch) {
		t.Fatalf("error %v\nwant  %s", err, want)
	}
	if _, err := os.Stat(filepath.Join(cache, "sha256", digest.FromBytes(wasm).Encoded())); !os.IsNotExist(err) {
		t.Fatalf("the module is in the cache: %v", err)
	}
}

// A proxy that flips a byte of every manifest it serves: a pinned pull and a
// pull by tag both fail.
func TestResolveTamperedManifest(t *testing.T) {
	ctx := context.Background()
	var tamper atomic.Bool
	reg := newRegistry(t, true, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !tamper.Load() || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/manifests/") {
				h.ServeHTTP(w, r)
				return
			}
			rec := &recorder{header: http.Header{}}
			h.ServeHTTP(rec, r)
			body := bytes.Replace(rec.body.Bytes(), []byte(`"schemaVersion":2`), []byte(`"schemaVersion":3`), 1)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.code)
			_, _ = w.Write(body)
		})
	})
	p, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: module(t)}, opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	tamper.Store(true)
	for _, ref := range []string{p.Ref.String(), reg.ref("udfs/identity:1.0.0")} {
		_, err = oci.Resolve(ctx, ref, opts(t)...)
		if err == nil || !errors.Is(err, oci.ErrDigestMismatch) ||
			!strings.HasPrefix(err.Error(), "oci: digest mismatch: module manifest "+short(p.Digest)+" from "+reg.host+"/udfs/identity: the bytes received have digest sha256:") {
			t.Fatalf("%s: %v", ref, err)
		}
	}
}

type recorder struct {
	header http.Header
	body   bytes.Buffer
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

// A flipped byte in a cache file is detected on the next read: the entry is
// removed and fetched again; without the registry, the pull fails.
func TestCacheCorruption(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, true, nil)
	wasm := module(t)
	o := opts(t)
	p, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: wasm}, o...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := oci.Resolve(ctx, p.Ref.String(), o...)
	if err != nil {
		t.Fatal(err)
	}
	flipFile(t, m.Path)
	var logs bytes.Buffer
	m2, err := oci.Resolve(ctx, p.Ref.String(), append(o, oci.WithLogger(slogTo(&logs)))...)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Cached || !bytes.Equal(m2.Wasm, wasm) {
		t.Fatalf("after corruption: cached %v", m2.Cached)
	}
	if b, _ := os.ReadFile(m.Path); !bytes.Equal(b, wasm) {
		t.Fatal("the cache entry was not restored")
	}
	if !strings.Contains(logs.String(), "module cache: corrupt entry removed; fetching it again") || !strings.Contains(logs.String(), m.Path) {
		t.Fatalf("log: %s", logs.String())
	}

	reg.srv.Close()
	flipFile(t, m.Path)
	_, err = oci.Resolve(ctx, p.Ref.String(), o...)
	if err == nil || !errors.Is(err, oci.ErrRegistry) || !strings.Contains(err.Error(), "nothing listens at "+reg.host) {
		t.Fatalf("without the registry: %v", err)
	}
	if _, err := os.Stat(m.Path); !os.IsNotExist(err) {
		t.Fatalf("the corrupt entry is still there: %v", err)
	}
}

func flipFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x80
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLayoutRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "layout")
	wasm := module(t)
	env := envelope(t, wasm, sidecar, 1)
	p, err := oci.Push(ctx, "oci-layout:"+dir+":1.0.0", oci.Artifact{Wasm: wasm, Manifest: sidecar, Signature: env}, opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"oci-layout", "index.json", filepath.Join("blobs", "sha256", digest.FromBytes(wasm).Encoded())} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("layout: %v", err)
		}
	}
	for _, ref := range []string{p.Ref.String(), "oci-layout:" + dir + ":1.0.0", "oci-layout:" + dir + "@" + p.Digest} {
		m, err := oci.Resolve(ctx, ref, opts(t)...)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if !bytes.Equal(m.Wasm, wasm) || !bytes.Equal(m.Manifest, sidecar) || len(m.Signatures) != 1 || !bytes.Equal(m.Signatures[0], env) || m.Digest != p.Digest {
			t.Fatalf("%s: resolved %+v", ref, m)
		}
	}
	// A second signature, attached later, is found beside the first.
	env2 := envelope(t, wasm, sidecar, 2)
	if _, err := oci.AttachSignature(ctx, p.Ref.String(), env2, opts(t)...); err != nil {
		t.Fatal(err)
	}
	m, err := oci.Resolve(ctx, p.Ref.String(), opts(t)...)
	if err != nil || len(m.Signatures) != 2 {
		t.Fatalf("after attaching: %d signatures, %v", len(m.Signatures), err)
	}

	// A tampered blob in the layout is caught like one in a registry.
	flipFile(t, filepath.Join(dir, "blobs", "sha256", digest.FromBytes(wasm).Encoded()))
	_, err = oci.Resolve(ctx, p.Ref.String(), opts(t)...)
	if err == nil || !errors.Is(err, oci.ErrDigestMismatch) || !strings.Contains(err.Error(), "module layer "+short(p.WasmDigest)+" from OCI layout "+dir) {
		t.Fatalf("tampered layout: %v", err)
	}
	_, err = oci.Resolve(ctx, "oci-layout:"+filepath.Join(t.TempDir(), "none")+":1.0.0", opts(t)...)
	if err == nil || !errors.Is(err, oci.ErrNotFound) || !strings.HasSuffix(err.Error(), "none does not exist") {
		t.Fatalf("missing layout: %v", err)
	}
}

func TestAttachSignature(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, false, nil)
	wasm := module(t)
	p, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: wasm}, opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := oci.Resolve(ctx, p.Ref.String(), opts(t)...)
	if err != nil || len(m.Signatures) != 0 {
		t.Fatalf("unsigned: %d signatures, %v", len(m.Signatures), err)
	}
	envs := [][]byte{envelope(t, wasm, nil, 1), envelope(t, wasm, nil, 2)}
	for _, env := range append(envs, envs[0]) { // the first twice: no duplicate
		if _, err := oci.AttachSignature(ctx, reg.ref("udfs/identity:1.0.0"), env, opts(t)...); err != nil {
			t.Fatal(err)
		}
	}
	o := opts(t)
	m, err = oci.Resolve(ctx, p.Ref.String(), o...)
	if err != nil || len(m.Signatures) != 2 {
		t.Fatalf("signed twice: %d signatures, %v", len(m.Signatures), err)
	}
	for _, env := range envs {
		if !bytes.Equal(m.Signatures[0], env) && !bytes.Equal(m.Signatures[1], env) {
			t.Fatalf("signature %s missing", env)
		}
	}
	// Cached, the signatures come back in the same order.
	m2, err := oci.Resolve(ctx, p.Ref.String(), o...)
	if err != nil || !m2.Cached || !bytes.Equal(m2.Signatures[0], m.Signatures[0]) || !bytes.Equal(m2.Signatures[1], m.Signatures[1]) {
		t.Fatalf("cached signatures differ: %v", err)
	}
}

// Credentials come from the Docker config.
func TestCredentials(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, true, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	_, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: module(t)}, opts(t)...)
	want := "oci: registry: checking for the module config: " + reg.host + " asks for credentials and the Docker config has none for it: log in with `docker login " + reg.host + "`"
	if err == nil || err.Error() != want {
		t.Fatalf("without credentials: %v\nwant %s", err, want)
	}
	cfg := filepath.Join(t.TempDir(), "config.json")
	auth := `{"auths":{"` + reg.host + `":{"auth":"YWxpY2U6czNjcmV0"}}}` // alice:s3cret
	if err := os.WriteFile(cfg, []byte(auth), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: module(t)}, append(opts(t), oci.WithDockerConfig(cfg))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oci.Resolve(ctx, p.Ref.String(), append(opts(t), oci.WithDockerConfig(cfg))...); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryErrors(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, true, nil)
	wasm := module(t)
	p, err := oci.Push(ctx, reg.ref("udfs/identity:1.0.0"), oci.Artifact{Wasm: wasm}, opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ref  string
		opts []oci.Option
		is   error
		want string
	}{
		{"HTTPS to a plain HTTP registry", reg.ref("udfs/identity:1.0.0"), []oci.Option{oci.WithPlainHTTP(false)}, oci.ErrRegistry,
			"oci: registry: resolving tag 1.0.0 in " + reg.host + "/udfs/identity: " + reg.host + " speaks plain HTTP, not HTTPS: pass --plain-http (the WithPlainHTTP option) if you trust the network to it"},
		{"unknown tag", reg.ref("udfs/identity:9.9.9"), nil, oci.ErrNotFound,
			"oci: not found: resolving tag 9.9.9 in " + reg.host + "/udfs/identity"},
		{"unknown repository", reg.ref("udfs/nothing:1.0.0"), nil, oci.ErrNotFound,
			"oci: not found: resolving tag 1.0.0 in " + reg.host + "/udfs/nothing"},
		{"module too large", reg.ref("udfs/identity:1.0.0"), []oci.Option{oci.WithMaxModuleBytes(100)}, oci.ErrTooLarge,
			"oci: too large: " + p.Ref.String() + ": the module layer is " + itoa(len(wasm)) + " bytes, above the limit of 100 (raise it with the max module size option)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := oci.Resolve(ctx, c.ref, append(opts(t), c.opts...)...)
			if err == nil || !errors.Is(err, c.is) || err.Error() != c.want {
				t.Fatalf("error %v\nwant  %s", err, c.want)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// Something else in the registry (here an artifact of another type) is
// refused before its layers are fetched.
func TestResolveNotModule(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, true, nil)
	repo, err := remote.NewRepository(reg.host + "/udfs/other")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	layer, err := oras.PushBytes(ctx, repo, "text/plain", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.example.thing", oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Tag(ctx, desc, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	before := reg.requests.Load()
	_, err = oci.Resolve(ctx, reg.ref("udfs/other:1.0.0"), opts(t)...)
	want := "oci: not a wasm module artifact: " + reg.ref("udfs/other:1.0.0@") + desc.Digest.String() +
		`: its config has mediaType "application/vnd.oci.empty.v1+json", want "application/vnd.wasm.config.v0+json" (push modules with wasinfer udf push)`
	if err == nil || err.Error() != want || !errors.Is(err, oci.ErrNotModule) {
		t.Fatalf("error %v\nwant  %s", err, want)
	}
	if n := reg.requests.Load() - before; n != 2 { // resolve the tag, fetch the manifest
		t.Fatalf("%d requests; want 2 (no layer fetched)", n)
	}
	_, err = oci.AttachSignature(ctx, reg.ref("udfs/other:1.0.0"), []byte(`{}`), opts(t)...)
	if err == nil || !errors.Is(err, oci.ErrNotModule) {
		t.Fatalf("attaching to a non-module: %v", err)
	}
}
