// Command json_extract is a wasinfer UDF: it extracts fields from a utf8
// column of JSON documents into typed columns.
//
// Config:
//
//	{"column": "json",                       // the input column (utf8 or large_utf8)
//	 "fields": [{"path": "user.name", "name": "name", "type": "utf8"},
//	            {"path": "scores[0]", "name": "first", "type": "float64"}],
//	 "on_error": "null"}                     // or "error"
//
// A path is member names separated by "." with optional array indices
// ("a.b[2].c"); a name containing "." or "[" cannot be addressed. Types: utf8
// (a JSON string), int64 (an integral number within int64), float64 (any
// number), bool, json (the value's compact JSON text, any kind). A missing
// member, a JSON null, or a value of another type gives null. A document
// that is not valid JSON gives nulls in every field ("on_error": "null",
// the default) or fails the batch, naming the row ("on_error": "error"). A
// null input row gives nulls. Every input column passes through; the field
// columns come last, in config order.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	wasinfer "github.com/wasinfer/wasinfer/sdk/go"
)

var udf = wasinfer.UDF{
	Name:        "json_extract",
	Version:     "1.0.0",
	Description: "extract typed fields from a utf8 column of JSON documents",
	Init:        configure,
	Transform:   extract,
}

func init() { wasinfer.Register(udf) }

func main() {}

// step is one element of a path: a member name or an array index.
type step struct {
	name  string
	index int // >= 0 for an array index
}

type field struct {
	path  []step
	name  string
	typ   string
	arrow arrow.DataType
}

type config struct {
	column  string
	fields  []field
	onError string
}

var cfg = config{column: "json", onError: "null"}

var types = map[string]arrow.DataType{
	"utf8": arrow.BinaryTypes.String, "json": arrow.BinaryTypes.String, "int64": arrow.PrimitiveTypes.Int64,
	"float64": arrow.PrimitiveTypes.Float64, "bool": arrow.FixedWidthTypes.Boolean,
}

func parsePath(p string) ([]step, error) {
	if p == "" {
		return nil, errors.New("empty path")
	}
	var out []step
	for _, part := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" && len(out) == 0 && rest == "" {
			return nil, fmt.Errorf("empty member name in %q", p)
		}
		if name != "" {
			out = append(out, step{name: name, index: -1})
		} else if rest == "" {
			return nil, fmt.Errorf("empty member name in %q", p)
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil || i < 0 {
				return nil, fmt.Errorf("bad array index in %q", p)
			}
			out = append(out, step{index: i})
			if after == "" {
				break
			}
			if !strings.HasPrefix(after, "[") {
				return nil, fmt.Errorf("unexpected %q in %q", after, p)
			}
			rest = after[1:]
		}
	}
	return out, nil
}

