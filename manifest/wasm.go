package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Custom section names.
const (
	// SectionName is the custom section holding the manifest's JSON.
	SectionName = "wasinfer.manifest"
	// DigestSectionName is the custom section holding the lowercase hex
	// SHA-256 of the manifest section's payload (64 bytes).
	DigestSectionName = "wasinfer.manifest.sha256"
)

// Errors of the section functions. Each is wrapped with the details (the
// byte offset, the sizes, the digests).
var (
	// ErrNotWasm: the bytes are not a core WebAssembly module.
	ErrNotWasm = errors.New("manifest: not a WebAssembly module")
	// ErrMalformed: a section header or a custom section's name is out of
	// bounds or badly encoded.
	ErrMalformed = errors.New("manifest: malformed WebAssembly module")
	// ErrNoManifest: the module has no wasinfer.manifest section.
	ErrNoManifest = errors.New("manifest: module has no " + SectionName + " section")
	// ErrDuplicate: the module has more than one manifest or digest section.
	ErrDuplicate = errors.New("manifest: duplicate section")
	// ErrManifestDigest: the manifest section does not match its digest
	// section: the manifest was changed after it was embedded.
	ErrManifestDigest = errors.New("manifest: manifest section does not match its digest")
	// ErrCodeDigest: the module's code does not match the manifest's
	// code_sha256: the module was changed after its manifest was made.
	ErrCodeDigest = errors.New("manifest: module code does not match code_sha256")
)

// maxSections bounds the number of sections Sections walks. Real modules
// have at most a few dozen.
const maxSections = 100_000

// Section is one section of a module, as [Sections] found it.
type Section struct {
	// ID is the section id: 0 custom, 1 type, 2 import, ... (core spec §5.5).
	ID byte
	// Name is a custom section's name ("" for the others).
	Name string
	// Start and End delimit the whole section in the module, header
	// included: module[Start:End].
	Start, End int
	// Payload is the section's content after its header (and, for a custom
	// section, after its name). It aliases the module's bytes.
	Payload []byte
}

// Sections splits a module into its sections, checking every header
// against the module's length: the magic and version, each section's id,
// its size (a LEB128 u32 of at most 5 bytes, no bits past 32), and each
// custom section's name (a LEB128 length and valid UTF-8 within the
// section). It does not decode the contents of other sections.
//
// # Errors
//
// ErrNotWasm for a wrong magic number or version, ErrMalformed (naming the
// byte offset) for a header out of bounds.
func Sections(wasm []byte) ([]Section, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, fmt.Errorf("%w (no \\0asm magic number)", ErrNotWasm)
	}
	if v := wasm[4:8]; !bytes.Equal(v, []byte{1, 0, 0, 0}) {
		return nil, fmt.Errorf("%w (binary version %x; want 01000000, a core module)", ErrNotWasm, v)
	}
	var out []Section
	for pos := 8; pos < len(wasm); {
		if len(out) == maxSections {
			return nil, fmt.Errorf("%w: more than %d sections", ErrMalformed, maxSections)
		}
		start := pos
		id := wasm[pos]
		if id > 13 {
			return nil, fmt.Errorf("%w: byte %d: unknown section id %d", ErrMalformed, pos, id)
		}
		size, n, err := readU32(wasm, pos+1)
		if err != nil {
			return nil, fmt.Errorf("%w: byte %d: size of section %d: %w", ErrMalformed, pos+1, id, err)
		}
		body := pos + 1 + n
		if uint64(size) > uint64(len(wasm)-body) {
			return nil, fmt.Errorf("%w: byte %d: section %d of %d bytes runs past the end of the module (%d bytes left)", ErrMalformed, start, id, size, len(wasm)-body)
		}
		end := body + int(size)
		s := Section{ID: id, Start: start, End: end, Payload: wasm[body:end:end]}
		if id == 0 {
			nameLen, m, err := readU32(wasm[:end], body)
			if err != nil {
				return nil, fmt.Errorf("%w: byte %d: name length of custom section: %w", ErrMalformed, body, err)
			}
			nameStart := body + m
			if uint64(nameLen) > uint64(end-nameStart) {
				return nil, fmt.Errorf("%w: byte %d: custom section name of %d bytes runs past its section (%d bytes left)", ErrMalformed, body, nameLen, end-nameStart)
			}
			name := wasm[nameStart : nameStart+int(nameLen)]
			if !utf8.Valid(name) {
				return nil, fmt.Errorf("%w: byte %d: custom section name is not valid UTF-8", ErrMalformed, nameStart)
			}
			s.Name = string(name)
			s.Payload = wasm[nameStart+int(nameLen) : end : end]
		}
		out = append(out, s)
		pos = end
	}
	return out, nil
}

