package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxSize bounds the manifest JSON Parse accepts: 16 MiB (inline vectors
// included).
const MaxSize = 16 << 20

// SyntaxError is a JSON manifest that cannot be read: bad JSON, an unknown
// or duplicate field, a value of the wrong kind. Line and Column (1-based,
// columns in bytes) locate it; Field is the path of the field ("" at the
// top level).
type SyntaxError struct {
	Line, Column int
	Field        string
	Msg          string
}

func (e *SyntaxError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("manifest: line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("manifest: line %d, column %d: %s: %s", e.Line, e.Column, e.Field, e.Msg)
}

// Parse reads a manifest from JSON and validates it.
//
// # Errors
//
// A *SyntaxError (with line and column) when the text is not valid JSON,
// is larger than MaxSize, has an unknown field, a duplicate key, or a value
// of the wrong kind for its field; a *ValidationError (every problem, each
// naming its field) when it reads but fails Validate. In both cases the
// *Manifest is nil.
func Parse(data []byte) (*Manifest, error) {
	m, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Decode reads a manifest from JSON without validating it (for tools that
// report every problem of a manifest they are about to fix); see Parse.
func Decode(data []byte) (*Manifest, error) {
	if len(data) > MaxSize {
		return nil, &SyntaxError{Line: 1, Column: 1, Msg: fmt.Sprintf("manifest is %d bytes, above the limit of %d", len(data), MaxSize)}
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		line, col := position(data, i)
		return nil, &SyntaxError{Line: line, Column: col, Msg: "not valid UTF-8"}
	}
	w := &walker{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	if err := w.value(reflect.TypeFor[Manifest](), "", 0); err != nil {
		return nil, err
	}
	off := int(w.dec.InputOffset())
	for off < len(data) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
		off++
	}
	if off < len(data) {
		return nil, w.errAt(off, "", "unexpected data after the manifest object")
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		// The walk has checked every kind; what is left is a number out of
		// range for its field.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			line, col := position(data, int(te.Offset))
			return nil, &SyntaxError{Line: line, Column: col, Field: te.Field, Msg: fmt.Sprintf("%s does not fit in %s", te.Value, te.Type)}
		}
		return nil, &SyntaxError{Line: 1, Column: 1, Msg: err.Error()}
	}
	return &m, nil
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// walker checks the token stream against the Go types of Manifest, so that
// every error can name its field and position.
type walker struct {
	data []byte
	dec  *json.Decoder
}

// next is the offset of the next token: past whitespace, ',' and ':'.
func (w *walker) next() int {
	off := int(w.dec.InputOffset())
	for off < len(w.data) && strings.IndexByte(" \t\r\n,:", w.data[off]) >= 0 {
		off++
	}
	return off
}

func (w *walker) errAt(off int, field, format string, args ...any) error {
	line, col := position(w.data, off)
	return &SyntaxError{Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (w *walker) token(field string) (json.Token, int, error) {
	off := w.next()
	tok, err := w.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, 0, w.errAt(int(se.Offset), field, "%s", strings.TrimPrefix(se.Error(), "json: "))
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, w.errAt(len(w.data), field, "unexpected end of the manifest")
		}
		return nil, 0, w.errAt(off, field, "%s", err.Error())
	}
	return tok, off, nil
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

func kindOf(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a value"
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// value reads one value of Go type t at field.
func (w *walker) value(t reflect.Type, field string, depth int) error {
	if depth > 64 {
		return w.errAt(w.next(), field, "nested deeper than 64 levels")
	}
	if t == rawMessage {
		return w.skip(field, depth)
	}
	tok, off, err := w.token(field)
	if err != nil {
		return err
	}
	if t.Kind() == reflect.Pointer {
		if tok == nil {
			return nil
		}
		t = t.Elem()
	}
	mismatch := func() error {
		return w.errAt(off, field, "%s, want %s", kindOf(tok), describe(t))
	}
	switch t.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return mismatch()
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields[name] = f.Type
			names = append(names, name)
		}
		return w.object(field, depth, func(key string, koff int, sub string) error {
			ft, ok := fields[key]
			if !ok {
				return w.errAt(koff, field, "unknown field %q (known: %s)", key, strings.Join(names, ", "))
			}
			return w.value(ft, sub, depth+1)
		})
	case reflect.Map:
		if tok != json.Delim('{') {
			return mismatch()
		}
		return w.object(field, depth, func(_ string, _ int, sub string) error {
			return w.value(t.Elem(), sub, depth+1)
		})
	case reflect.Slice:
		if tok == nil {
			return nil
		}
		if tok != json.Delim('[') {
			return mismatch()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(t.Elem(), fmt.Sprintf("%s[%d]", field, i), depth+1); err != nil {
				return err
			}
		}
		_, _, err := w.token(field)
		return err
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return mismatch()
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return mismatch()
		}
	case reflect.Int, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return mismatch()
		}
		if _, err := n.Int64(); err != nil {
			return w.errAt(off, field, "%s is not an integer that fits in 64 bits", n)
		}
	case reflect.Float64:
		n, ok := tok.(json.Number)
		if !ok {
			return mismatch()
		}
		if _, err := n.Float64(); err != nil {
			return w.errAt(off, field, "%s is out of range", n)
		}
	default:
		return w.skipAfter(tok, field, depth)
	}
	return nil
}

// object reads the members of an object whose '{' was read, calling member
// for each, and refuses duplicate keys.
func (w *walker) object(field string, depth int, member func(key string, off int, sub string) error) error {
	var seen []string
	for w.dec.More() {
		tok, off, err := w.token(field)
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if slices.Contains(seen, key) {
			return w.errAt(off, field, "duplicate field %q", key)
		}
		seen = append(seen, key)
		sub := key
		if field != "" {
			sub = field + "." + key
		}
		if err := member(key, off, sub); err != nil {
			return err
		}
	}
	_, _, err := w.token(field)
	return err
}

// skip reads one value of any kind.
func (w *walker) skip(field string, depth int) error {
	tok, _, err := w.token(field)
	if err != nil {
		return err
	}
	return w.skipAfter(tok, field, depth)
}

func (w *walker) skipAfter(tok json.Token, field string, depth int) error {
	if depth > 64 {
		return w.errAt(w.next(), field, "nested deeper than 64 levels")
	}
	switch tok {
	case json.Delim('{'):
		return w.object(field, depth, func(_ string, _ int, sub string) error { return w.skip(sub, depth+1) })
	case json.Delim('['):
		for i := 0; w.dec.More(); i++ {
			if err := w.skip(fmt.Sprintf("%s[%d]", field, i), depth+1); err != nil {
				return err
			}
		}
		_, _, err := w.token(field)
		return err
	}
	return nil
}
