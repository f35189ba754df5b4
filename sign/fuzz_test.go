package sign_test

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wasinfer/wasinfer/sign"
)

// Seeds live in testdata/fuzz/<target>/ as well as here.

func FuzzParseEnvelope(f *testing.F) {
	_, priv := key(1)
	env, err := sign.Sign([]byte("\x00asm\x01\x00\x00\x00"), []byte(`{}`), priv, sign.WithName("acme-x"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env)
	f.Add([]byte(`{"payloadType":"` + sign.PayloadType + `","payload":"","signatures":[{"keyid":"","sig":"AAAA"}]}`))
	f.Add([]byte(`{"payloadType":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := sign.ParseEnvelope(data)
		if err != nil {
			if !errors.Is(err, sign.ErrMalformedEnvelope) && !errors.Is(err, sign.ErrMalformedStatement) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if err := e.Statement.Validate(); err != nil {
			t.Fatalf("parsed an invalid statement: %v", err)
		}
		if len(e.KeyIDs) == 0 {
			t.Fatal("parsed an envelope without signatures")
		}
	})
}

func FuzzParseStatement(f *testing.F) {
	f.Add([]byte(`{"module_sha256":"` + sign.Digest(nil) + `","manifest_sha256":null,"name":"a","version":"1"}`))
	f.Add([]byte(`{"module_sha256":"` + sign.Digest(nil) + `","manifest_sha256":"` + sign.Digest(nil) + `","name":"a-b"}`))
	f.Add([]byte(`{"module_sha256":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := sign.ParseStatement(data)
		if err != nil {
			if !errors.Is(err, sign.ErrMalformedStatement) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if err := st.Validate(); err != nil {
			t.Fatalf("parsed an invalid statement: %v", err)
		}
		// What parses survives a round trip unchanged.
		again, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		st2, err := sign.ParseStatement(again)
		if err != nil || !reflect.DeepEqual(st, st2) {
			t.Fatalf("round trip of %s: %+v, %v", again, st2, err)
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	pub, _ := key(1)
	pemData, _ := sign.MarshalPublicKey(pub)
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "alice.pub"), pemData, 0o644); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("version: 1\nkeys:\n  - name: alice\n    public_key_file: alice.pub\n    modules: [\"acme-*\"]\n"))
	f.Add([]byte("keys:\n  - name: inline\n    public_key: |\n      " + string(pemData[:30]) + "\n"))
	f.Add([]byte(`{"keys": [{"name": "a", "public_key_file": "alice.pub"}]}`))
	f.Add([]byte("keys: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := sign.ParsePolicy(data, "fuzz.yaml", dir)
		if err != nil {
			if !errors.Is(err, sign.ErrPolicy) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		for _, k := range p.Keys() {
			if len(k.PublicKey) != ed25519.PublicKeySize || k.ID != sign.KeyID(k.PublicKey) || k.Name == "" {
				t.Fatalf("policy holds a bad key %+v", k)
			}
		}
	})
}
