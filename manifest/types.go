package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

// Type is a parsed column type (see [ParseType]).
type Type struct {
	// Kind is the type's name as the grammar spells it: "int32", "utf8",
	// "list", "fixed_size_list", "struct", "tensor", "timestamp", ...
	Kind string
	// Elem is the element type of list, large_list, fixed_size_list,
	// tensor (a primitive) and the value type of dictionary and map.
	Elem *Type
	// Key is the key type of map and the index type of dictionary.
	Key *Type
	// Size is N of fixed_size_list<T>[N] and W of fixed_size_binary[W].
	Size int
	// Dims is the shape of a tensor, row-major.
	Dims []Dim
	// Fields are the children of a struct, in order.
	Fields []TypeField
	// Unit is the time unit of time32, time64, timestamp and duration:
	// "s", "ms", "us" or "ns".
	Unit string
	// TZ is the time zone of a timestamp ("" for none).
	TZ string
	// Precision and Scale of decimal128 and decimal256.
	Precision, Scale int
}

// Dim is one dimension of a tensor shape: a fixed size, or a symbolic name
// that stands for any size, the same for every row of the column (and for
// every column of the manifest that uses the name).
type Dim struct {
	Size int    // > 0 when fixed
	Name string // non-empty when symbolic
}

// TypeField is one child of a struct type.
type TypeField struct {
	Name string
	Type *Type
}

// The primitive kinds: fixed-width types without parameters.
var primitiveKinds = map[string]int{
	"bool": 1, "int8": 1, "int16": 2, "int32": 4, "int64": 8,
	"uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8,
	"float16": 2, "float32": 4, "float64": 8, "date32": 4, "date64": 8,
}

// plainKinds have no parameters.
var plainKinds = map[string]bool{
	"null": true, "utf8": true, "large_utf8": true, "binary": true, "large_binary": true,
}

// IsPrimitive reports whether kind is a fixed-width type without parameters
// (bool, the integers, the floats, date32, date64).
func IsPrimitive(kind string) bool { _, ok := primitiveKinds[kind]; return ok }

// ParseType parses a column type. The grammar (spaces are allowed between
// tokens):
//
//	type      = "null" | "bool" | "int8" | "int16" | "int32" | "int64"
//	          | "uint8" | "uint16" | "uint32" | "uint64"
//	          | "float16" | "float32" | "float64"
//	          | "utf8" | "large_utf8" | "binary" | "large_binary"
//	          | "fixed_size_binary[" N "]"
//	          | "decimal128(" P "," S ")" | "decimal256(" P "," S ")"
//	          | "date32" | "date64"
//	          | "time32[" ("s"|"ms") "]" | "time64[" ("us"|"ns") "]"
//	          | "timestamp[" unit [ "," zone ] "]" | "duration[" unit "]"
//	          | "list<" type ">" | "large_list<" type ">"
//	          | "fixed_size_list<" type ">[" N "]"
//	          | "struct<" name ":" type { "," name ":" type } ">"
//	          | "map<" type "," type ">"
//	          | "dictionary<" index "," type ">"
//	          | "tensor<" primitive ">[" dim { "," dim } "]"
//	unit      = "s" | "ms" | "us" | "ns"
//	dim       = N | NAME        (NAME: a letter, then letters, digits, "_")
//	name      = NAME | a JSON string
//
// "tensor<T>[d1,...,dn]" is the canonical extension arrow.fixed_shape_tensor
// with value type T and shape [d1,...,dn]; a symbolic dim (H, W, C) matches
// any size. Nested children (list items, struct fields) are nullable in
// Arrow terms; whether a column's rows may be null is the column's nullable
// flag, not part of its type.
//
// A column may accept several types: [ParseTypes] reads "float32 | float64".
func ParseType(s string) (*Type, error) {
	p := &typeParser{s: s}
	t, err := p.parse(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected %q after the type", p.rest())
	}
	return t, nil
}

// ParseTypes parses alternatives separated by "|": "float32 | float64".
func ParseTypes(s string) ([]*Type, error) {
	var out []*Type
	p := &typeParser{s: s}
	for {
		t, err := p.parse(0)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		p.space()
		if p.i == len(p.s) {
			return out, nil
		}
		if !p.eat("|") {
			return nil, p.errorf("unexpected %q after the type (alternatives are separated by \"|\")", p.rest())
		}
	}
}

