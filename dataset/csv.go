package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// CSVSource reads CSV files (RFC 4180, see the delimiter, header and null
// options), one split per file (rows unknown until read). The schema is
// given ([WithSchema]) or inferred from the first rows of the first file
// ([WithInferRows]): each column is the narrowest of bool, int64, float64,
// date32, timestamp[us] (no zone offsets), timestamp[us, tz=UTC] and utf8
// that holds every non-null value seen;
// [CSVSource.Inferred] says which. An unquoted field equal to the null
// value ("" by default) is null; a quoted field never is.
//
// A bad row (wrong number of fields, a value that does not parse as its
// column's type, invalid UTF-8 in a text column, a null in a non-nullable
// column, a malformed quoted field) is a [*RowError] naming the file, the
// line and the column, or, with [WithAllowBadRows], skipped and reported
// through [Rejecter] with its raw text.
type CSVSource struct {
	base
	cfg      config
	files    []inputFile
	full     *arrow.Schema // the file's columns
	proj     projection
	inferred bool
}

// OpenCSV opens CSV files. With a header, every file's header must name
// the same columns. Options: [WithBatchSize], [WithColumns], [WithLimit],
// [WithAllocator], [WithBaseDir], [WithExtensions], [WithAllowBadRows],
// [WithSchema], [WithInferRows], [WithMaxRowBytes], [WithDelimiter],
// [WithHeader], [WithNullValue].
func OpenCSV(ctx context.Context, inputs []string, opts ...Option) (*CSVSource, error) {
	cfg := newConfig(FormatCSV, opts)
	if cfg.delimiter >= utf8.RuneSelf || cfg.delimiter == '"' || cfg.delimiter == '\n' || cfg.delimiter == '\r' {
		return nil, fmt.Errorf("%w: CSV delimiter %q (want one ASCII character other than a quote or line break)", ErrUnsupported, cfg.delimiter)
	}
	files, err := expand(cfg.baseDir, inputs, extensionsFor(FormatCSV, &cfg))
	if err != nil {
		return nil, err
	}
	s := &CSVSource{cfg: cfg, files: files}
	s.format = FormatCSV
	var header []string
	for i, f := range files {
		h, err := s.header(f.path)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			header = h
			if header == nil && cfg.schema != nil && cfg.noHeader {
				header = fieldNames(cfg.schema)
			}
		} else if !cfg.noHeader && strings.Join(h, "\x00") != strings.Join(header, "\x00") {
			return nil, fmt.Errorf("%w: %s: header %q differs from the first file's (%s: %q)", ErrSchemaMismatch, f.path, h, files[0].path, header)
		}
		s.splits = append(s.splits, Split{Index: i, ID: f.id, Rows: -1, Fingerprint: f.fingerprint()})
	}
	switch {
	case cfg.schema != nil:
		s.full = cfg.schema
		if header != nil && !cfg.noHeader {
			if len(header) != cfg.schema.NumFields() {
				return nil, fmt.Errorf("%w: %s: the header has %d columns, the schema %d", ErrSchemaMismatch, files[0].path, len(header), cfg.schema.NumFields())
			}
			for i, h := range header {
				if h != cfg.schema.Field(i).Name {
					return nil, fmt.Errorf("%w: %s: header column %d is %q, the schema's is %q", ErrSchemaMismatch, files[0].path, i+1, h, cfg.schema.Field(i).Name)
				}
			}
		}
	default:
		if s.full, err = s.infer(files[0].path, header); err != nil {
			return nil, err
		}
		s.inferred = true
	}
	if s.proj, err = project(s.full, cfg.columns, files[0].path); err != nil {
		return nil, err
	}
	s.schema = s.proj.schema
	s.openSplit = s.open
	if err := s.applyLimit(ctx, cfg.limit); err != nil {
		return nil, err
	}
	return s, nil
}

// Inferred reports whether the schema was inferred (no [WithSchema]);
// Schema() is then the inferred schema.
func (s *CSVSource) Inferred() bool { return s.inferred }

// header returns the header's names (with a header) or the generated
// names f0, f1, ... of the first record's fields (nil for an empty file).
func (s *CSVSource) header(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: opening csv file: %w", err)
	}
	defer f.Close()
	p := newCSVParser(f, byte(s.cfg.delimiter), s.cfg.maxRowBytes)
	var rec csvRecord
	if err := p.next(&rec); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		var se *csvSyntaxError
		if errors.As(err, &se) {
			return nil, &RowError{File: path, Line: se.line, Err: fmt.Errorf("reading the header: %s", se.msg)}
		}
		return nil, fmt.Errorf("dataset: reading %s: %w", path, err)
	}
	names := append([]string(nil), rec.fields...)
	if s.cfg.noHeader {
		for i := range names {
			names[i] = "f" + strconv.Itoa(i)
		}
	}
	for i, n := range names {
		if !utf8.ValidString(n) {
			return nil, &RowError{File: path, Line: 1, Err: fmt.Errorf("header column %d is not valid UTF-8", i+1)}
		}
	}
	return names, nil
}

