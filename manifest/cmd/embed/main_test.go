package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/manifest"
)

const man = `{"name":"x","version":"1.0.0","description":"d","license":"MIT","abi":"v1","language":"wat",
"inputs":[],"outputs":[{"name":"y","type":"int32"}],"capabilities":[],"resources":{"memory_bytes":65536,"ns_per_row":1},
"vectors":[{"input":"v/in.arrow","output":"v/out.arrow"}]}`

func TestEmbed(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wasm")
	src := filepath.Join(dir, "manifest.json")
	out := filepath.Join(dir, "out.wasm")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(in, []byte("\x00asm\x01\x00\x00\x00"), 0o644))
	must(os.WriteFile(src, []byte(man), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "v"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "v", "in.arrow"), []byte("I"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "v", "out.arrow"), []byte("O"), 0o644))
	var stderr bytes.Buffer
	if code := run([]string{"-manifest", src, "-o", out, in}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	wasm, err := os.ReadFile(out)
	must(err)
	data, err := manifest.Extract(wasm)
	must(err)
	m, err := manifest.Parse(data)
	must(err)
	if err := m.VerifyCode(wasm); err != nil || m.Vectors[0].Input != manifest.DataURI([]byte("I")) {
		t.Fatalf("embedded manifest %+v: %v", m, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".embed-") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}

	stderr.Reset()
	must(os.WriteFile(src, []byte(strings.Replace(man, `"abi":"v1"`, `"abi":"v9"`, 1)), 0o644))
	if code := run([]string{"-manifest", src, "-o", out, in}, &stderr); code != 1 ||
		stderr.String() != "embed: "+src+": manifest: abi: \"v9\": this wasinfer supports ABI v1 only\n" {
		t.Fatalf("exit %d: %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{in}, &stderr); code != 2 || !strings.HasPrefix(stderr.String(), "usage: embed") {
		t.Fatalf("usage: exit %d: %q", code, stderr.String())
	}
}
