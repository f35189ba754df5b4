package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Schema is the subset of JSON Schema (draft 2020-12 keywords) that a
// manifest's config.schema may use:
//
//	type                  "object", "array", "string", "number", "integer", "boolean"
//	description, default  documentation; default must satisfy the schema
//	enum                  allowed values (any JSON)
//	minimum, maximum      numbers, inclusive
//	minLength, maxLength  strings, in Unicode code points
//	items, minItems, maxItems          arrays
//	properties, required, additionalProperties (false, or absent = true)  objects
//
// Other keywords are refused by Parse, so a schema never says more than
// Check enforces.
type Schema struct {
	Type                 string             `json:"type"`
	Description          string             `json:"description,omitempty"`
	Default              json.RawMessage    `json:"default,omitempty"`
	Enum                 []json.RawMessage  `json:"enum,omitempty"`
	Minimum              *float64           `json:"minimum,omitempty"`
	Maximum              *float64           `json:"maximum,omitempty"`
	MinLength            *int               `json:"minLength,omitempty"`
	MaxLength            *int               `json:"maxLength,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	MinItems             *int               `json:"minItems,omitempty"`
	MaxItems             *int               `json:"maxItems,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties *bool              `json:"additionalProperties,omitempty"`
}

var schemaTypes = []string{"array", "boolean", "integer", "number", "object", "string"}

// validate checks the schema itself.
func (s *Schema) validate(v *validator, field string, depth int) {
	if depth > maxTypeDepth {
		v.add(field, "nested deeper than %d levels", maxTypeDepth)
		return
	}
	if !slices.Contains(schemaTypes, s.Type) {
		v.add(field+".type", "%q: want one of %s", s.Type, strings.Join(schemaTypes, ", "))
		return
	}
	only := func(ok bool, kw, types string) {
		if !ok {
			v.add(field+"."+kw, "only applies to %s, not %s", types, s.Type)
		}
	}
	num := s.Type == "number" || s.Type == "integer"
	only(num || (s.Minimum == nil && s.Maximum == nil), "minimum", "number and integer")
	only(s.Type == "string" || (s.MinLength == nil && s.MaxLength == nil), "minLength", "string")
	only(s.Type == "array" || (s.Items == nil && s.MinItems == nil && s.MaxItems == nil), "items", "array")
	only(s.Type == "object" || (s.Properties == nil && s.Required == nil && s.AdditionalProperties == nil), "properties", "object")
	if s.Minimum != nil && s.Maximum != nil && *s.Minimum > *s.Maximum {
		v.add(field, "minimum %g > maximum %g", *s.Minimum, *s.Maximum)
	}
	for _, p := range []struct {
		kw string
		n  *int
	}{{"minLength", s.MinLength}, {"maxLength", s.MaxLength}, {"minItems", s.MinItems}, {"maxItems", s.MaxItems}} {
		if p.n != nil && *p.n < 0 {
			v.add(field+"."+p.kw, "%d: want >= 0", *p.n)
		}
	}
	if s.Type == "array" && s.Items != nil {
		s.Items.validate(v, field+".items", depth+1)
	}
	for _, name := range mapsKeys(s.Properties) {
		p := s.Properties[name]
		if p == nil {
			v.add(field+".properties."+name, "null: want a schema")
			continue
		}
		p.validate(v, field+".properties."+name, depth+1)
	}
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; !ok {
			v.add(field+".required", "%q is not in properties", r)
		}
	}
	if len(s.Default) > 0 {
		if err := s.check(s.Default, "default", depth); err != nil {
			v.add(field+".default", "%v", err)
		}
	}
	for i, e := range s.Enum {
		if err := s.checkType(e, fmt.Sprintf("enum[%d]", i)); err != nil {
			v.add(field+".enum", "%v", err)
		}
	}
}

func mapsKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Check reports whether value (JSON text) satisfies the schema, naming the
// first offending member: `config "std"[1]: -1 is below the minimum 1e-09`.
func (s *Schema) Check(value []byte) error {
	return s.check(value, "config", 0)
}

