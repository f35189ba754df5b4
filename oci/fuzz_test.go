package oci

import (
	"errors"
	"testing"
)

// Seeds live in testdata/fuzz/<target>/ as well as here.

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"oci://localhost:5000/udfs/normalize:1.0.0",
		"oci://127.0.0.1:5000/a/b:v1@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"oci-layout:./dir:1.0.0",
		"oci-layout:/a:b/c@sha256:0123",
		"oci://[::1]/x:y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			if !errors.Is(err, ErrReference) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if r.Tag == "" && r.Digest == "" {
			t.Fatalf("%q parsed without tag or digest", s)
		}
		again, err := ParseReference(r.String())
		if err != nil || again != r {
			t.Fatalf("%q: String() %q parses as %+v, %v", s, r.String(), again, err)
		}
	})
}

func FuzzParseModuleManifest(f *testing.F) {
	man, _ := moduleManifest([]byte("\x00asm\x01\x00\x00\x00"), []byte(`{}`), "x.wasm")
	f.Add(man.data)
	sig, _ := signatureManifest(man.desc, []byte(`{}`))
	f.Add(sig.data)
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.wasm.config.v0+json"},"layers":[{"mediaType":"application/wasm","digest":"sha256:x","size":-1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := parseModuleManifest(data, 1<<20, "oci://x/y:z")
		if err == nil {
			if l.wasm.Size < 0 || l.wasm.Size > 1<<20 || checkDigest(l.wasm.Digest.String()) != nil {
				t.Fatalf("accepted layer %+v", l.wasm)
			}
		} else if !errors.Is(err, ErrNotModule) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		if d, err := parseSignatureManifest(data); err == nil && (d.Size < 0 || d.Size > maxSignatureBytes) {
			t.Fatalf("accepted signature layer %+v", d)
		}
	})
}