func configure(text []byte) error {
	var raw struct {
		Column *string `json:"column"`
		Fields []struct {
			Path string `json:"path"`
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"fields"`
		OnError *string `json:"on_error"`
	}
	c := config{column: "json", onError: "null"}
	if len(bytes.TrimSpace(text)) > 0 {
		d := json.NewDecoder(bytes.NewReader(text))
		d.DisallowUnknownFields()
		if err := d.Decode(&raw); err != nil {
			return fmt.Errorf("config: %w (keys: column, fields, on_error)", err)
		}
	}
	if raw.Column != nil {
		if *raw.Column == "" {
			return errors.New(`config: "column" must not be empty`)
		}
		c.column = *raw.Column
	}
	if raw.OnError != nil {
		if *raw.OnError != "null" && *raw.OnError != "error" {
			return fmt.Errorf(`config: "on_error" is %q, want "null" or "error"`, *raw.OnError)
		}
		c.onError = *raw.OnError
	}
	if len(raw.Fields) == 0 {
		return errors.New(`config: "fields" must list at least one {"path", "name", "type"}`)
	}
	seen := map[string]bool{}
	for i, f := range raw.Fields {
		p, err := parsePath(f.Path)
		if err != nil {
			return fmt.Errorf(`config: "fields"[%d].path: %w`, i, err)
		}
		dt, ok := types[f.Type]
		if !ok {
			return fmt.Errorf(`config: "fields"[%d].type is %q, want utf8, int64, float64, bool or json`, i, f.Type)
		}
		name := f.Name
		if name == "" {
			name = f.Path
		}
		if seen[name] {
			return fmt.Errorf(`config: "fields"[%d]: the name %q is used twice`, i, name)
		}
		seen[name] = true
		c.fields = append(c.fields, field{path: p, name: name, typ: f.Type, arrow: dt})
	}
	cfg = c
	return nil
}

// lookup follows the path through a decoded document.
func lookup(v any, path []step) (any, bool) {
	for _, s := range path {
		if s.index >= 0 {
			a, ok := v.([]any)
			if !ok || s.index >= len(a) {
				return nil, false
			}
			v = a[s.index]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[s.name]; !ok {
			return nil, false
		}
	}
	return v, v != nil
}

var mem = memory.NewGoAllocator()

func extract(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	schema := rec.Schema()
	idx := schema.FieldIndices(cfg.column)
	if len(idx) == 0 {
		return nil, wasinfer.Errorf(wasinfer.StatusUnsupportedInput, "column %q: not in the input batch", cfg.column)
	}
	var text func(i int) string
	switch c := rec.Column(idx[0]).(type) {
	case *array.String:
		text = c.Value
	case *array.LargeString:
		text = c.Value
	default:
		return nil, wasinfer.Errorf(wasinfer.StatusUnsupportedInput, "column %q: type %s, want utf8 or large_utf8", cfg.column, c.DataType())
	}
	in := rec.Column(idx[0])
	builders := make([]array.Builder, len(cfg.fields))
	for i, f := range cfg.fields {
		builders[i] = array.NewBuilder(mem, f.arrow)
	}
	defer func() {
		for _, b := range builders {
			b.Release()
		}
	}()
	rows := int(rec.NumRows())
	for r := range rows {
		var doc any
		ok := in.IsValid(r)
		if ok {
			d := json.NewDecoder(strings.NewReader(text(r)))
			d.UseNumber()
			err := d.Decode(&doc)
			if err == nil && d.More() {
				err = errors.New("data after the JSON value")
			}
			if err != nil {
				if cfg.onError == "error" {
					return nil, fmt.Errorf("column %q row %d: not valid JSON: %w", cfg.column, r, err)
				}
				ok = false
			}
		}
		for i, f := range cfg.fields {
			var v any
			found := false
			if ok {
				v, found = lookup(doc, f.path)
			}
			appendValue(builders[i], f.typ, v, found)
		}
	}
	fields := append([]arrow.Field(nil), schema.Fields()...)
	cols := append([]arrow.Array(nil), rec.Columns()...)
	var made []arrow.Array
	for i, f := range cfg.fields {
		a := builders[i].NewArray()
		made = append(made, a)
		fields = append(fields, arrow.Field{Name: f.name, Type: f.arrow, Nullable: true})
		cols = append(cols, a)
	}
	md := schema.Metadata()
	out := array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, int64(rows))
	for _, a := range made {
		a.Release()
	}
	return out, nil
}

func appendValue(b array.Builder, typ string, v any, found bool) {
	if !found {
		b.AppendNull()
		return
	}
	switch typ {
	case "utf8":
		if s, ok := v.(string); ok {
			b.(*array.StringBuilder).Append(s)
			return
		}
	case "json":
		if j, err := json.Marshal(v); err == nil {
			b.(*array.StringBuilder).Append(string(j))
			return
		}
	case "int64":
		if n, ok := v.(json.Number); ok {
			if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
				b.(*array.Int64Builder).Append(i)
				return
			}
		}
	case "float64":
		if n, ok := v.(json.Number); ok {
			if f, err := strconv.ParseFloat(n.String(), 64); err == nil {
				b.(*array.Float64Builder).Append(f)
				return
			}
		}
	case "bool":
		if t, ok := v.(bool); ok {
			b.(*array.BooleanBuilder).Append(t)
			return
		}
	}
	b.AppendNull()
}
