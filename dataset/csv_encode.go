package dataset

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// csvScalar reports whether a column of type dt can be written as CSV
// text and read back: every flat type, and dictionaries of them.
func csvScalar(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.NULL, arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
		arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY, arrow.FIXED_SIZE_BINARY,
		arrow.DECIMAL128, arrow.DECIMAL256, arrow.DATE32, arrow.DATE64,
		arrow.TIME32, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION:
		return true
	case arrow.DICTIONARY:
		return csvScalar(dt.(*arrow.DictionaryType).ValueType)
	}
	return false
}

// csvEncoder writes RFC 4180 CSV: fields that hold the delimiter, a quote,
// a line break, or nothing (a non-null empty value) are quoted; a null is
// an empty unquoted field. Values are arrow-go's ValueStr text (binary as
// base64, timestamps as ISO 8601, durations as "<n><unit>"), which the CSV
// source parses back given the schema.
type csvEncoder struct {
	w      io.Writer
	delim  byte
	buf    bytes.Buffer
	header []string
}

func newCSVEncoder(w io.Writer, schema *arrow.Schema, cfg *sinkConfig) (*csvEncoder, error) {
	if cfg.delimiter >= utf8.RuneSelf || cfg.delimiter == '"' || cfg.delimiter == '\n' || cfg.delimiter == '\r' {
		return nil, fmt.Errorf("%w: CSV delimiter %q (want one ASCII character other than a quote or line break)", ErrUnsupported, cfg.delimiter)
	}
	e := &csvEncoder{w: w, delim: byte(cfg.delimiter)}
	if !cfg.noHeader {
		e.header = fieldNames(schema)
	}
	return e, nil
}

func (e *csvEncoder) field(s string, null bool) {
	if null {
		return
	}
	if s != "" && !strings.ContainsAny(s, "\"\r\n") && strings.IndexByte(s, e.delim) < 0 {
		e.buf.WriteString(s)
		return
	}
	e.buf.WriteByte('"')
	e.buf.WriteString(strings.ReplaceAll(s, `"`, `""`))
	e.buf.WriteByte('"')
}

func (e *csvEncoder) Write(rec arrow.RecordBatch) error {
	if e.header != nil {
		e.buf.Reset()
		for i, h := range e.header {
			if i > 0 {
				e.buf.WriteByte(e.delim)
			}
			e.field(h, false)
		}
		e.buf.WriteByte('\n')
		if _, err := e.w.Write(e.buf.Bytes()); err != nil {
			return err
		}
		e.header = nil
	}
	for r := range int(rec.NumRows()) {
		e.buf.Reset()
		for c, col := range rec.Columns() {
			if c > 0 {
				e.buf.WriteByte(e.delim)
			}
			if col.IsNull(r) || col.DataType().ID() == arrow.NULL {
				continue
			}
			e.field(csvText(col, r), false)
		}
		if rec.NumCols() == 0 {
			e.buf.WriteString(`""`) // a row of no columns is still a line
		}
		e.buf.WriteByte('\n')
		if _, err := e.w.Write(e.buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func (e *csvEncoder) Buffered() int64 { return 0 }
func (e *csvEncoder) Close() error    { return nil }

// csvText formats a non-null value as CSV text.
func csvText(col arrow.Array, i int) string {
	switch a := col.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Duration:
		return strconv.FormatInt(int64(a.Value(i)), 10) + a.DataType().(*arrow.DurationType).Unit.String()
	case *array.Dictionary:
		return csvText(a.Dictionary(), a.GetValueIndex(i))
	}
	return col.ValueStr(i)
}
