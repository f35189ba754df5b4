package sign_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/sign"
)

const identityWasm = "../sdk/c/examples/identity/identity.wasm"

var testManifest = []byte(`{"name":"acme-identity","version":"1.0.0"}`)

// key returns a fixed key pair, so IDs in expected messages are stable.
func key(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

func module(t *testing.T) []byte {
	t.Helper()
	wasm, err := os.ReadFile(identityWasm)
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

func policyOf(t *testing.T, name string, pub ed25519.PublicKey, modules ...string) *sign.Policy {
	t.Helper()
	p, err := sign.NewPolicy("trust.yaml", sign.TrustedKey{Name: name, PublicKey: pub, Modules: modules})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func signed(t *testing.T, wasm, manifest []byte, priv ed25519.PrivateKey, name string) []byte {
	t.Helper()
	env, err := sign.Sign(wasm, manifest, priv, sign.WithName(name), sign.WithVersion("1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestSignVerifyRoundTrip(t *testing.T) {
	wasm := module(t)
	pub, priv := key(1)
	for _, manifest := range [][]byte{testManifest, nil, {}} {
		env := signed(t, wasm, manifest, priv, "acme-identity")
		v, err := sign.Verify(wasm, manifest, env, policyOf(t, "alice", pub))
		if err != nil {
			t.Fatalf("manifest %q: %v", manifest, err)
		}
		if v.KeyName != "alice" || v.KeyID != sign.KeyID(pub) || v.Statement.Name != "acme-identity" ||
			v.Statement.Version != "1.0.0" || v.Statement.ModuleSHA256 != sign.Digest(wasm) {
			t.Fatalf("verified %+v", v)
		}
		if (manifest == nil) != (v.Statement.ManifestSHA256 == nil) {
			t.Fatalf("manifest %q: statement manifest digest %v", manifest, v.Statement.ManifestSHA256)
		}
	}
}

func TestSignIsDeterministic(t *testing.T) {
	wasm := module(t)
	_, priv := key(1)
	a, b := signed(t, wasm, testManifest, priv, "acme-identity"), signed(t, wasm, testManifest, priv, "acme-identity")
	if !bytes.Equal(a, b) {
		t.Fatalf("two signatures of the same inputs differ:\n%s\n%s", a, b)
	}
}

// The envelope is plain DSSE: another DSSE reader sees our payload type,
// the statement and a keyid that is the key's ID.
func TestEnvelopeIsDSSE(t *testing.T) {
	wasm := module(t)
	pub, priv := key(1)
	env := signed(t, wasm, testManifest, priv, "acme-identity")
	var e struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	if e.PayloadType != sign.PayloadType || len(e.Signatures) != 1 || e.Signatures[0].KeyID != sign.KeyID(pub) {
		t.Fatalf("envelope %s", env)
	}
	// PAE per the DSSE protocol, written out here rather than taken from
	// the library under test.
	pae := []byte("DSSEv1 " + itoa(len(e.PayloadType)) + " " + e.PayloadType + " " + itoa(len(e.Payload)) + " " + string(e.Payload))
	if !ed25519.Verify(pub, pae, e.Signatures[0].Sig) {
		t.Fatal("signature does not verify over the DSSE PAE")
	}
	want := `{"module_sha256":"` + sign.Digest(wasm) + `","manifest_sha256":"` + sign.Digest(testManifest) + `","name":"acme-identity","version":"1.0.0"}`
	if string(e.Payload) != want {
		t.Fatalf("payload\n%s\nwant\n%s", e.Payload, want)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestVerifyErrors(t *testing.T) {
	wasm := module(t)
	alicePub, alicePriv := key(1)
	_, malloryPriv := key(2)
	alice := policyOf(t, "alice", alicePub)
	env := signed(t, wasm, testManifest, alicePriv, "acme-identity")

	// An envelope whose payload was replaced after signing, keeping the
	// signature: the statement of another module.
	other := signed(t, []byte("other"), testManifest, alicePriv, "acme-identity")
	var e, o map[string]any
	_ = json.Unmarshal(env, &e)
	_ = json.Unmarshal(other, &o)
	e["payload"] = o["payload"]
	edited, _ := json.Marshal(e)

	cases := []struct {
		name           string
		wasm, manifest []byte
		env            []byte
		policy         *sign.Policy
		opts           []sign.Option
		is             error
		want           string
	}{
		{"flipped module byte", flip(wasm, 100), testManifest, env, alice, nil, sign.ErrModuleDigest,
			"sign: module digest mismatch: the envelope signs sha256:" + sign.ShortID(sign.Digest(wasm)) + ", the module is sha256:" + sign.ShortID(sign.Digest(flip(wasm, 100))) + " (the module was changed after signing, or the signature is another module's)"},
		{"flipped manifest byte", wasm, flip(testManifest, 3), env, alice, nil, sign.ErrManifestDigest,
			"sign: manifest digest mismatch: the envelope signs manifest sha256:" + sign.ShortID(sign.Digest(testManifest)) + ", the manifest is sha256:" + sign.ShortID(sign.Digest(flip(testManifest, 3))) + " (the manifest was changed after signing)"},
		{"manifest missing", wasm, nil, env, alice, nil, sign.ErrManifestDigest,
			"sign: manifest digest mismatch: the envelope signs manifest sha256:" + sign.ShortID(sign.Digest(testManifest)) + ", but the module has none (give the manifest it was signed with)"},
		{"manifest added", wasm, testManifest, signed(t, wasm, nil, alicePriv, "acme-identity"), alice, nil, sign.ErrManifestDigest,
			"sign: manifest digest mismatch: the envelope signs no manifest, but the module has one (sha256:" + sign.ShortID(sign.Digest(testManifest)) + "): sign the module again with its manifest"},
		{"untrusted key", wasm, testManifest, signed(t, wasm, testManifest, malloryPriv, "acme-identity"), alice, nil, sign.ErrUntrusted,
			"sign: no signature by a trusted key: signed by key " + sign.ShortID(sign.KeyID(malloryPriv.Public().(ed25519.PublicKey))) + " (not in trust.yaml; if you trust it, add its .pub file there)"},
		{"payload edited after signing", wasm, testManifest, edited, alice, nil, sign.ErrBadSignature,
			"sign: signature does not verify: the signature by key " + sign.ShortID(sign.KeyID(alicePub)) + " (alice in trust.yaml) does not match the envelope's payload (the envelope was edited after signing: sign the module again)"},
		{"name not allowed", wasm, testManifest, env, policyOf(t, "alice", alicePub, "other-*", "normalize"), nil, sign.ErrNameNotAllowed,
			"sign: module name not allowed: key " + sign.ShortID(sign.KeyID(alicePub)) + " (alice) may sign only modules named other-*, normalize (trust.yaml), not \"acme-identity\""},
		{"statement names another module", wasm, testManifest, env, alice, []sign.Option{sign.WithName("acme-other")}, sign.ErrNameNotAllowed,
			"sign: module name not allowed: the signature is for a module named \"acme-identity\", but this module is named \"acme-other\" (sign it under its own name)"},
		{"malformed JSON", wasm, testManifest, []byte("{\n  \"payloadType\": \"x\",\n  \"payload\" \"abc\"\n}"), alice, nil, sign.ErrMalformedEnvelope,
			"sign: malformed envelope: line 3, column 13: invalid character '\"' after object key"},
		{"truncated", wasm, testManifest, env[:40], alice, nil, sign.ErrMalformedEnvelope,
			"sign: malformed envelope: line 2, column 39: unexpected end of JSON"},
		{"empty file", wasm, testManifest, nil, alice, nil, sign.ErrMalformedEnvelope,
			"sign: malformed envelope: empty (want a JSON object)"},
		{"wrong payload type", wasm, testManifest, []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[]}`), alice, nil, sign.ErrMalformedEnvelope,
			`sign: malformed envelope: payloadType is "application/vnd.in-toto+json", want "application/vnd.wasinfer.module-statement.v1+json" (this is not a wasinfer module signature)`},
		{"no signatures", wasm, testManifest, []byte(`{"payloadType":"` + sign.PayloadType + `","payload":"","signatures":[]}`), alice, nil, sign.ErrMalformedEnvelope,
			"sign: malformed envelope: signatures is empty (the file was never signed)"},
		{"unknown field", wasm, testManifest, []byte(`{"payloadType":"` + sign.PayloadType + `","payload":"","signatures":[],"extra":1}`), alice, nil, sign.ErrMalformedEnvelope,
			"sign: malformed envelope: line 1, column 97: json: unknown field \"extra\""},
		{"signature not base64", wasm, testManifest, []byte(`{"payloadType":"` + sign.PayloadType + `","payload":"","signatures":[{"keyid":"","sig":"%%%"}]}`), alice, nil, sign.ErrMalformedEnvelope,
			"sign: malformed envelope: signatures[0].sig: not base64: illegal base64 data at input byte 0"},
		{"short signature", wasm, testManifest, []byte(`{"payloadType":"` + sign.PayloadType + `","payload":"","signatures":[{"keyid":"","sig":"AAAA"}]}`), alice, nil, sign.ErrMalformedEnvelope,
			"sign: malformed envelope: signatures[0].sig is 3 bytes, want 64 (an ed25519 signature)"},
		{"wrong type", wasm, testManifest, []byte(`{"payloadType":"` + sign.PayloadType + `","payload":7,"signatures":[]}`), alice, nil, sign.ErrMalformedEnvelope,
			"sign: malformed envelope: line 1, column 68: payload is a JSON number, want a string"},
		{"statement not JSON", wasm, testManifest, rawEnvelope(t, alicePriv, "not json"), alice, nil, sign.ErrMalformedStatement,
			"sign: malformed statement: line 1, column 2: invalid character 'o' in literal null (expecting 'u')"},
		{"statement without module digest", wasm, testManifest, rawEnvelope(t, alicePriv, `{"manifest_sha256":null,"name":"x"}`), alice, nil, sign.ErrMalformedStatement,
			"sign: malformed statement: module_sha256 is missing"},
		{"statement with bad digest", wasm, testManifest, rawEnvelope(t, alicePriv, `{"module_sha256":"ABC","manifest_sha256":null,"name":"x"}`), alice, nil, sign.ErrMalformedStatement,
			"sign: malformed statement: module_sha256 has 3 characters, want 64 lowercase hex"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sign.Verify(c.wasm, c.manifest, c.env, c.policy, c.opts...)
			if err == nil {
				t.Fatal("verified")
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			if err.Error() != c.want {
				t.Fatalf("error:\n%s\nwant:\n%s", err, c.want)
			}
		})
	}
}

// rawEnvelope signs an arbitrary payload with our payload type, as a forger
// holding a trusted key (or a buggy signer) could.
func rawEnvelope(t *testing.T, priv ed25519.PrivateKey, payload string) []byte {
	t.Helper()
	pae := "DSSEv1 " + itoa(len(sign.PayloadType)) + " " + sign.PayloadType + " " + itoa(len(payload)) + " " + payload
	env, err := json.Marshal(map[string]any{
		"payloadType": sign.PayloadType,
		"payload":     base64.StdEncoding.EncodeToString([]byte(payload)),
		"signatures": []map[string]string{{
			"keyid": sign.KeyID(priv.Public().(ed25519.PublicKey)),
			"sig":   base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(pae))),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// A policy with several keys accepts a signature by any of them, and an
// envelope with several signatures is accepted when one is trusted.
func TestVerifyChoosesTrustedKey(t *testing.T) {
	wasm := module(t)
	alicePub, alicePriv := key(1)
	bobPub, bobPriv := key(2)
	_, malloryPriv := key(3)
	p, err := sign.NewPolicy("trust.yaml",
		sign.TrustedKey{Name: "alice", PublicKey: alicePub, Modules: []string{"acme-*"}},
		sign.TrustedKey{Name: "bob", PublicKey: bobPub})
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.VerifyModule(wasm, nil, signed(t, wasm, nil, bobPriv, "bob-tool"))
	if err != nil || v.KeyName != "bob" {
		t.Fatalf("verified %+v, %v", v, err)
	}
	// Mallory's signature and Alice's, in one envelope.
	var a, m map[string]any
	_ = json.Unmarshal(signed(t, wasm, nil, alicePriv, "acme-identity"), &a)
	_ = json.Unmarshal(signed(t, wasm, nil, malloryPriv, "acme-identity"), &m)
	a["signatures"] = append(m["signatures"].([]any), a["signatures"].([]any)...)
	both, _ := json.Marshal(a)
	v, err = p.VerifyModule(wasm, nil, both, sign.WithName("acme-identity"))
	if err != nil || v.KeyName != "alice" {
		t.Fatalf("verified %+v, %v", v, err)
	}
}

func TestSignErrors(t *testing.T) {
	wasm := module(t)
	_, priv := key(1)
	cases := []struct {
		name string
		priv ed25519.PrivateKey
		opts []sign.Option
		want string
	}{
		{"no name", priv, nil, "sign: malformed statement: name is empty (give the module a name: the manifest's name, or --name)"},
		{"unprintable name", priv, []sign.Option{sign.WithName("a\x00b")}, "sign: malformed statement: name holds the unprintable character U+0000"},
		{"long version", priv, []sign.Option{sign.WithName("a"), sign.WithVersion(strings.Repeat("1", 300))}, "sign: malformed statement: version is 300 bytes, above the limit of 256"},
		{"short key", priv[:10], []sign.Option{sign.WithName("a")}, "sign: bad key: private key is 10 bytes, want 64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sign.Sign(wasm, nil, c.priv, c.opts...)
			if err == nil || err.Error() != c.want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, c.want)
			}
		})
	}
}

func TestParseEnvelopeShowsClaims(t *testing.T) {
	wasm := module(t)
	pub, priv := key(1)
	e, err := sign.ParseEnvelope(signed(t, wasm, testManifest, priv, "acme-identity"))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.KeyIDs) != 1 || e.KeyIDs[0] != sign.KeyID(pub) || e.Statement.Name != "acme-identity" {
		t.Fatalf("envelope %+v", e)
	}
	if err := e.Statement.Check(wasm, testManifest); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAny(t *testing.T) {
	wasm := module(t)
	alicePub, alicePriv := key(1)
	_, malloryPriv := key(2)
	p := policyOf(t, "alice", alicePub)
	bad := signed(t, wasm, nil, malloryPriv, "x")
	good := signed(t, wasm, nil, alicePriv, "x")
	if v, err := p.VerifyAny(wasm, nil, [][]byte{bad, good}); err != nil || v.KeyName != "alice" || !bytes.Equal(v.Envelope, good) {
		t.Fatalf("verified %+v, %v", v, err)
	}
	if _, err := p.VerifyAny(wasm, nil, [][]byte{bad}); !errors.Is(err, sign.ErrUntrusted) {
		t.Fatalf("only an untrusted signature: %v", err)
	}
	_, err := p.VerifyAny(wasm, nil, nil)
	if want := "sign: no signature by a trusted key: the module has no signature (sign it with wasinfer udf sign)"; err == nil || err.Error() != want {
		t.Fatalf("no signatures: %v", err)
	}
}