func (s *Schema) check(value []byte, path string, depth int) error {
	if depth > maxTypeDepth {
		return fmt.Errorf("%s: nested deeper than %d levels", path, maxTypeDepth)
	}
	if err := s.checkType(value, path); err != nil {
		return err
	}
	if len(s.Enum) > 0 {
		ok := false
		for _, e := range s.Enum {
			if jsonEqual(e, value) {
				ok = true
				break
			}
		}
		if !ok {
			vals := make([]string, len(s.Enum))
			for i, e := range s.Enum {
				vals[i] = string(bytes.TrimSpace(e))
			}
			return fmt.Errorf("%s: %s is not one of %s", path, show(value), strings.Join(vals, ", "))
		}
	}
	switch s.Type {
	case "number", "integer":
		var f float64
		_ = json.Unmarshal(value, &f)
		if s.Minimum != nil && f < *s.Minimum {
			return fmt.Errorf("%s: %s is below the minimum %g", path, show(value), *s.Minimum)
		}
		if s.Maximum != nil && f > *s.Maximum {
			return fmt.Errorf("%s: %s is above the maximum %g", path, show(value), *s.Maximum)
		}
	case "string":
		var str string
		_ = json.Unmarshal(value, &str)
		n := len([]rune(str))
		if s.MinLength != nil && n < *s.MinLength {
			return fmt.Errorf("%s: string of %d characters, want at least %d", path, n, *s.MinLength)
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			return fmt.Errorf("%s: string of %d characters, want at most %d", path, n, *s.MaxLength)
		}
	case "array":
		var items []json.RawMessage
		_ = json.Unmarshal(value, &items)
		if s.MinItems != nil && len(items) < *s.MinItems {
			return fmt.Errorf("%s: %d items, want at least %d", path, len(items), *s.MinItems)
		}
		if s.MaxItems != nil && len(items) > *s.MaxItems {
			return fmt.Errorf("%s: %d items, want at most %d", path, len(items), *s.MaxItems)
		}
		if s.Items != nil {
			for i, it := range items {
				if err := s.Items.check(it, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
		}
	case "object":
		var obj map[string]json.RawMessage
		_ = json.Unmarshal(value, &obj)
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				return fmt.Errorf("%s: missing required member %q", path, r)
			}
		}
		for _, k := range mapsKeys(obj) {
			p, ok := s.Properties[k]
			sub := fmt.Sprintf("%s %q", path, k)
			if depth > 0 {
				sub = fmt.Sprintf("%s.%s", path, k)
			}
			if !ok {
				if s.AdditionalProperties != nil && !*s.AdditionalProperties {
					return fmt.Errorf("%s: unknown member %q (known: %s)", path, k, strings.Join(mapsKeys(s.Properties), ", "))
				}
				continue
			}
			if err := p.check(obj[k], sub, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkType checks the JSON kind of value against s.Type.
func (s *Schema) checkType(value []byte, path string) error {
	value = bytes.TrimSpace(value)
	if !json.Valid(value) {
		return fmt.Errorf("%s: not valid JSON", path)
	}
	var kind string
	switch value[0] {
	case '{':
		kind = "object"
	case '[':
		kind = "array"
	case '"':
		kind = "string"
	case 't', 'f':
		kind = "boolean"
	case 'n':
		kind = "null"
	default:
		kind = "number"
	}
	want := s.Type
	if want == "integer" && kind == "number" {
		var f float64
		if err := json.Unmarshal(value, &f); err != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s: %s is not an integer", path, show(value))
		}
		return nil
	}
	if kind != want {
		return fmt.Errorf("%s: %s is %s %s, want %s %s", path, show(value), article(kind), kind, article(want), want)
	}
	return nil
}

func article(s string) string {
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "an"
	}
	return "a"
}

func show(v []byte) string {
	s := string(bytes.TrimSpace(v))
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// jsonEqual compares two JSON values by meaning (member order and spacing
// do not matter; numbers compare as float64).
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return equalAny(x, y)
}

func equalAny(x, y any) bool {
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for k, v := range xv {
			w, ok := yv[k]
			if !ok || !equalAny(v, w) {
				return false
			}
		}
		return true
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for i := range xv {
			if !equalAny(xv[i], yv[i]) {
				return false
			}
		}
		return true
	default:
		return x == y
	}
}
