package pipeline

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// The decoder turns a YAML document into Go values by walking its syntax
// tree next to the Go type, so that it can report every unknown key, every
// wrong type and every bad value with its line and column, and go on after
// each. (A YAML library's Unmarshal stops at the first.)
//
// Rules, for struct fields with a `yaml:"name"` tag (untagged fields and
// `yaml:"-"` are not settable from YAML; `yaml:",inline"` embeds a struct's
// fields):
//   - a null value leaves the field as it is;
//   - a string field takes any scalar, as written;
//   - a []string (or other list of scalars) also takes a single scalar;
//   - a type that implements encoding.TextUnmarshaler takes a scalar;
//   - an `any` field takes anything (mappings become map[string]any);
//   - anchors, aliases and merge keys (<<) work as in YAML 1.1.

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// place is a position in the file, 1-based.
type place struct{ line, col int }

func placeOf(n ast.Node) place {
	if n == nil {
		return place{}
	}
	switch t := n.(type) {
	case *ast.MappingValueNode:
		if t.Key != nil {
			return placeOf(t.Key)
		}
	case *ast.MappingNode:
		if !t.IsFlowStyle && len(t.Values) > 0 {
			return placeOf(t.Values[0])
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return place{}
	}
	return place{tk.Position.Line, tk.Position.Column}
}

type decoder struct {
	ps      *problems
	anchors map[string]ast.Node
	// values and keys record where each setting was written, by path, so
	// that later checks can point at it.
	values map[string]place
	keys   map[string]place
	// failed holds the paths whose value did not decode, so that later
	// checks do not report follow-on problems about them.
	failed map[string]bool
	depth  int
	// readFile reads a file a config value names with !file or !lines
	// (relative to the spec; nil: the tags are refused).
	readFile func(name string) ([]byte, error)
}

func newDecoder(ps *problems) *decoder {
	return &decoder{ps: ps, anchors: map[string]ast.Node{}, values: map[string]place{}, keys: map[string]place{}, failed: map[string]bool{}}
}

// parseYAML parses data and returns the body of its single document. A
// syntax error becomes a problem at its position.
func parseYAML(ps *problems, data []byte) ast.Node {
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		line, col, msg := 0, 0, err.Error()
		var te interface {
			GetToken() *token.Token
			GetMessage() string
		}
		if asError(err, &te) {
			msg = te.GetMessage()
			if tk := te.GetToken(); tk != nil && tk.Position != nil {
				line, col = tk.Position.Line, tk.Position.Column
			}
		}
		ps.add(line, col, "", "not valid YAML: %s", msg)
		return nil
	}
	var body ast.Node
	n := 0
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		n++
		if n == 1 {
			body = doc.Body
		} else {
			p := placeOf(doc.Body)
			ps.add(p.line, p.col, "", "a pipeline file holds one YAML document; this is a second one (remove the '---' above it or split the file)")
		}
	}
	if body == nil {
		ps.add(0, 0, "", "the file is empty: a pipeline needs at least source, stages and sink")
	}
	return body
}

