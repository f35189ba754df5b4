package sign_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/sign"
)

// policyDir writes alice.pub and bob.pub (keys 1 and 2) into a new directory.
func policyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, seed := range map[string]byte{"alice": 1, "bob": 2} {
		pub, _ := key(seed)
		pemData, err := sign.MarshalPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "keys", name+".pub"), pemData, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writePolicy(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func indent(s, by string) string {
	return by + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+by)
}

func TestLoadPolicy(t *testing.T) {
	dir := policyDir(t)
	bobPub, bobPriv := key(2)
	_, alicePriv := key(1)
	bobPEM, _ := sign.MarshalPublicKey(bobPub)
	path := writePolicy(t, dir, "trust.yaml", `# who may sign what
version: 1
keys:
  - name: alice
    public_key_file: keys/alice.pub
    modules: ["acme-*"]
  - name: bob
    id: `+sign.KeyID(bobPub)+`
    public_key: |
`+indent(string(bobPEM), "      ")+`
`)
	p, err := sign.LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := p.Keys()
	if len(keys) != 2 || keys[0].Name != "alice" || keys[1].Name != "bob" || keys[1].ID != sign.KeyID(bobPub) || p.Source() != path {
		t.Fatalf("policy %+v", keys)
	}
	wasm := module(t)
	if v, err := p.VerifyModule(wasm, nil, signed(t, wasm, nil, alicePriv, "acme-identity")); err != nil || v.KeyName != "alice" {
		t.Fatalf("alice: %+v %v", v, err)
	}
	if v, err := p.VerifyModule(wasm, nil, signed(t, wasm, nil, bobPriv, "anything")); err != nil || v.KeyName != "bob" {
		t.Fatalf("bob: %+v %v", v, err)
	}
	_, err = p.VerifyModule(wasm, nil, signed(t, wasm, nil, alicePriv, "other-identity"))
	want := `sign: module name not allowed: key ` + sign.ShortID(sign.KeyID(keys[0].PublicKey)) + ` (alice) may sign only modules named acme-* (` + path + `, line 6, column 14), not "other-identity"`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}

	// The same policy as JSON.
	jpath := writePolicy(t, dir, "trust.json", `{"keys": [{"name": "alice", "public_key_file": "keys/alice.pub", "modules": ["acme-*"]}]}`)
	if _, err := sign.LoadPolicy(jpath); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyErrors(t *testing.T) {
	dir := policyDir(t)
	alicePub, _ := key(1)
	aliceID := sign.KeyID(alicePub)
	cases := []struct {
		name, text, want string
	}{
		{"unknown field", "keys:\n  - name: alice\n    public_key_file: keys/alice.pub\n    trust: all\n",
			`{P}, line 4, column 5: unknown field "trust"`},
		{"syntax", "keys:\n  - name: [alice\n", `{P}, line 2, column 11: sequence end token ']' not found`},
		{"wrong type", "keys: alice\n", `{P}, line 1, column 7: string was used where sequence is expected`},
		// go-yaml v1.19.2 panicked decoding this (FuzzParsePolicy).
		{"tag", "keys: !0 0", `{P}, line 1, column 7: a YAML tag (!0) has no meaning in a trust policy; remove it`},
		{"nested tag", "keys:\n  - name: !!str alice\n", `{P}, line 2, column 11: a YAML tag (!!str) has no meaning in a trust policy; remove it`},
		{"no keys", "version: 1\n", `{P} lists no keys (add one under keys:)`},
		{"empty", "", `{P}: want one YAML document with a keys list`},
		{"version", "version: 2\nkeys: []\n", `{P}, line 1, column 10: version is 2; this wasinfer reads version 1`},
		{"no name", "keys:\n  - public_key_file: keys/alice.pub\n", `{P}, line 2, column 5: key 1 has no name`},
		{"duplicate name", "keys:\n  - name: a\n    public_key_file: keys/alice.pub\n  - name: a\n    public_key_file: keys/bob.pub\n",
			`{P}, line 4, column 11: a second key named "a" (the first is at {P}, line 2, column 11)`},
		{"same key twice", "keys:\n  - name: a\n    public_key_file: keys/alice.pub\n  - name: b\n    public_key_file: keys/alice.pub\n",
			`{P}, line 4, column 5: key "b" is the same key as "a" (id ` + sign.ShortID(aliceID) + `): list each key once`},
		{"no key", "keys:\n  - name: a\n", `{P}, line 2, column 5: key "a" has no public_key_file (or public_key)`},
		{"both keys", "keys:\n  - name: a\n    public_key_file: keys/alice.pub\n    public_key: x\n", `{P}, line 2, column 5: key "a" has both public_key and public_key_file; keep one`},
		{"missing file", "keys:\n  - name: a\n    public_key_file: keys/carol.pub\n",
			`{P}, line 3, column 22: key "a": sign: reading key: open ` + filepath.Join(dir, "keys", "carol.pub") + `: no such file or directory`},
		{"inline not PEM", "keys:\n  - name: a\n    public_key: hello\n", `{P}, line 3, column 17: key "a": sign: bad key: no PEM block (want -----BEGIN PUBLIC KEY-----)`},
		{"wrong id", "keys:\n  - name: a\n    public_key_file: keys/alice.pub\n    id: 00ff\n",
			`{P}, line 4, column 9: key "a": id is 00ff, but its public key's id is ` + aliceID},
		{"bad pattern", "keys:\n  - name: a\n    public_key_file: keys/alice.pub\n    modules: [ok, \"acme-[x\"]\n",
			`{P}, line 4, column 19: key "a": module pattern "acme-[x" is malformed (want a name, or a pattern like acme-*)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writePolicy(t, dir, "trust.yaml", c.text)
			_, err := sign.LoadPolicy(path)
			want := "sign: invalid trust policy: " + strings.ReplaceAll(c.want, "{P}", path)
			if err == nil || err.Error() != want || !errors.Is(err, sign.ErrPolicy) {
				t.Fatalf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}