// readU32 reads an unsigned LEB128 u32 at b[pos:], strictly: at most 5
// bytes, and the fifth may not set bits past the 32nd.
func readU32(b []byte, pos int) (v uint32, n int, err error) {
	for shift := 0; ; shift += 7 {
		if pos+n >= len(b) {
			return 0, 0, errors.New("truncated LEB128 number")
		}
		c := b[pos+n]
		n++
		if n == 5 && c > 0x0f {
			return 0, 0, errors.New("LEB128 number does not fit in 32 bits")
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, n, nil
		}
	}
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// appendCustom appends a custom section named name holding payload.
func appendCustom(b []byte, name string, payload []byte) []byte {
	var head []byte
	head = appendU32(head, uint32(len(name)))
	head = append(head, name...)
	b = append(b, 0)
	b = appendU32(b, uint32(len(head)+len(payload)))
	b = append(b, head...)
	return append(b, payload...)
}

// Extract returns a copy of the manifest embedded in a module: the payload
// of its wasinfer.manifest custom section. When the module also has a
// wasinfer.manifest.sha256 section, Extract checks the payload against it.
// Extract does not parse the JSON (see Parse).
//
// # Errors
//
// ErrNotWasm, ErrMalformed (from Sections); ErrNoManifest when there is no
// manifest section; ErrDuplicate when there are two manifest or two digest
// sections, or a digest section without a manifest; ErrManifestDigest
// when the digest does not match.
func Extract(wasm []byte) ([]byte, error) {
	secs, err := Sections(wasm)
	if err != nil {
		return nil, err
	}
	var man, digest *Section
	for i := range secs {
		s := &secs[i]
		if s.ID != 0 {
			continue
		}
		switch s.Name {
		case SectionName:
			if man != nil {
				return nil, fmt.Errorf("%w: two %s sections, at bytes %d and %d", ErrDuplicate, SectionName, man.Start, s.Start)
			}
			man = s
		case DigestSectionName:
			if digest != nil {
				return nil, fmt.Errorf("%w: two %s sections, at bytes %d and %d", ErrDuplicate, DigestSectionName, digest.Start, s.Start)
			}
			digest = s
		}
	}
	if man == nil {
		if digest != nil {
			return nil, fmt.Errorf("%w: a %s section at byte %d but no %s section", ErrDuplicate, DigestSectionName, digest.Start, SectionName)
		}
		return nil, ErrNoManifest
	}
	if digest != nil {
		sum := sha256.Sum256(man.Payload)
		want := string(digest.Payload)
		if got := hex.EncodeToString(sum[:]); got != want {
			return nil, fmt.Errorf("%w: the %s section (byte %d, %d bytes) has sha256 %s, its %s section says %q: the module was modified after its manifest was embedded; rebuild it or fetch it again",
				ErrManifestDigest, SectionName, man.Start, len(man.Payload), got, DigestSectionName, abbreviate(want, 80))
		}
	}
	return bytes.Clone(man.Payload), nil
}

func abbreviate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Strip returns a copy of the module without its wasinfer.manifest and
// wasinfer.manifest.sha256 sections (every other byte in order).
//
// # Errors
//
// As Sections.
func Strip(wasm []byte) ([]byte, error) {
	secs, err := Sections(wasm)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(wasm))
	out = append(out, wasm[:8]...)
	for _, s := range secs {
		if s.ID == 0 && (s.Name == SectionName || s.Name == DigestSectionName) {
			continue
		}
		out = append(out, wasm[s.Start:s.End]...)
	}
	return out, nil
}

// Embed returns a copy of the module with manifest as its wasinfer.manifest
// section and that section's digest as wasinfer.manifest.sha256, both
// appended at the end; any previous manifest and digest sections are
// removed first. The result depends only on the two arguments, so a build
// that embeds the same manifest into the same module is reproducible.
// Embed does not parse the manifest (see Pack).
//
// # Errors
//
// As Sections; an error for an empty manifest.
func Embed(wasm, manifest []byte) ([]byte, error) {
	if len(manifest) == 0 {
		return nil, errors.New("manifest: embedding an empty manifest")
	}
	if uint64(len(manifest)) > 1<<31 {
		return nil, fmt.Errorf("manifest: embedding a manifest of %d bytes: too large", len(manifest))
	}
	out, err := Strip(wasm)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(manifest)
	out = appendCustom(out, SectionName, manifest)
	return appendCustom(out, DigestSectionName, []byte(hex.EncodeToString(sum[:]))), nil
}

// CodeDigest is the lowercase hex SHA-256 of the module without its
// manifest sections (Strip): what a manifest's code_sha256 declares.
//
// # Errors
//
// As Sections.
func CodeDigest(wasm []byte) (string, error) {
	code, err := Strip(wasm)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(code)
	return hex.EncodeToString(sum[:]), nil
}
