package dataset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// JSONLSource reads JSON lines files (one JSON object per line; blank
// lines skipped), one split per file (rows unknown until read), with
// arrow-go's JSON decoder: the text [JSONLSink] writes reads back as the
// same values, nested types included. The schema is given ([WithSchema])
// or inferred from the first rows of the first file: bool, int64 (integral
// numbers), float64, utf8, list<...> and struct<...> columns, ordered as
// first seen, each object's keys taken in sorted order; mixed number kinds
// widen to float64, and other conflicts to utf8. Keys not in the schema are ignored; missing keys are
// null.
//
// A bad row (not a JSON object, invalid UTF-8, a value of the wrong type,
// a line longer than [WithMaxRowBytes]) is a [*RowError] naming the file,
// the line and, where it can be found, the column; or, with
// [WithAllowBadRows], skipped and reported through [Rejecter].
type JSONLSource struct {
	base
	cfg      config
	files    []inputFile
	full     *arrow.Schema
	inferred bool
}

// OpenJSONL opens JSON lines files. Options: [WithBatchSize],
// [WithColumns], [WithLimit], [WithAllocator], [WithBaseDir],
// [WithExtensions], [WithAllowBadRows], [WithSchema], [WithInferRows],
// [WithMaxRowBytes].
func OpenJSONL(ctx context.Context, inputs []string, opts ...Option) (*JSONLSource, error) {
	cfg := newConfig(FormatJSONL, opts)
	files, err := expand(cfg.baseDir, inputs, extensionsFor(FormatJSONL, &cfg))
	if err != nil {
		return nil, err
	}
	s := &JSONLSource{cfg: cfg, files: files}
	s.format = FormatJSONL
	for i, f := range files {
		s.splits = append(s.splits, Split{Index: i, ID: f.id, Rows: -1, Fingerprint: f.fingerprint()})
	}
	s.full = cfg.schema
	if s.full == nil {
		if s.full, err = inferJSONL(files[0].path, cfg.inferRows, cfg.maxRowBytes); err != nil {
			return nil, err
		}
		s.inferred = true
	}
	proj, err := project(s.full, cfg.columns, files[0].path)
	if err != nil {
		return nil, err
	}
	s.schema = proj.schema
	s.openSplit = s.open
	if err := s.applyLimit(ctx, cfg.limit); err != nil {
		return nil, err
	}
	return s, nil
}

// Inferred reports whether the schema was inferred (no [WithSchema]).
func (s *JSONLSource) Inferred() bool { return s.inferred }

func (s *JSONLSource) open(ctx context.Context, i int) (Reader, error) {
	path := s.files[i].path
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: opening json lines file: %w", err)
	}
	r := &jsonlReader{src: s, split: i, path: path, f: f, br: bufio.NewReaderSize(f, 64<<10)}
	r.allow = s.cfg.allowBadRows
	return r, nil
}

type jsonlReader struct {
	rejects
	src   *JSONLSource
	split int
	path  string
	f     *os.File
	br    *bufio.Reader
	line  int64
	done  bool
	buf   bytes.Buffer
}

type jsonLine struct {
	line int64
	text []byte
}

func (r *jsonlReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	if r.f == nil {
		return nil, fmt.Errorf("%w: reading %s", ErrClosed, r.path)
	}
	if r.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := &r.src.cfg
	var lines []jsonLine
	for len(lines) < cfg.batchSize {
		text, err := readLine(r.br, cfg.maxRowBytes)
		if errors.Is(err, io.EOF) {
			r.done = true
			break
		}
		r.line++
		if errors.Is(err, errLineTooLong) {
			if err := r.bad(r.split, &RowError{File: r.path, Line: r.line, Err: fmt.Errorf("line longer than %d bytes (max_row_bytes)", cfg.maxRowBytes)}, clone(text)); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("dataset: reading %s: %w", r.path, err)
		}
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if e := checkJSONLine(text); e != nil {
			if err := r.bad(r.split, &RowError{File: r.path, Line: r.line, Err: e}, clone(text)); err != nil {
				return nil, err
			}
			continue
		}
		lines = append(lines, jsonLine{line: r.line, text: clone(text)})
	}
	if len(lines) == 0 && r.done {
		return nil, io.EOF
	}
	return r.build(lines)
}