// asError is errors.As without the import cycle of names.
func asError[T any](err error, target *T) bool {
	for err != nil {
		if t, ok := err.(T); ok {
			*target = t
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// resolve strips documents, tags and anchors from n and follows aliases.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for i := 0; n != nil && i < 64; i++ {
		switch t := n.(type) {
		case *ast.DocumentNode:
			n = t.Body
		case *ast.TagNode:
			n = t.Value
		case *ast.AnchorNode:
			if t.Name != nil {
				d.anchors[t.Name.String()] = t.Value
			}
			n = t.Value
		case *ast.AliasNode:
			name := ""
			if t.Value != nil {
				name = t.Value.String()
			}
			target, ok := d.anchors[name]
			if !ok {
				p := placeOf(t)
				d.ps.add(p.line, p.col, "", "alias *%s refers to no anchor &%s defined above it", name, name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	return n
}

func (d *decoder) problem(n ast.Node, path, format string, args ...any) {
	d.failed[path] = true
	p := placeOf(n)
	d.ps.add(p.line, p.col, path, format, args...)
}

// decode sets v (settable) from n, recording problems under path.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > 100 {
		d.problem(n, path, "nested too deeply (more than 100 levels)")
		return
	}
	if tag := customTag(n); tag != "" && v.Kind() != reflect.Interface {
		d.problem(n, path, "YAML tag %s is for config values only (!file and !lines)", tag)
		return
	}
	n = d.resolve(n)
	if n == nil || n.Type() == ast.NullType {
		return
	}
	if _, seen := d.values[path]; !seen {
		d.values[path] = placeOf(n)
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) {
		s, ok := scalarText(n)
		if !ok {
			d.problem(n, path, "want a single value, got %s", describe(n))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.problem(n, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if !v.IsNil() {
			nv.Elem().Set(v.Elem())
		}
		d.decode(n, nv.Elem(), path)
		v.Set(nv)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.String:
		s, ok := scalarText(n)
		if !ok {
			d.problem(n, path, "want a string, got %s", describe(n))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.problem(n, path, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(b.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := n.(*ast.IntegerNode)
		if !ok {
			d.problem(n, path, "want an integer, got %s", describe(n))
			return
		}
		x, err := strconv.ParseInt(strings.ReplaceAll(i.GetToken().Value, "_", ""), 0, 64)
		if err != nil || v.OverflowInt(x) {
			d.problem(n, path, "integer %s is out of range", i.GetToken().Value)
			return
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, ok := n.(*ast.IntegerNode)
		if !ok {
			d.problem(n, path, "want a non-negative integer, got %s", describe(n))
			return
		}
		x, err := strconv.ParseUint(strings.ReplaceAll(i.GetToken().Value, "_", ""), 0, 64)
		if err != nil || v.OverflowUint(x) {
			d.problem(n, path, "want a non-negative integer in range, got %s", i.GetToken().Value)
			return
		}
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		f, ok := number(n)
		if !ok {
			d.problem(n, path, "want a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			panic("pipeline: cannot decode into interface type " + v.Type().String())
		}
		if x := d.toAny(n, path); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		panic("pipeline: cannot decode into " + v.Type().String())
	}
}

// entries lists a mapping's key/value pairs; merge keys (<<) are expanded,
// their entries first so that explicit keys win.
func (d *decoder) entries(n ast.Node, path string) ([]*ast.MappingValueNode, bool) {
	var explicit, merged []*ast.MappingValueNode
	var values []*ast.MappingValueNode
	switch t := n.(type) {
	case *ast.MappingNode:
		values = t.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{t}
	default:
		return nil, false
	}
	for _, mv := range values {
		if mv.Key != nil && mv.Key.IsMergeKey() {
			src := d.resolve(mv.Value)
			var srcs []ast.Node
			if seq, ok := src.(*ast.SequenceNode); ok {
				for _, s := range seq.Values {
					srcs = append(srcs, d.resolve(s))
				}
			} else {
				srcs = []ast.Node{src}
			}
			for _, s := range srcs {
				es, ok := d.entries(s, path)
				if !ok {
					d.problem(mv.Value, path, "a merge key (<<) needs a mapping or a list of mappings, got %s", describe(s))
					continue
				}
				merged = append(merged, es...)
			}
			continue
		}
		explicit = append(explicit, mv)
	}
	return append(merged, explicit...), true
}

func keyText(mv *ast.MappingValueNode) string {
	if mv.Key == nil {
		return ""
	}
	if s, ok := scalarText(mv.Key); ok {
		return s
	}
	return mv.Key.String()
}

// field is a struct field settable from YAML.
type field struct {
	name  string
	index []int
}

// fieldsOf lists t's YAML fields, inline structs flattened.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("yaml")
		if !ok || tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for _, f := range fieldsOf(ft) {
				out = append(out, field{name: f.name, index: append([]int{i}, f.index...)})
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		out = append(out, field{name: name, index: []int{i}})
	}
	return out
}

// fieldByIndex is reflect.Value.FieldByIndex that allocates nil pointers to
// inline structs on the way.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func (d *decoder) structure(n ast.Node, v reflect.Value, path string) {
	es, ok := d.entries(n, path)
	if !ok {
		d.problem(n, path, "want a mapping (key: value lines), got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	byName := make(map[string]field, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	seen := map[string]bool{}
	for _, mv := range es {
		key := keyText(mv)
		sub := join(path, key)
		f, ok := byName[key]
		if !ok {
			d.problem(mv.Key, sub, "unknown key %q%s", key, suggest(key, fields))
			continue
		}
		if !isMerged(mv, n) {
			if seen[key] {
				d.problem(mv.Key, sub, "key %q is set twice", key)
			}
			seen[key] = true
		}
		d.keys[sub] = placeOf(mv.Key)
		d.decode(mv.Value, fieldByIndex(v, f.index), sub)
	}
}

// isMerged reports whether mv came from a merge key rather than from n itself.
func isMerged(mv *ast.MappingValueNode, n ast.Node) bool {
	switch t := n.(type) {
	case *ast.MappingNode:
		for _, x := range t.Values {
			if x == mv {
				return false
			}
		}
		return true
	case *ast.MappingValueNode:
		return t != mv
	}
	return true
}

func (d *decoder) slice(n ast.Node, v reflect.Value, path string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		// A single scalar where a list of scalars is wanted: a list of one.
		if _, scalar := scalarText(n); scalar && isScalarKind(v.Type().Elem()) {
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(n, elem, path+"[0]")
			v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), elem))
			return
		}
		d.problem(n, path, "want a list, got %s", describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		d.decode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
}

func isScalarKind(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func (d *decoder) mapping(n ast.Node, v reflect.Value, path string) {
	if v.Type().Key().Kind() != reflect.String {
		panic("pipeline: map keys must be strings: " + v.Type().String())
	}
	es, ok := d.entries(n, path)
	if !ok {
		d.problem(n, path, "want a mapping (key: value lines), got %s", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(es)))
	}
	seen := map[string]bool{}
	for _, mv := range es {
		key := keyText(mv)
		sub := join(path, key)
		if !isMerged(mv, n) {
			if seen[key] {
				d.problem(mv.Key, sub, "key %q is set twice", key)
			}
			seen[key] = true
		}
		d.keys[sub] = placeOf(mv.Key)
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(reflect.ValueOf(key).Convert(v.Type().Key())); old.IsValid() {
			elem.Set(old)
		}
		d.decode(mv.Value, elem, sub)
		v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	}
}

// toAny converts n to plain Go values: map[string]any, []any, string,
// int64, float64, bool, nil.
func (d *decoder) toAny(n ast.Node, path string) any {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > 100 {
		d.problem(n, path, "nested too deeply (more than 100 levels)")
		return nil
	}
	if tag := customTag(n); tag != "" {
		return d.tagged(n, tag, path)
	}
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	switch t := n.(type) {
	case *ast.NullNode:
		return nil
	case *ast.BoolNode:
		return t.Value
	case *ast.IntegerNode:
		x, err := strconv.ParseInt(strings.ReplaceAll(t.GetToken().Value, "_", ""), 0, 64)
		if err != nil {
			f, _ := number(n)
			return f
		}
		return x
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		f, _ := number(n)
		return f
	case *ast.SequenceNode:
		out := make([]any, 0, len(t.Values))
		for i, item := range t.Values {
			x := d.toAny(item, fmt.Sprintf("%s[%d]", path, i))
			if lines, ok := x.([]any); ok && customTag(item) == "!lines" {
				out = append(out, lines...) // spliced: [!lines a.txt, " "]
				continue
			}
			out = append(out, x)
		}
		return out
	case *ast.MappingNode, *ast.MappingValueNode:
		es, _ := d.entries(n, path)
		out := make(map[string]any, len(es))
		for _, mv := range es {
			key := keyText(mv)
			out[key] = d.toAny(mv.Value, join(path, key))
		}
		return out
	}
	if s, ok := scalarText(n); ok {
		return s
	}
	d.problem(n, path, "cannot use %s here", describe(n))
	return nil
}

// customTag returns n's YAML tag when it is one of ours (not a !!
// standard tag), else "".
func customTag(n ast.Node) string {
	t, ok := n.(*ast.TagNode)
	if !ok || t.Start == nil || strings.HasPrefix(t.Start.Value, "!!") {
		return ""
	}
	return t.Start.Value
}

// tagged reads the file a !file or !lines config value names: !file gives
// its text, !lines its lines (without line ends; a last empty line is
// dropped), spliced into the list around it when it is a list item.
func (d *decoder) tagged(n ast.Node, tag, path string) any {
	t := n.(*ast.TagNode)
	if tag != "!file" && tag != "!lines" {
		d.problem(n, path, "unknown YAML tag %s (config values take !file PATH, the file's text, and !lines PATH, its lines)", tag)
		return nil
	}
	name, ok := scalarText(d.resolve(t.Value))
	if !ok || name == "" {
		d.problem(n, path, "%s wants a file name after it, as in %s dictionary.txt", tag, tag)
		return nil
	}
	if d.readFile == nil {
		d.problem(n, path, "%s is not available here", tag)
		return nil
	}
	data, err := d.readFile(name)
	if err != nil {
		d.problem(n, path, "%s %s: %v", tag, name, err)
		return nil
	}
	if !utf8.Valid(data) {
		d.problem(n, path, "%s %s: the file is not UTF-8 text", tag, name)
		return nil
	}
	if tag == "!file" {
		return string(data)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	lines := strings.Split(text, "\n")
	out := make([]any, len(lines))
	for i, l := range lines {
		out[i] = l
	}
	return out
}

// scalarText returns a scalar's text as written (strings unquoted).
func scalarText(n ast.Node) (string, bool) {
	switch t := n.(type) {
	case *ast.StringNode:
		return t.Value, true
	case *ast.LiteralNode:
		if t.Value != nil {
			return t.Value.Value, true
		}
		return "", true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	case *ast.MappingKeyNode:
		if t.Value != nil {
			return scalarText(t.Value)
		}
	}
	return "", false
}

func number(n ast.Node) (float64, bool) {
	switch t := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.GetToken().Value, "_", ""), 64)
		if err != nil {
			// hex, octal and binary integers
			i, err2 := strconv.ParseInt(strings.ReplaceAll(n.GetToken().Value, "_", ""), 0, 64)
			if err2 != nil {
				return 0, false
			}
			return float64(i), true
		}
		return f, true
	case *ast.InfinityNode:
		if strings.HasPrefix(t.GetToken().Value, "-") {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case *ast.NanNode:
		return math.NaN(), true
	}
	return 0, false
}

// describe names what n is, for "want X, got Y" messages.
func describe(n ast.Node) string {
	switch t := n.(type) {
	case nil:
		return "nothing"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return fmt.Sprintf("the string %q", t.Value)
	case *ast.LiteralNode:
		return "a block of text"
	case *ast.IntegerNode:
		return "the integer " + t.GetToken().Value
	case *ast.FloatNode:
		return "the number " + t.GetToken().Value
	case *ast.BoolNode:
		return "the boolean " + t.GetToken().Value
	case *ast.NullNode:
		return "null"
	}
	return "a " + strings.ToLower(n.Type().String())
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest returns ` (did you mean "x"?)` for the closest field name, or the
// list of valid keys when none is close.
func suggest(key string, fields []field) string {
	best, bestD := "", 1<<30
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		names = append(names, f.name)
		if dist := editDistance(key, f.name); dist < bestD {
			best, bestD = f.name, dist
		}
	}
	if best != "" && bestD <= max(1, len(key)/3) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	sort.Strings(names)
	return " (valid keys: " + strings.Join(names, ", ") + ")"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
