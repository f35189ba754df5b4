package main

import (
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/wasinfer/wasinfer/manifest"
	"github.com/wasinfer/wasinfer/sign"
)

const identityC = "../../sdk/c/examples/identity/identity.wasm"

// identityManifest is a valid sidecar manifest for the identity module.
const identityManifest = `{"name":"identity","version":"1.2.0","description":"returns its input","license":"Apache-2.0","abi":"v1",` +
	`"language":"c","inputs":[],"outputs":[{"name":"x","type":"int64","nullable":true}],"capabilities":[],` +
	`"resources":{"memory_bytes":1048576,"ns_per_row":10}}`

// shareDir copies the identity module into a new directory (so signatures
// and sidecars land there), optionally with its sidecar manifest, and makes
// a key pair alice.key/alice.pub there. It returns the directory and the
// module's path.
func shareDir(t *testing.T, withManifest bool) (dir, mod string) {
	t.Helper()
	dir = t.TempDir()
	wasm, err := os.ReadFile(identityC)
	if err != nil {
		t.Fatal(err)
	}
	mod = filepath.Join(dir, "identity.wasm")
	if err := os.WriteFile(mod, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	if withManifest {
		if err := os.WriteFile(manifest.SidecarPath(mod), []byte(identityManifest), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errs := runCLI(t, "udf", "keygen", "--out", filepath.Join(dir, "alice")); code != exitOK {
		t.Fatalf("keygen: exit %d: %s", code, errs)
	}
	return dir, mod
}

func flipByte(t *testing.T, path string, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func restore(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUDFKeygen(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "alice")
	code, out, errs := runCLI(t, "udf", "keygen", "--out", name)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	pub, err := sign.LoadPublicKey(name + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	want := "key id:  " + sign.KeyID(pub) + "\nprivate: " + name + ".key (mode 0600; keep it secret)\npublic:  " + name + ".pub (list it in a trust policy)\n"
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if fi, err := os.Stat(name + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v %v", fi.Mode(), err)
	}
	code, _, errs = runCLI(t, "udf", "keygen", "--out", name)
	if want := "wasinfer: sign: " + name + ".key exists; remove it or choose another name (a key is never overwritten)\n"; code != exitFail || errs != want {
		t.Fatalf("second keygen: exit %d, stderr %q", code, errs)
	}
}

func TestUDFSignVerify(t *testing.T) {
	for _, withManifest := range []bool{true, false} {
		t.Run(map[bool]string{true: "sidecar manifest", false: "no manifest"}[withManifest], func(t *testing.T) {
			dir, mod := shareDir(t, withManifest)
			code, out, errs := runCLI(t, "udf", "sign", mod, "--key", filepath.Join(dir, "alice.key"))
			if code != exitOK {
				t.Fatalf("sign: exit %d: %s", code, errs)
			}
			wasm, _ := os.ReadFile(mod)
			pub, _ := sign.LoadPublicKey(filepath.Join(dir, "alice.pub"))
			what, as := "without a manifest", "identity"
			if withManifest {
				what, as = "with its sidecar manifest", "identity 1.2.0"
			}
			sig := filepath.Join(dir, "identity.sig.json")
			want := "signed " + mod + " (sha256:" + sign.ShortID(sign.Digest(wasm)) + ") " + what + " as " + as + " with key " + sign.ShortID(sign.KeyID(pub)) + "\nsignature: " + sig + "\n"
			if out != want {
				t.Fatalf("sign stdout:\n%s\nwant:\n%s", out, want)
			}
			policy := filepath.Join(dir, "trust.yaml")
			if err := os.WriteFile(policy, []byte("keys:\n  - name: alice\n    public_key_file: alice.pub\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, trust := range [][]string{{"--policy", policy}, {"--key", filepath.Join(dir, "alice.pub")}} {
				code, out, errs = runCLI(t, append([]string{"udf", "verify", mod}, trust...)...)
				signer := "alice"
				if trust[0] == "--key" {
					signer = "key " + filepath.Join(dir, "alice.pub")
				}
				want := "verified: " + mod + " (sha256:" + sign.ShortID(sign.Digest(wasm)) + ") is " + as + ", signed by " + signer + " (key " + sign.ShortID(sign.KeyID(pub)) + ")\n"
				if code != exitOK || out != want {
					t.Fatalf("verify %v: exit %d\nstdout %s\nstderr %s\nwant %s", trust, code, out, errs, want)
				}
			}
		})
	}
}

// An embedded manifest is signed as extracted from the module.
func TestUDFSignEmbeddedManifest(t *testing.T) {
	dir, mod := shareDir(t, false)
	wasm, _ := os.ReadFile(mod)
	packed, err := manifest.Embed(wasm, []byte(identityManifest))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mod, packed, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "udf", "sign", mod, "--key", filepath.Join(dir, "alice.key"))
	if code != exitOK || !strings.Contains(out, "with its embedded manifest as identity 1.2.0") {
		t.Fatalf("sign: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "udf", "verify", mod, "--key", filepath.Join(dir, "alice.pub")); code != exitOK {
		t.Fatalf("verify: exit %d: %s", code, errs)
	}
}

func TestUDFVerifyFailures(t *testing.T) {
	dir, mod := shareDir(t, true)
	if code, _, errs := runCLI(t, "udf", "sign", mod, "--key", filepath.Join(dir, "alice.key")); code != exitOK {
		t.Fatalf("sign: %s", errs)
	}
	if code, _, errs := runCLI(t, "udf", "keygen", "--out", filepath.Join(dir, "mallory")); code != exitOK {
		t.Fatal(errs)
	}
	wasm, _ := os.ReadFile(mod)
	side := manifest.SidecarPath(mod)
	sig := sign.SignaturePath(mod)
	alice := filepath.Join(dir, "alice.pub")
	alicePub, _ := sign.LoadPublicKey(alice)

	t.Run("untrusted key", func(t *testing.T) {
		code, _, errs := runCLI(t, "udf", "verify", mod, "--key", filepath.Join(dir, "mallory.pub"))
		want := "wasinfer: " + mod + ": " + sig + ": sign: no signature by a trusted key: signed by key " + sign.ShortID(sign.KeyID(alicePub)) +
			" (not in key " + filepath.Join(dir, "mallory.pub") + "; if you trust it, add its .pub file there)\n"
		if code != exitFail || errs != want {
			t.Fatalf("exit %d\n%s\nwant\n%s", code, errs, want)
		}
	})
	t.Run("name not allowed by policy", func(t *testing.T) {
		policy := filepath.Join(dir, "strict.yaml")
		if err := os.WriteFile(policy, []byte("keys:\n  - name: alice\n    public_key_file: alice.pub\n    modules: [\"acme-*\"]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, "udf", "verify", mod, "--policy", policy)
		want := "wasinfer: " + mod + ": " + sig + ": sign: module name not allowed: key " + sign.ShortID(sign.KeyID(alicePub)) +
			" (alice) may sign only modules named acme-* (" + policy + ", line 4, column 14), not \"identity\"\n"
		if code != exitFail || errs != want {
			t.Fatalf("exit %d\n%s\nwant\n%s", code, errs, want)
		}
	})
	t.Run("flipped byte in manifest", func(t *testing.T) {
		orig, _ := os.ReadFile(side)
		defer restore(t, side, orig)
		flipByte(t, side, strings.Index(identityManifest, "returns")) // "returns" → "seturns"
		changed, _ := os.ReadFile(side)
		code, _, errs := runCLI(t, "udf", "verify", mod, "--key", alice)
		want := "wasinfer: " + mod + ": " + sig + ": sign: manifest digest mismatch: the envelope signs manifest sha256:" + sign.ShortID(sign.Digest(orig)) +
			", the manifest is sha256:" + sign.ShortID(sign.Digest(changed)) + " (the manifest was changed after signing)\n"
		if code != exitFail || errs != want {
			t.Fatalf("exit %d\n%s\nwant\n%s", code, errs, want)
		}
	})
	t.Run("flipped byte in module", func(t *testing.T) {
		defer restore(t, mod, wasm)
		flipByte(t, mod, len(wasm)/2)
		changed, _ := os.ReadFile(mod)
		code, _, errs := runCLI(t, "udf", "verify", mod, "--key", alice)
		want := "wasinfer: " + mod + ": " + sig + ": sign: module digest mismatch: the envelope signs sha256:" + sign.ShortID(sign.Digest(wasm)) +
			", the module is sha256:" + sign.ShortID(sign.Digest(changed)) + " (the module was changed after signing, or the signature is another module's)\n"
		if code != exitFail || errs != want {
			t.Fatalf("exit %d\n%s\nwant\n%s", code, errs, want)
		}
	})
	t.Run("malformed signature", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.sig.json")
		if err := os.WriteFile(bad, []byte("{\n  \"payloadType\": 3\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, "udf", "verify", mod, "--key", alice, "--sig", bad)
		want := "wasinfer: " + mod + ": " + bad + ": sign: malformed envelope: line 2, column 3: payloadType is a JSON number, want a string\n"
		if code != exitFail || errs != want {
			t.Fatalf("exit %d\n%s\nwant\n%s", code, errs, want)
		}
	})
}

func TestUDFShareUsageErrors(t *testing.T) {
	dir, mod := shareDir(t, false)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"udf", "keygen"}, exitUsage, "wasinfer: udf keygen: --out NAME is required\n"},
		{[]string{"udf", "keygen", "x"}, exitUsage, "wasinfer: udf keygen: takes no arguments (name the files with --out NAME)\n"},
		{[]string{"udf", "sign", mod}, exitUsage, "wasinfer: udf sign: --key FILE is required (make one with wasinfer udf keygen)\n"},
		{[]string{"udf", "sign", "--key", "k"}, exitUsage, "wasinfer: udf sign: want exactly one MODULE.wasm argument, got 0\n"},
		{[]string{"udf", "sign", mod, "--key", filepath.Join(dir, "alice.pub")}, exitFail,
			"wasinfer: sign: private key " + filepath.Join(dir, "alice.pub") + ": sign: bad key: mode 0644 lets other users read it (run chmod 600 " + filepath.Join(dir, "alice.pub") + ")\n"},
		{[]string{"udf", "verify", mod}, exitUsage, "wasinfer: udf verify: --policy FILE or --key NAME.pub is required (whom do you trust?)\n"},
		{[]string{"udf", "verify", mod, "--policy", "p.yaml", "--key", "k.pub"}, exitUsage, "wasinfer: udf verify: give --policy or --key, not both\n"},
		{[]string{"udf", "verify", mod, "--key", filepath.Join(dir, "alice.pub")}, exitFail,
			"wasinfer: " + mod + ": no signature: " + filepath.Join(dir, "identity.sig.json") + " does not exist (sign it with wasinfer udf sign, or pass --sig FILE)\n"},
		{[]string{"udf", "push", "oci://localhost/x:1"}, exitUsage, "wasinfer: udf push: want REF and MODULE.wasm, got 1 arguments\n"},
		{[]string{"udf", "push", "localhost/x:1", mod}, exitUsage, `wasinfer: oci: bad reference "localhost/x:1": want oci://HOST/REPO:TAG, oci://HOST/REPO@sha256:…, or oci-layout:DIR:TAG` + "\n"},
		{[]string{"udf", "push", "oci://localhost/x@sha256:" + strings.Repeat("0", 64), mod}, exitFail,
			`wasinfer: oci: bad reference "oci://localhost/x@sha256:` + strings.Repeat("0", 64) + `": push needs a tag and no digest (the digest is computed from what is pushed)` + "\n"},
		{[]string{"udf", "pull"}, exitUsage, "wasinfer: udf pull: want exactly one REF argument, got 0\n"},
		{[]string{"udf", "pull", "oci://localhost/x"}, exitUsage, `wasinfer: oci: bad reference "oci://localhost/x": no tag or digest (add :TAG or @sha256:…)` + "\n"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errs := runCLI(t, c.args...)
			if code != c.code || errs != c.want {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d, stderr:\n%s", code, errs, c.code, c.want)
			}
		})
	}
}

// startRegistry runs an OCI registry (go-containerregistry's in-memory
// implementation, with the referrers API) on 127.0.0.1 and returns host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// isolate points the module cache and the Docker config at empty places.
func isolate(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir())
}

func TestUDFPushPull(t *testing.T) {
	isolate(t)
	host := startRegistry(t)
	dir, mod := shareDir(t, true)
	if code, _, errs := runCLI(t, "udf", "sign", mod, "--key", filepath.Join(dir, "alice.key")); code != exitOK {
		t.Fatalf("sign: %s", errs)
	}
	wasm, _ := os.ReadFile(mod)
	ref := "oci://" + host + "/udfs/identity:1.2.0"
	code, out, errs := runCLI(t, "udf", "push", ref, mod, "--plain-http")
	if code != exitOK || !strings.HasPrefix(out, ref+"@sha256:") {
		t.Fatalf("push: exit %d\n%s%s", code, out, errs)
	}
	pinned := strings.TrimSpace(out)
	if want := "wasinfer: pushed " + mod + " (" + strconv.Itoa(len(wasm)) + " bytes, module sha256:" + sign.Digest(wasm) + "), signature " + sign.SignaturePath(mod) + " attached\n"; errs != want {
		t.Fatalf("push stderr:\n%s\nwant:\n%s", errs, want)
	}

	for _, r := range []string{pinned, ref} {
		outDir := t.TempDir()
		dst := filepath.Join(outDir, "got.wasm")
		code, out, errs = runCLI(t, "udf", "pull", r, "--out", dst, "--plain-http", "--key", filepath.Join(dir, "alice.pub"))
		if code != exitOK || strings.TrimSpace(out) != pinned {
			t.Fatalf("pull %s: exit %d\n%s%s", r, code, out, errs)
		}
		got, _ := os.ReadFile(dst)
		side, _ := os.ReadFile(manifest.SidecarPath(dst))
		if !bytes.Equal(got, wasm) || string(side) != identityManifest {
			t.Fatal("pulled files differ from the pushed ones")
		}
		// What was pulled verifies as it lies on disk.
		if code, _, errs := runCLI(t, "udf", "verify", dst, "--key", filepath.Join(dir, "alice.pub")); code != exitOK {
			t.Fatalf("verify pulled: %s", errs)
		}
	}

	// A wrong pin, an untrusted key.
	wrong := ref + "@sha256:" + strings.Repeat("ab", 32)
	code, _, errs = runCLI(t, "udf", "pull", wrong, "--out", filepath.Join(t.TempDir(), "x.wasm"), "--plain-http")
	if code != exitFail || !strings.HasPrefix(errs, "wasinfer: oci: not found: "+host+"/udfs/identity has no manifest sha256:abababababab…; its tag 1.2.0 is at sha256:") {
		t.Fatalf("wrong pin: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "udf", "keygen", "--out", filepath.Join(dir, "mallory")); code != exitOK {
		t.Fatal(errs)
	}
	dst := filepath.Join(t.TempDir(), "x.wasm")
	code, _, errs = runCLI(t, "udf", "pull", pinned, "--out", dst, "--plain-http", "--key", filepath.Join(dir, "mallory.pub"))
	if code != exitFail || !strings.Contains(errs, "sign: no signature by a trusted key: signed by key ") {
		t.Fatalf("untrusted: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("an untrusted module was written")
	}
}

// Pushing a signature that is another module's is refused.
func TestUDFPushRefusesForeignSignature(t *testing.T) {
	isolate(t)
	dir, mod := shareDir(t, false)
	if code, _, errs := runCLI(t, "udf", "sign", mod, "--key", filepath.Join(dir, "alice.key")); code != exitOK {
		t.Fatalf("sign: %s", errs)
	}
	flipByte(t, mod, 100)
	code, _, errs := runCLI(t, "udf", "push", "oci-layout:"+filepath.Join(dir, "layout")+":1", mod)
	if code != exitFail || !strings.HasPrefix(errs, "wasinfer: "+sign.SignaturePath(mod)+" does not sign "+mod+": sign: module digest mismatch: ") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestUDFPushPullLayout(t *testing.T) {
	isolate(t)
	dir, mod := shareDir(t, false)
	if code, _, errs := runCLI(t, "udf", "sign", mod, "--key", filepath.Join(dir, "alice.key")); code != exitOK {
		t.Fatalf("sign: %s", errs)
	}
	layout := filepath.Join(dir, "modules")
	code, out, errs := runCLI(t, "udf", "push", "oci-layout:"+layout+":1.0.0", mod)
	if code != exitOK {
		t.Fatalf("push: exit %d: %s", code, errs)
	}
	pinned := strings.TrimSpace(out)
	work := t.TempDir()
	t.Chdir(work)
	code, out, errs = runCLI(t, "udf", "pull", pinned, "--key", filepath.Join(dir, "alice.pub"))
	if code != exitOK || strings.TrimSpace(out) != pinned {
		t.Fatalf("pull: exit %d\n%s%s", code, out, errs)
	}
	got, _ := os.ReadFile(filepath.Join(work, "modules.wasm"))
	wasm, _ := os.ReadFile(mod)
	if !bytes.Equal(got, wasm) {
		t.Fatal("pulled module differs")
	}
	if _, err := os.Stat(filepath.Join(work, "modules.sig.json")); err != nil {
		t.Fatalf("signature not written beside the module: %v", err)
	}
}

func TestUDFShareHelp(t *testing.T) {
	for _, cmd := range []string{"keygen", "sign", "verify", "push", "pull"} {
		code, out, _ := runCLI(t, "udf", cmd, "--help")
		if code != exitOK || !strings.Contains(out, "Examples:\n") || !strings.Contains(out, "wasinfer udf "+cmd+" ") {
			t.Errorf("udf %s --help: exit %d\n%s", cmd, code, out)
		}
	}
}