// checkJSONLine checks that text is valid UTF-8 holding one JSON object.
func checkJSONLine(text []byte) error {
	if !utf8.Valid(text) {
		return errors.New("not valid UTF-8")
	}
	t := bytes.TrimSpace(text)
	if len(t) == 0 || t[0] != '{' {
		return errors.New("not a JSON object")
	}
	if !json.Valid(t) {
		var v any
		err := json.Unmarshal(t, &v)
		return fmt.Errorf("not valid JSON: %w", err)
	}
	return nil
}

// decode builds a batch of schema from lines with arrow-go's JSON reader.
//
// arrow-go v18.8.0's JSON reader leaks (or panics on) the builders of a
// batch in which a line fails to decode, so it decodes into Go-allocated
// memory, which the garbage collector reclaims; the batch is then copied
// into the source's allocator when that is another one.
func (r *jsonlReader) decode(schema *arrow.Schema, lines []jsonLine) (rec arrow.RecordBatch, err error) {
	r.buf.Reset()
	for _, l := range lines {
		r.buf.Write(l.text)
		r.buf.WriteByte('\n')
	}
	defer func() {
		if p := recover(); p != nil {
			rec, err = nil, fmt.Errorf("decoding: %v", p)
		}
	}()
	gomem := memory.DefaultAllocator
	jr := array.NewJSONReader(bytes.NewReader(r.buf.Bytes()), schema, array.WithChunk(-1), array.WithAllocator(gomem))
	defer jr.Release()
	ok := jr.Next()
	if err := jr.Err(); err != nil {
		return nil, err
	}
	if !ok {
		cols := emptyColumns(schema, r.src.cfg)
		rec := array.NewRecordBatch(schema, cols, 0)
		for _, c := range cols {
			c.Release()
		}
		return rec, nil
	}
	rec = jr.RecordBatch()
	if rec.NumRows() != int64(len(lines)) {
		return nil, fmt.Errorf("decoded %d rows from %d lines", rec.NumRows(), len(lines))
	}
	if r.src.cfg.mem == gomem {
		rec.Retain()
		return rec, nil
	}
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range rec.Columns() {
		if cols[i], err = array.Concatenate([]arrow.Array{c}, r.src.cfg.mem); err != nil {
			return nil, fmt.Errorf("copying column %q: %w", schema.Field(i).Name, err)
		}
	}
	return array.NewRecordBatch(schema, cols, rec.NumRows()), nil
}

func (r *jsonlReader) build(lines []jsonLine) (arrow.RecordBatch, error) {
	schema := r.src.schema
	rec, err := r.decode(schema, lines)
	if err == nil {
		return rec, nil
	}
	// Find the bad lines one by one.
	var good []jsonLine
	for _, l := range lines {
		one, err := r.decode(schema, []jsonLine{l})
		if err == nil {
			one.Release()
			good = append(good, l)
			continue
		}
		e := &RowError{File: r.path, Line: l.line, Column: r.badColumn(schema, l), Err: err}
		if err := r.bad(r.split, e, l.text); err != nil {
			return nil, err
		}
	}
	if len(good) == len(lines) { // every line decodes alone: give up
		return nil, &RowError{File: r.path, Line: lines[0].line, Err: err}
	}
	return r.decode(schema, good)
}

// badColumn names the first column of schema whose value on line l does
// not decode, or "".
func (r *jsonlReader) badColumn(schema *arrow.Schema, l jsonLine) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(l.text, &obj) != nil {
		return ""
	}
	for _, f := range schema.Fields() {
		v, ok := obj[f.Name]
		if !ok {
			continue
		}
		one := arrow.NewSchema([]arrow.Field{f}, nil)
		name, _ := json.Marshal(f.Name)
		text := append(append(append([]byte("{"), name...), ':'), v...)
		text = append(text, '}')
		rec, err := r.decode(one, []jsonLine{{text: text}})
		if err != nil {
			return f.Name
		}
		rec.Release()
	}
	return ""
}

