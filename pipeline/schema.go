package pipeline

import (
	"reflect"
	"strings"
)

// JSONSchema returns a JSON Schema (draft 2020-12) of the pipeline file,
// generated from the Go types, for editor completion and checking. The
// committed copy, pipeline.schema.json, is kept equal to it by a test.
func JSONSchema() map[string]any {
	s := schemaOf(reflect.TypeFor[Spec](), map[reflect.Type]bool{})
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["title"] = "wasinfer pipeline"
	s["description"] = "A wasinfer batch-inference job: source, stages and sink."
	return s
}

func schemaOf(t reflect.Type, visiting map[reflect.Type]bool) map[string]any {
	switch t {
	case reflect.TypeFor[ByteSize]():
		return map[string]any{
			"description": "A size in bytes: an integer, or a number with a unit (KiB, MiB, GiB, KB, MB, GB).",
			"anyOf": []any{
				map[string]any{"type": "integer", "minimum": 0},
				map[string]any{"type": "string", "pattern": `^\s*[0-9]+(\.[0-9]+)?\s*([KMGT]i?B|[KMGTkmgt]|B|b)?\s*$`},
			},
		}
	case reflect.TypeFor[Duration]():
		return map[string]any{
			"description": "A duration such as 250ms, 30s, 5m or 1h30m.",
			"anyOf": []any{
				map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$`},
				map[string]any{"const": 0},
			},
		}
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), visiting)
	case reflect.Struct:
		if visiting[t] {
			return map[string]any{"type": "object"}
		}
		visiting[t] = true
		defer delete(visiting, t)
		props := map[string]any{}
		for _, f := range structFields(t) {
			s := schemaOf(f.typ, visiting)
			if f.doc != "" {
				s["description"] = f.doc
			}
			props[f.name] = s
		}
		return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	case reflect.Slice:
		items := schemaOf(t.Elem(), visiting)
		if isScalarKind(t.Elem()) {
			return map[string]any{"anyOf": []any{map[string]any{"type": "array", "items": items}, items}}
		}
		return map[string]any{"type": "array", "items": items}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), visiting)}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Interface:
		return map[string]any{}
	}
	panic("pipeline: no JSON Schema for " + t.String())
}

type schemaField struct {
	name, doc string
	typ       reflect.Type
}

// structFields lists t's YAML fields with their types and docs, inline
// structs flattened (the same fields the decoder accepts).
func structFields(t reflect.Type) []schemaField {
	var out []schemaField
	for _, f := range fieldsOf(t) {
		sf := t.FieldByIndex(f.index)
		out = append(out, schemaField{name: f.name, doc: strings.TrimSpace(sf.Tag.Get("doc")), typ: sf.Type})
	}
	return out
}
