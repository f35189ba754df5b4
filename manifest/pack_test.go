package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestPack(t *testing.T) {
	dir := fstest.MapFS{
		"vectors/01-in.arrow":  {Data: []byte("IN-1")},
		"vectors/01-out.arrow": {Data: []byte("OUT-1")},
		"vectors/02-in.arrow":  {Data: []byte("IN-2")},
	}
	mod := testModule()
	packed, m, err := Pack(mod, readFixture(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Vectors[0].Input, DataURIPrefix) || m.Vectors[1].Output != "" {
		t.Fatalf("vectors %+v", m.Vectors)
	}
	got, err := ReadVector(nil, m.Vectors[0].Output)
	if err != nil || string(got) != "OUT-1" {
		t.Fatalf("inlined output: %q %v", got, err)
	}
	data, err := Extract(packed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"type":"list<float32>"`)) {
		t.Fatalf("embedded JSON escapes <>: %s", data)
	}
	embedded, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := embedded.VerifyCode(packed); err != nil {
		t.Fatal(err)
	}
	// Reproducible, and packing a packed module again gives the same bytes.
	again, _, err := Pack(packed, readFixture(t), dir)
	if err != nil || !bytes.Equal(again, packed) {
		t.Fatalf("Pack is not reproducible: %v", err)
	}
	if _, _, err := Pack(mod, readFixture(t), fstest.MapFS{}); err == nil || !strings.Contains(err.Error(), "vectors[0]: opening vector: open vectors/01-in.arrow: file does not exist") {
		t.Fatalf("missing vector: %v", err)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	mod := testModule()
	path := filepath.Join(dir, "m.wasm")
	if _, _, err := Find(path, mod); !errors.Is(err, ErrNoManifest) ||
		err.Error() != "manifest: module has no wasinfer.manifest section, and there is no sidecar "+filepath.Join(dir, "m.manifest.json")+": embed one (go run ./manifest/cmd/embed) or write the sidecar" {
		t.Fatalf("no manifest: %v", err)
	}
	if err := os.WriteFile(SidecarPath(path), []byte(`{"sidecar":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	data, origin, err := Find(path, mod)
	if err != nil || origin != OriginSidecar || string(data) != `{"sidecar":1}` {
		t.Fatalf("sidecar: %q %s %v", data, origin, err)
	}
	packed, _ := Embed(mod, []byte(`{"embedded":1}`))
	data, origin, err = Find(path, packed)
	if err != nil || origin != OriginEmbedded || string(data) != `{"embedded":1}` {
		t.Fatalf("embedded: %q %s %v", data, origin, err)
	}
	packed[len(packed)-1] ^= 1
	if _, _, err := Find(path, packed); !errors.Is(err, ErrManifestDigest) {
		t.Fatalf("a corrupt embedded manifest must not fall back to the sidecar: %v", err)
	}
}

func TestReadVectorErrors(t *testing.T) {
	cases := map[string]string{
		"data:text/plain;base64,AA": `vector data URI "data:text/plain;base64,AA": want "data:application/vnd.apache.arrow.file;base64," followed by base64`,
		DataURIPrefix + "!!":        `decoding vector data URI: illegal base64 data at input byte 0`,
		"../x.arrow":                `vector path "../x.arrow": want a path inside the manifest's directory`,
		"x.arrow":                   `vector "x.arrow" is a file, but the manifest has no directory to read it from (inline it with Pack)`,
	}
	for ref, want := range cases {
		if _, err := ReadVector(nil, ref); err == nil || err.Error() != want {
			t.Errorf("%q: %v\nwant %s", ref, err, want)
		}
	}
}
