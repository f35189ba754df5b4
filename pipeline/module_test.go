package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/oci"
	"github.com/wasinfer/wasinfer/sign"
)

// specIn writes a pipeline file into dir, with $ROOT the repository.
func specIn(t *testing.T, dir, body string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(body, "$ROOT", root)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// copyModule copies the C identity example into dir.
func copyModule(t *testing.T, dir string) string {
	t.Helper()
	wasm, err := os.ReadFile("../sdk/c/examples/identity/identity.wasm")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "identity.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func openPeek(t *testing.T, spec string) (*Job, error) {
	t.Helper()
	s, err := Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	j, err := Open(context.Background(), s, ModePeek, WithGPUs(0))
	if err == nil {
		t.Cleanup(func() { _ = j.Close(context.Background()) })
	}
	return j, err
}

func TestRequireSigned(t *testing.T) {
	dir := t.TempDir()
	mod := copyModule(t, dir)
	pub, priv := sign.GenerateKey()
	if _, _, err := sign.WriteKeyPair(filepath.Join(dir, "team"), pub, priv); err != nil {
		t.Fatal(err)
	}
	policy := "version: 1\nkeys:\n  - name: team\n    public_key_file: team.pub\n"
	if err := os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := specIn(t, dir, `source: {format: parquet, paths: [$ROOT/examples/quickstart/readings.parquet]}
stages:
  - udf: identity.wasm
sink: {format: parquet, path: out/}
run:
  require_signed: trust.yaml
`)
	// Unsigned: refused, at the stage's line.
	_, err := openPeek(t, spec)
	if err == nil || !strings.Contains(err.Error(), "pipeline.yaml:3:5: stages[0].udf: run.require_signed: ") || !strings.Contains(err.Error(), "has no signature") {
		t.Fatalf("unsigned module: got %v", err)
	}
	// Signed by the trusted key: loads.
	wasm, _ := os.ReadFile(mod)
	env, err := sign.Sign(wasm, nil, priv, sign.WithName("identity"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sign.SignaturePath(mod), env, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openPeek(t, spec); err != nil {
		t.Fatalf("signed module refused: %v", err)
	}
	// Changed after signing: refused, naming the digest mismatch.
	wasm[len(wasm)-1] ^= 1
	if err := os.WriteFile(mod, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = openPeek(t, spec)
	if err == nil || !errors.Is(err, sign.ErrModuleDigest) && !strings.Contains(err.Error(), "digest mismatch") {
		t.Fatalf("tampered module: got %v", err)
	}
}

func TestOCILayoutModule(t *testing.T) {
	dir := t.TempDir()
	wasm, err := os.ReadFile("../sdk/c/examples/identity/identity.wasm")
	if err != nil {
		t.Fatal(err)
	}
	layout := filepath.Join(dir, "modules")
	pushed, err := oci.Push(context.Background(), "oci-layout:"+layout+":v1", oci.Artifact{Wasm: wasm, Title: "identity.wasm"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	spec := specIn(t, dir, `source: {format: parquet, paths: [$ROOT/examples/quickstart/readings.parquet]}
stages:
  - name: ident
    udf: oci-layout:modules:v1
sink: {format: parquet, path: out/}
`)
	j, err := openPeek(t, spec)
	if err != nil {
		t.Fatalf("module from an OCI layout (%v): %v", pushed, err)
	}
	rec, err := j.Pipeline.TakeBatch(context.Background(), 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if rec.NumRows() != 5 {
		t.Fatalf("%d rows", rec.NumRows())
	}
	// A pin that does not match the module is refused.
	spec = specIn(t, dir, `source: {format: parquet, paths: [$ROOT/examples/quickstart/readings.parquet]}
stages:
  - name: ident
    udf: oci-layout:modules:v1
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
sink: {format: parquet, path: out/}
`)
	if _, err := openPeek(t, spec); err == nil || !strings.Contains(err.Error(), "not the pinned 0000") {
		t.Fatalf("wrong pin: got %v", err)
	}
}