// Inference candidates, narrowest first.
const (
	inferBool = iota
	inferInt
	inferFloat
	inferDate
	inferTimestamp
	inferTimestampTZ
	inferString
)

func (s *CSVSource) infer(path string, header []string) (*arrow.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: opening csv file: %w", err)
	}
	defer f.Close()
	p := newCSVParser(f, byte(s.cfg.delimiter), s.cfg.maxRowBytes)
	kinds := make([]int, len(header))
	seen := make([]bool, len(header))
	naive := make([]bool, len(header))
	var rec csvRecord
	for n := 0; n < s.cfg.inferRows+1; n++ {
		err := p.next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		var se *csvSyntaxError
		if errors.As(err, &se) {
			continue // a bad row: the readers report it
		}
		if err != nil {
			return nil, fmt.Errorf("dataset: reading %s: %w", path, err)
		}
		if n == 0 && !s.cfg.noHeader {
			continue
		}
		for i, v := range rec.fields {
			if i >= len(kinds) || (!rec.quoted[i] && v == s.cfg.nullValue) {
				continue
			}
			seen[i] = true
			for kinds[i] < inferString && !parsesAs(kinds[i], v) {
				kinds[i]++
			}
			// Timestamps with and without zones do not mix.
			if kinds[i] == inferTimestamp {
				naive[i] = true
			} else if kinds[i] == inferTimestampTZ && naive[i] {
				kinds[i] = inferString
			}
		}
	}
	fields := make([]arrow.Field, len(header))
	for i, name := range header {
		dt := arrow.DataType(arrow.BinaryTypes.String)
		if seen[i] {
			dt = [...]arrow.DataType{arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64,
				arrow.FixedWidthTypes.Date32, &arrow.TimestampType{Unit: arrow.Microsecond},
				&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, arrow.BinaryTypes.String}[kinds[i]]
		}
		fields[i] = arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

func parsesAs(kind int, v string) bool {
	var err error
	switch kind {
	case inferBool:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			err = strconv.ErrSyntax
		}
	case inferInt:
		_, err = strconv.ParseInt(v, 10, 64)
	case inferFloat:
		_, err = strconv.ParseFloat(v, 64)
	case inferDate:
		_, err = time.Parse("2006-01-02", v)
	case inferTimestamp:
		var zoned bool
		_, zoned, err = arrow.TimestampFromStringInLocation(v, arrow.Microsecond, time.UTC)
		if zoned {
			err = strconv.ErrSyntax
		}
	case inferTimestampTZ:
		var zoned bool
		_, zoned, err = arrow.TimestampFromStringInLocation(v, arrow.Microsecond, time.UTC)
		if !zoned {
			err = strconv.ErrSyntax
		}
	}
	return err == nil
}

func (s *CSVSource) open(ctx context.Context, i int) (Reader, error) {
	path := s.files[i].path
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: opening csv file: %w", err)
	}
	r := &csvReader{src: s, split: i, path: path, f: f, p: newCSVParser(f, byte(s.cfg.delimiter), s.cfg.maxRowBytes)}
	r.p.keepBlank = s.full.NumFields() == 1
	r.allow = s.cfg.allowBadRows
	return r, nil
}

type csvReader struct {
	rejects
	src    *CSVSource
	split  int
	path   string
	f      *os.File
	p      *csvParser
	first  bool // the header was skipped
	done   bool
	recs   []csvRecord
	closed bool
}

