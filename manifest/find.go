package manifest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SidecarSuffix replaces ".wasm" in a module's file name to name its
// sidecar manifest.
const SidecarSuffix = ".manifest.json"

// SidecarPath is the sidecar manifest's path for a module at modulePath:
// "dir/normalize.wasm" → "dir/normalize.manifest.json".
func SidecarPath(modulePath string) string {
	return strings.TrimSuffix(modulePath, ".wasm") + SidecarSuffix
}

// Origin says where Find found a manifest.
type Origin string

// Origins.
const (
	OriginEmbedded Origin = "embedded" // the module's wasinfer.manifest section
	OriginSidecar  Origin = "sidecar"  // the file SidecarPath(module)
)

// Find returns the manifest of the module read from modulePath (wasm is its
// content): the embedded one, else the sidecar file. It returns the raw
// JSON and where it came from; parse it with Parse.
//
// # Errors
//
// The errors of Extract other than ErrNoManifest (a corrupt section is an
// error even if a sidecar exists); ErrNoManifest, wrapped with the sidecar
// path it tried, when there is neither; an error reading the sidecar.
func Find(modulePath string, wasm []byte) ([]byte, Origin, error) {
	data, err := Extract(wasm)
	if err == nil {
		return data, OriginEmbedded, nil
	}
	if !errors.Is(err, ErrNoManifest) {
		return nil, "", err
	}
	side := SidecarPath(modulePath)
	data, err = os.ReadFile(side)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("%w, and there is no sidecar %s: embed one (go run ./manifest/cmd/embed) or write the sidecar", ErrNoManifest, side)
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading sidecar manifest: %w", err)
	}
	return data, OriginSidecar, nil
}

// maxVectorFile bounds one vector file read from disk.
const maxVectorFile = 64 << 20

// ReadVector returns the bytes of a vector reference (Vector.Input or
// Vector.Output): the decoded data URI, or the file at ref relative to dir.
// dir may be nil when every reference is a data URI.
//
// # Errors
//
// A bad data URI; a path that leaves dir; a missing file.
func ReadVector(dir fs.FS, ref string) ([]byte, error) {
	if strings.HasPrefix(ref, "data:") {
		enc, ok := strings.CutPrefix(ref, DataURIPrefix)
		if !ok {
			return nil, fmt.Errorf("vector data URI %q: want %q followed by base64", abbreviate(ref, 60), DataURIPrefix)
		}
		b, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("decoding vector data URI: %w", err)
		}
		return b, nil
	}
	if !fs.ValidPath(ref) {
		return nil, fmt.Errorf("vector path %q: want a path inside the manifest's directory", ref)
	}
	if dir == nil {
		return nil, fmt.Errorf("vector %q is a file, but the manifest has no directory to read it from (inline it with Pack)", ref)
	}
	f, err := dir.Open(ref)
	if err != nil {
		return nil, fmt.Errorf("opening vector: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("opening vector: %w", err)
	}
	if st.Size() > maxVectorFile {
		return nil, fmt.Errorf("vector %s is %d bytes, above the limit of %d", ref, st.Size(), maxVectorFile)
	}
	return fs.ReadFile(dir, ref)
}

// DataURI encodes an Arrow IPC file as a vector data URI.
func DataURI(ipc []byte) string {
	return DataURIPrefix + base64.StdEncoding.EncodeToString(ipc)
}

// Pack builds a module with its manifest embedded, from the module as a
// toolchain built it and the manifest's source JSON:
//
//   - it parses and validates the source (Parse);
//   - it inlines every vector file (read from dir, the manifest's
//     directory) as a data URI, so that the module is self-contained;
//   - it sets code_sha256 to CodeDigest(wasm) (replacing any value);
//   - it marshals the manifest as compact JSON (deterministic: fields in
//     declaration order, map keys sorted) and embeds it (Embed).
//
// The result depends only on its inputs, so `make udfs` is reproducible.
// It returns the module and the manifest it embedded.
//
// # Errors
//
// The errors of Parse, ReadVector, CodeDigest and Embed.
func Pack(wasm, source []byte, dir fs.FS) ([]byte, *Manifest, error) {
	m, err := Parse(source)
	if err != nil {
		return nil, nil, err
	}
	for i := range m.Vectors {
		v := &m.Vectors[i]
		for _, ref := range []*string{&v.Input, &v.Output} {
			if *ref == "" || strings.HasPrefix(*ref, "data:") {
				continue
			}
			b, err := ReadVector(dir, *ref)
			if err != nil {
				return nil, nil, fmt.Errorf("vectors[%d]: %w", i, err)
			}
			*ref = DataURI(b)
		}
	}
	if m.CodeSHA256, err = CodeDigest(wasm); err != nil {
		return nil, nil, err
	}
	if m.Capabilities == nil {
		m.Capabilities = []Capability{}
	}
	data, err := Marshal(m)
	if err != nil {
		return nil, nil, err
	}
	out, err := Embed(wasm, data)
	if err != nil {
		return nil, nil, err
	}
	return out, m, nil
}

// Marshal encodes a manifest as compact JSON, as Pack embeds it: raw JSON
// members (config, examples) compacted, "<", ">" and "&" not escaped.
func Marshal(m *Manifest) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "list<float32>" readable
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// ParseFile reads and parses a manifest file (a sidecar or a manifest
// source); errors name the file.
func ParseFile(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.ToSlash(path), err)
	}
	return m, nil
}
