package sign

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PayloadType is the DSSE payload type of a wasinfer module statement.
// Its version is part of the name: an incompatible statement gets a new one.
const PayloadType = "application/vnd.wasinfer.module-statement.v1+json"

// Limits on untrusted input.
const (
	// MaxEnvelopeBytes bounds a signature file.
	MaxEnvelopeBytes = 1 << 20
	// maxSignatures bounds the signatures of one envelope.
	maxSignatures = 32
	// maxNameBytes bounds a module name or version.
	maxNameBytes = 256
)

// A Statement is what a signature vouches for: the module's bytes, its
// manifest's bytes, and the name and version the signer gave them. It is the
// DSSE payload, encoded as JSON with the fields in this order:
//
//	{"module_sha256":"<64 hex>","manifest_sha256":"<64 hex>"|null,"name":"…","version":"…"}
//
// There is no timestamp: signing the same inputs with the same key yields
// the same envelope, byte for byte (ed25519 is deterministic). Trust is
// withdrawn by removing the key from the policy, not by expiry.
type Statement struct {
	// ModuleSHA256 is the lowercase hex sha256 of the module's bytes.
	ModuleSHA256 string `json:"module_sha256"`
	// ManifestSHA256 is the lowercase hex sha256 of the manifest's bytes,
	// or nil when the module was signed without a manifest.
	ManifestSHA256 *string `json:"manifest_sha256"`
	// Name is the module's name; a policy may restrict which names a key
	// may sign.
	Name string `json:"name"`
	// Version is the module's version, empty when unknown.
	Version string `json:"version,omitempty"`
}

// Digest returns the lowercase hex sha256 of data.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// NewStatement returns the statement for a module, its manifest (nil when
// there is none; the empty slice is a manifest of zero bytes) and a name and
// version.
func NewStatement(module, manifest []byte, name, version string) (Statement, error) {
	st := Statement{ModuleSHA256: Digest(module), Name: name, Version: version}
	if manifest != nil {
		d := Digest(manifest)
		st.ManifestSHA256 = &d
	}
	if err := st.Validate(); err != nil {
		return Statement{}, err
	}
	return st, nil
}

// Validate checks the fields: digests are 64 lowercase hex characters, the
// name is present, and name and version are short printable UTF-8.
func (s Statement) Validate() error {
	if err := checkHex("module_sha256", s.ModuleSHA256); err != nil {
		return err
	}
	if s.ManifestSHA256 != nil {
		if err := checkHex("manifest_sha256", *s.ManifestSHA256); err != nil {
			return err
		}
	}
	if s.Name == "" {
		return fmt.Errorf("%w: name is empty (give the module a name: the manifest's name, or --name)", ErrMalformedStatement)
	}
	if err := checkText("name", s.Name); err != nil {
		return err
	}
	return checkText("version", s.Version)
}

func checkHex(field, v string) error {
	if len(v) != 64 {
		return fmt.Errorf("%w: %s has %d characters, want 64 lowercase hex", ErrMalformedStatement, field, len(v))
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: %s: character %d is %q, want lowercase hex", ErrMalformedStatement, field, i+1, c)
		}
	}
	return nil
}

func checkText(field, v string) error {
	if len(v) > maxNameBytes {
		return fmt.Errorf("%w: %s is %d bytes, above the limit of %d", ErrMalformedStatement, field, len(v), maxNameBytes)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrMalformedStatement, field)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: %s holds the unprintable character %U", ErrMalformedStatement, field, r)
		}
	}
	return nil
}

// marshal encodes the statement (compact JSON, fields in declaration order).
func (s Statement) marshal() []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic("sign: encoding statement: " + err.Error()) // strings and a pointer to one cannot fail
	}
	return b
}

// ParseStatement decodes and validates a statement (a DSSE payload). It is
// strict: unknown fields, a missing field, a second JSON value or a wrong
// type are errors that say where.
//
// # Errors
//
// ErrMalformedStatement, wrapped with the position and what is wrong.
func ParseStatement(payload []byte) (Statement, error) {
	var raw struct {
		ModuleSHA256   *string         `json:"module_sha256"`
		ManifestSHA256 json.RawMessage `json:"manifest_sha256"`
		Name           *string         `json:"name"`
		Version        *string         `json:"version"`
	}
	if err := decodeStrict(payload, &raw); err != nil {
		return Statement{}, fmt.Errorf("%w: %w", ErrMalformedStatement, err)
	}
	var st Statement
	switch {
	case raw.ModuleSHA256 == nil:
		return Statement{}, fmt.Errorf("%w: module_sha256 is missing", ErrMalformedStatement)
	case raw.ManifestSHA256 == nil:
		return Statement{}, fmt.Errorf("%w: manifest_sha256 is missing (null when there is no manifest)", ErrMalformedStatement)
	case raw.Name == nil:
		return Statement{}, fmt.Errorf("%w: name is missing", ErrMalformedStatement)
	}
	st.ModuleSHA256, st.Name = *raw.ModuleSHA256, *raw.Name
	if raw.Version != nil {
		st.Version = *raw.Version
	}
	if !bytes.Equal(raw.ManifestSHA256, []byte("null")) {
		var d string
		if err := json.Unmarshal(raw.ManifestSHA256, &d); err != nil {
			return Statement{}, fmt.Errorf("%w: manifest_sha256 is %s, want a hex string or null", ErrMalformedStatement, clip(raw.ManifestSHA256))
		}
		st.ManifestSHA256 = &d
	}
	if err := st.Validate(); err != nil {
		return Statement{}, err
	}
	return st, nil
}

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data, and turns decoder errors into "line L, column C: …".
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(data, err, dec.InputOffset())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		off := dec.InputOffset()
		return fmt.Errorf("%s: data after the JSON object", position(data, off))
	}
	return nil
}

func jsonError(data []byte, err error, off int64) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		return fmt.Errorf("%s: %w", position(data, se.Offset-1), err)
	case errors.As(err, &te):
		at := keyOffset(data, te.Field, te.Offset)
		return fmt.Errorf("%s: %s is a JSON %s, want %s", position(data, at), fieldName(te.Field), te.Value, jsonKind(te.Type))
	case errors.Is(err, io.EOF):
		return errors.New("empty (want a JSON object)")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: unexpected end of JSON", position(data, int64(len(data))))
	}
	// An unknown field ("json: unknown field \"x\"") carries no offset;
	// point at the last occurrence of the key before where decoding stopped.
	if q, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name, err := strconv.Unquote(q); err == nil {
			off = keyOffset(data, name, off)
		}
	}
	return fmt.Errorf("%s: %w", position(data, off), err)
}

// keyOffset returns the offset of the last "key" (the last element of a
// dotted field path) in data before off, or off-1 when there is none.
func keyOffset(data []byte, field string, off int64) int64 {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if field != "" && off > 0 {
		key, _ := json.Marshal(field)
		if i := bytes.LastIndex(data[:off], key); i >= 0 {
			return int64(i)
		}
	}
	return off - 1
}

func fieldName(f string) string {
	if f == "" {
		return "the value"
	}
	return f
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Float64:
		return "a number"
	}
	return "an object"
}

// position turns a byte offset of data into "line L, column C" (both from 1;
// the column counts bytes).
func position(data []byte, off int64) string {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