func (r *csvReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	if r.closed {
		return nil, fmt.Errorf("%w: reading %s", ErrClosed, r.path)
	}
	if r.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := &r.src.cfg
	ncols := r.src.full.NumFields()
	if cap(r.recs) < cfg.batchSize {
		r.recs = make([]csvRecord, cfg.batchSize)
	}
	recs := r.recs[:cfg.batchSize]
	n := 0
	for n < len(recs) {
		rec := &recs[n]
		err := r.p.next(rec)
		if errors.Is(err, io.EOF) {
			r.done = true
			break
		}
		var se *csvSyntaxError
		if errors.As(err, &se) {
			if err := r.bad(r.split, &RowError{File: r.path, Line: se.line, Err: errors.New(se.msg)}, clone(rec.raw)); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("dataset: reading %s: %w", r.path, err)
		}
		if !r.first {
			r.first = true
			if !cfg.noHeader {
				continue
			}
		}
		emptyRow := ncols == 0 && len(rec.fields) == 1 && rec.fields[0] == ""
		if len(rec.fields) != ncols && !emptyRow {
			if err := r.bad(r.split, &RowError{File: r.path, Line: rec.line, Err: fmt.Errorf("%d fields, want %d", len(rec.fields), ncols)}, clone(rec.raw)); err != nil {
				return nil, err
			}
			continue
		}
		n++
	}
	if n == 0 && r.done {
		return nil, io.EOF
	}
	return r.build(recs[:n])
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// build converts records into a batch. A record with a bad value is
// reported (or fails the read); the batch is then rebuilt without it.
func (r *csvReader) build(recs []csvRecord) (arrow.RecordBatch, error) {
	proj := r.src.proj
	schema := proj.schema
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	bad := map[int]*RowError{}
	for c, f := range schema.Fields() {
		j := c
		if proj.idx != nil {
			j = proj.idx[c]
		}
		b := array.NewBuilder(r.src.cfg.mem, f.Type)
		for i := range recs {
			if bad[i] != nil {
				b.AppendNull()
				continue
			}
			if err := r.appendField(b, f, &recs[i], j); err != nil {
				bad[i] = &RowError{File: r.path, Line: recs[i].line, Column: f.Name, Err: err}
				b.AppendNull()
			}
		}
		cols[c] = b.NewArray()
		b.Release()
	}
	if len(bad) == 0 {
		return array.NewRecordBatch(schema, cols, int64(len(recs))), nil
	}
	first := -1
	for i := range bad {
		if first < 0 || i < first {
			first = i
		}
	}
	if !r.allow {
		return nil, bad[first]
	}
	good := recs[:0:0]
	for i := range recs {
		if e := bad[i]; e != nil {
			_ = r.bad(r.split, e, clone(recs[i].raw))
			continue
		}
		good = append(good, recs[i])
	}
	return r.build(good)
}

// appendField appends field j of rec to b, typed as f.
func (r *csvReader) appendField(b array.Builder, f arrow.Field, rec *csvRecord, j int) error {
	v := rec.fields[j]
	if f.Type.ID() == arrow.NULL {
		if !rec.quoted[j] && v == r.src.cfg.nullValue {
			b.AppendNull()
			return nil
		}
		return fmt.Errorf("%s in a column of type null", strconv.Quote(v))
	}
	if !rec.quoted[j] && v == r.src.cfg.nullValue {
		if !f.Nullable {
			return errors.New("null (an empty field) in a column that is not nullable")
		}
		b.AppendNull()
		return nil
	}
	return appendText(b, v)
}

// appendText parses v as a value of b's type and appends it.
func appendText(b array.Builder, v string) error {
	var err error
	switch bb := b.(type) {
	case *array.StringBuilder:
		if !utf8.ValidString(v) {
			return errors.New("not valid UTF-8")
		}
		bb.Append(v)
		return nil
	case *array.LargeStringBuilder:
		if !utf8.ValidString(v) {
			return errors.New("not valid UTF-8")
		}
		bb.Append(v)
		return nil
	case *array.DurationBuilder:
		unit := bb.Type().(*arrow.DurationType).Unit.String()
		n, perr := strconv.ParseInt(strings.TrimSuffix(v, unit), 10, 64)
		if perr != nil {
			return fmt.Errorf("parsing %s as %s: want an integer, optionally followed by %q", quoteShort(v), bb.Type(), unit)
		}
		bb.Append(arrow.Duration(n))
		return nil
	case *array.BinaryDictionaryBuilder:
		if bb.Type().(*arrow.DictionaryType).ValueType.ID() == arrow.STRING && !utf8.ValidString(v) {
			return errors.New("not valid UTF-8")
		}
		err = bb.AppendString(v)
	default:
		err = b.AppendValueFromString(v)
	}
	if err != nil {
		return fmt.Errorf("parsing %s as %s: %w", quoteShort(v), b.Type(), unwrapParse(err))
	}
	return nil
}

// unwrapParse drops strconv's repetition of the input from an error.
func unwrapParse(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

func quoteShort(v string) string {
	if len(v) > 40 {
		return strconv.Quote(v[:40]) + "..."
	}
	return strconv.Quote(v)
}

func (r *csvReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.f.Close()
}