func emptyColumns(schema *arrow.Schema, cfg config) []arrow.Array {
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		b := array.NewBuilder(cfg.mem, f.Type)
		cols[i] = b.NewArray()
		b.Release()
	}
	return cols
}

func (r *jsonlReader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// inferJSONL infers a schema from the first rows of a JSON lines file.
func inferJSONL(path string, rows, maxBytes int) (*arrow.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: opening json lines file: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	root := &jsonType{}
	for n := 0; n < rows; {
		text, err := readLine(br, maxBytes)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return nil, fmt.Errorf("dataset: reading %s: %w", path, err)
		}
		if err != nil || len(bytes.TrimSpace(text)) == 0 || checkJSONLine(text) != nil {
			continue // bad rows are the readers' to report
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			continue
		}
		root.merge(v)
		n++
	}
	if root.kind != jsonObject {
		return arrow.NewSchema(nil, nil), nil
	}
	fields := make([]arrow.Field, len(root.keys))
	for i, k := range root.keys {
		fields[i] = arrow.Field{Name: k, Type: root.fields[k].arrow(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// JSON value kinds, ordered so that merging numbers widens.
const (
	jsonNull = iota
	jsonBool
	jsonInt
	jsonFloat
	jsonString
	jsonArray
	jsonObject
	jsonMixed
)

// jsonType is an inferred JSON type.
type jsonType struct {
	kind   int
	elem   *jsonType            // arrays
	keys   []string             // objects, in first-seen order
	fields map[string]*jsonType // objects
}

func (t *jsonType) merge(v any) {
	k := jsonNull
	switch v := v.(type) {
	case nil:
		return
	case bool:
		k = jsonBool
	case json.Number:
		k = jsonFloat
		if _, err := v.Int64(); err == nil {
			k = jsonInt
		}
	case string:
		k = jsonString
	case []any:
		k = jsonArray
	case map[string]any:
		k = jsonObject
	}
	switch {
	case t.kind == jsonNull:
		t.kind = k
	case t.kind == k, t.kind == jsonMixed:
	case (t.kind == jsonInt || t.kind == jsonFloat) && (k == jsonInt || k == jsonFloat):
		t.kind = jsonFloat
	default:
		t.kind = jsonMixed
	}
	if t.kind != k {
		return
	}
	switch v := v.(type) {
	case []any:
		if t.elem == nil {
			t.elem = &jsonType{}
		}
		for _, e := range v {
			t.elem.merge(e)
		}
	case map[string]any:
		if t.fields == nil {
			t.fields = map[string]*jsonType{}
		}
		// Keys in the order of the text would need a streaming decoder;
		// sorted keys of each object keep the order deterministic.
		for _, key := range sortedKeys(v) {
			ft, ok := t.fields[key]
			if !ok {
				ft = &jsonType{}
				t.fields[key] = ft
				t.keys = append(t.keys, key)
			}
			ft.merge(v[key])
		}
	}
}

func (t *jsonType) arrow() arrow.DataType {
	switch t.kind {
	case jsonBool:
		return arrow.FixedWidthTypes.Boolean
	case jsonInt:
		return arrow.PrimitiveTypes.Int64
	case jsonFloat:
		return arrow.PrimitiveTypes.Float64
	case jsonArray:
		elem := arrow.DataType(arrow.BinaryTypes.String)
		if t.elem != nil && t.elem.kind != jsonNull {
			elem = t.elem.arrow()
		}
		return arrow.ListOf(elem)
	case jsonObject:
		fields := make([]arrow.Field, len(t.keys))
		for i, k := range t.keys {
			fields[i] = arrow.Field{Name: k, Type: t.fields[k].arrow(), Nullable: true}
		}
		return arrow.StructOf(fields...)
	}
	return arrow.BinaryTypes.String
}