// maxTypeDepth bounds nesting, so that a hostile manifest cannot exhaust the
// stack.
const maxTypeDepth = 32

type typeParser struct {
	s string
	i int
}

func (p *typeParser) errorf(format string, args ...any) error {
	return fmt.Errorf("type %q: at byte %d: %s", p.s, p.i, fmt.Sprintf(format, args...))
}

func (p *typeParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *typeParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *typeParser) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *typeParser) expect(tok string) error {
	if !p.eat(tok) {
		if p.i >= len(p.s) {
			return p.errorf("missing %q at the end", tok)
		}
		return p.errorf("want %q, got %q", tok, p.rest())
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func (p *typeParser) ident() string {
	p.space()
	j := p.i
	if j < len(p.s) && isLetter(p.s[j]) {
		j++
		for j < len(p.s) && (isLetter(p.s[j]) || isDigit(p.s[j]) || p.s[j] == '_') {
			j++
		}
	}
	id := p.s[p.i:j]
	p.i = j
	return id
}

// number reads a decimal integer in [lo, hi].
func (p *typeParser) number(what string, lo, hi int) (int, error) {
	p.space()
	j := p.i
	for j < len(p.s) && isDigit(p.s[j]) {
		j++
	}
	if j == p.i {
		return 0, p.errorf("want %s (an integer), got %q", what, p.rest())
	}
	n, err := strconv.Atoi(p.s[p.i:j])
	if err != nil || n < lo || n > hi {
		return 0, p.errorf("%s %s out of range [%d, %d]", what, p.s[p.i:j], lo, hi)
	}
	p.i = j
	return n, nil
}

func (p *typeParser) parse(depth int) (*Type, error) {
	if depth > maxTypeDepth {
		return nil, p.errorf("nested deeper than %d levels", maxTypeDepth)
	}
	start := p.i
	kind := p.ident()
	if kind == "" {
		if p.i >= len(p.s) {
			return nil, p.errorf("missing type at the end")
		}
		return nil, p.errorf("want a type name, got %q", p.rest())
	}
	t := &Type{Kind: kind}
	switch {
	case plainKinds[kind] || IsPrimitive(kind):
		return t, nil
	case kind == "fixed_size_binary":
		var err error
		if err = p.expect("["); err == nil {
			if t.Size, err = p.number("width", 1, 1<<30); err == nil {
				err = p.expect("]")
			}
		}
		return t, err
	case kind == "decimal128" || kind == "decimal256":
		maxP := 38
		if kind == "decimal256" {
			maxP = 76
		}
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var err error
		if t.Precision, err = p.number("precision", 1, maxP); err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		if t.Scale, err = p.number("scale", 0, t.Precision); err != nil {
			return nil, err
		}
		return t, p.expect(")")
	case kind == "time32" || kind == "time64" || kind == "timestamp" || kind == "duration":
		if err := p.expect("["); err != nil {
			return nil, err
		}
		t.Unit = p.ident()
		ok := map[string][]string{
			"time32": {"s", "ms"}, "time64": {"us", "ns"},
			"timestamp": {"s", "ms", "us", "ns"}, "duration": {"s", "ms", "us", "ns"},
		}[kind]
		if !contains(ok, t.Unit) {
			return nil, p.errorf("%s unit %q: want one of %s", kind, t.Unit, strings.Join(ok, ", "))
		}
		if kind == "timestamp" && p.eat(",") {
			p.space()
			j := strings.IndexByte(p.s[p.i:], ']')
			if j < 0 {
				return nil, p.errorf("missing \"]\" after the time zone")
			}
			t.TZ = strings.TrimSpace(p.s[p.i : p.i+j])
			if t.TZ == "" {
				return nil, p.errorf("empty time zone (leave out \", zone\" for none)")
			}
			p.i += j
		}
		return t, p.expect("]")
	case kind == "list" || kind == "large_list" || kind == "fixed_size_list":
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		elem, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		t.Elem = elem
		if err := p.expect(">"); err != nil {
			return nil, err
		}
		if kind == "fixed_size_list" {
			if err := p.expect("["); err != nil {
				return nil, err
			}
			if t.Size, err = p.number("list size", 1, 1<<30); err != nil {
				return nil, err
			}
			return t, p.expect("]")
		}
		return t, nil
	case kind == "map" || kind == "dictionary":
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		key, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		val, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		t.Key, t.Elem = key, val
		if kind == "dictionary" && !contains([]string{"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}, key.Kind) {
			return nil, p.errorf("dictionary index type %s: want an integer type", key)
		}
		return t, p.expect(">")
	case kind == "struct":
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for {
			name, err := p.fieldName()
			if err != nil {
				return nil, err
			}
			if seen[name] {
				return nil, p.errorf("duplicate struct field %q", name)
			}
			seen[name] = true
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			ft, err := p.parse(depth + 1)
			if err != nil {
				return nil, err
			}
			t.Fields = append(t.Fields, TypeField{Name: name, Type: ft})
			if p.eat(">") {
				return t, nil
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
	case kind == "tensor":
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		at := p.i
		elem, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		if !IsPrimitive(elem.Kind) || elem.Kind == "bool" {
			p.i = at
			return nil, p.errorf("tensor value type %s: want a fixed-width numeric type", elem)
		}
		t.Elem = elem
		if err := p.expect(">"); err != nil {
			return nil, err
		}
		if err := p.expect("["); err != nil {
			return nil, err
		}
		for {
			p.space()
			if p.i < len(p.s) && isDigit(p.s[p.i]) {
				n, err := p.number("dimension", 1, 1<<30)
				if err != nil {
					return nil, err
				}
				t.Dims = append(t.Dims, Dim{Size: n})
			} else if name := p.ident(); name != "" {
				t.Dims = append(t.Dims, Dim{Name: name})
			} else {
				return nil, p.errorf("want a dimension (a size or a name), got %q", p.rest())
			}
			if p.eat("]") {
				return t, nil
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
	}
	p.i = start
	return nil, p.errorf("unknown type %q", kind)
}

func (p *typeParser) fieldName() (string, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		j := p.i + 1
		for j < len(p.s) && p.s[j] != '"' {
			if p.s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(p.s) {
			return "", p.errorf("unterminated field name")
		}
		name, err := strconv.Unquote(p.s[p.i : j+1])
		if err != nil {
			return "", p.errorf("bad field name %s", p.s[p.i:j+1])
		}
		p.i = j + 1
		return name, nil
	}
	name := p.ident()
	if name == "" {
		return "", p.errorf("want a field name, got %q", p.rest())
	}
	return name, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String formats t in the canonical spelling of the grammar (no spaces
// except after commas), which ParseType reads back to an equal Type.
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	switch t.Kind {
	case "fixed_size_binary":
		fmt.Fprintf(b, "fixed_size_binary[%d]", t.Size)
	case "decimal128", "decimal256":
		fmt.Fprintf(b, "%s(%d, %d)", t.Kind, t.Precision, t.Scale)
	case "time32", "time64", "duration":
		fmt.Fprintf(b, "%s[%s]", t.Kind, t.Unit)
	case "timestamp":
		if t.TZ != "" {
			fmt.Fprintf(b, "timestamp[%s, %s]", t.Unit, t.TZ)
		} else {
			fmt.Fprintf(b, "timestamp[%s]", t.Unit)
		}
	case "list", "large_list":
		b.WriteString(t.Kind + "<")
		t.Elem.write(b)
		b.WriteString(">")
	case "fixed_size_list":
		b.WriteString("fixed_size_list<")
		t.Elem.write(b)
		fmt.Fprintf(b, ">[%d]", t.Size)
	case "map", "dictionary":
		b.WriteString(t.Kind + "<")
		t.Key.write(b)
		b.WriteString(", ")
		t.Elem.write(b)
		b.WriteString(">")
	case "struct":
		b.WriteString("struct<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			if isIdent(f.Name) {
				b.WriteString(f.Name)
			} else {
				b.WriteString(strconv.Quote(f.Name))
			}
			b.WriteString(": ")
			f.Type.write(b)
		}
		b.WriteString(">")
	case "tensor":
		b.WriteString("tensor<")
		t.Elem.write(b)
		b.WriteString(">[")
		for i, d := range t.Dims {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.String())
		}
		b.WriteString("]")
	default:
		b.WriteString(t.Kind)
	}
}

func (d Dim) String() string {
	if d.Name != "" {
		return d.Name
	}
	return strconv.Itoa(d.Size)
}

func isIdent(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) && s[i] != '_' {
			return false
		}
	}
	return true
}
