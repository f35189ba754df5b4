package dataset

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// An encoder writes one output file. Write does not retain rec past the
// call (an encoder that buffers copies what it keeps); Close writes the
// file's footer but does not close the underlying writer.
type encoder interface {
	Write(rec arrow.RecordBatch) error
	// Buffered is an estimate of the bytes held in memory, not yet written.
	Buffered() int64
	Close() error
}

type encoderFactory func(w io.Writer, schema *arrow.Schema) (encoder, error)

// encoderFor returns the encoder factory and file extension of format.
func encoderFor(f Format, cfg *sinkConfig) (encoderFactory, string, error) {
	switch f {
	case FormatParquet:
		codec, err := parseCompression(cfg.compression)
		if err != nil {
			return nil, "", err
		}
		if err := checkTensorLayout(cfg.tensorLayout); err != nil {
			return nil, "", err
		}
		return func(w io.Writer, schema *arrow.Schema) (encoder, error) {
			return newParquetEncoder(w, schema, cfg, codec)
		}, ".parquet", nil
	case FormatIPC:
		if cfg.ipcStream {
			return func(w io.Writer, schema *arrow.Schema) (encoder, error) {
				return &ipcEncoder{w: ipc.NewWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(cfg.mem))}, nil
			}, ".arrows", nil
		}
		return func(w io.Writer, schema *arrow.Schema) (encoder, error) {
			fw, err := ipc.NewFileWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(cfg.mem))
			if err != nil {
				return nil, err
			}
			return &ipcEncoder{w: fw}, nil
		}, ".arrow", nil
	case FormatJSONL:
		return func(w io.Writer, schema *arrow.Schema) (encoder, error) {
			return &jsonlEncoder{w: w}, nil
		}, ".jsonl", nil
	case FormatCSV:
		return func(w io.Writer, schema *arrow.Schema) (encoder, error) {
			return newCSVEncoder(w, schema, cfg)
		}, ".csv", nil
	}
	return nil, "", fmt.Errorf("%w: sink format %q (want parquet, csv, jsonl or ipc)", ErrUnsupported, f)
}

var compressions = map[string]compress.Compression{
	"snappy": compress.Codecs.Snappy,
	"zstd":   compress.Codecs.Zstd,
	"gzip":   compress.Codecs.Gzip,
	"lz4":    compress.Codecs.Lz4Raw,
	"brotli": compress.Codecs.Brotli,
	"none":   compress.Codecs.Uncompressed,
	"":       compress.Codecs.Snappy,
}

func parseCompression(s string) (compress.Compression, error) {
	c, ok := compressions[strings.ToLower(s)]
	if !ok {
		return 0, fmt.Errorf("%w: parquet compression %q (want snappy, zstd, gzip, lz4, brotli or none)", ErrUnsupported, s)
	}
	return c, nil
}

// parquetEncoder writes a Parquet file with pqarrow, row groups buffered
// up to rowGroupRows rows or rowGroupBytes bytes. Tensor columns (and any
// extension column whose storage is a fixed_size_list) are written as their
// storage with the extension name and metadata in the field metadata and
// the Arrow schema stored, as tensor/doc.go describes, or, with
// [TensorLayoutBinary], as fixed_size_binary (binaryLayout); columns
// holding a fixed_size_list at a non-zero offset are copied to offset 0
// first.
type parquetEncoder struct {
	fw       *pqarrow.FileWriter
	schema   *arrow.Schema // as written: storage types
	how      []colWrite    // how column i is written
	cfg      *sinkConfig
	buffered int64
}

// colWrite is how the Parquet sink writes a column.
type colWrite uint8

const (
	writeAsIs     colWrite = iota
	writeInt64             // a duration, as int64; restored from the stored schema
	writeStorage           // an extension type, as its storage
	writeFixedBin          // a fixed_size_list of fixed-width numbers, one fixed_size_binary value per row
)

func newParquetEncoder(w io.Writer, schema *arrow.Schema, cfg *sinkConfig, codec compress.Compression) (*parquetEncoder, error) {
	e := &parquetEncoder{cfg: cfg, how: make([]colWrite, schema.NumFields())}
	fields := schema.Fields()
	for i, f := range fields {
		if f.Type.ID() == arrow.DURATION {
			e.how[i] = writeInt64
			fields[i].Type = arrow.PrimitiveTypes.Int64
			continue
		}
		if cfg.tensorLayout == TensorLayoutBinary {
			if width := binaryLayout(f.Type); width > 0 {
				e.how[i] = writeFixedBin
				fields[i].Type = &arrow.FixedSizeBinaryType{ByteWidth: width}
				fields[i].Metadata = binaryLayoutMetadata(f)
				continue
			}
		}
		et, ok := f.Type.(arrow.ExtensionType)
		if !ok || !hasFixedSizeList(et.StorageType()) {
			continue
		}
		e.how[i] = writeStorage
		keys, vals := f.Metadata.Keys(), f.Metadata.Values()
		keys = append(keys, ipc.ExtensionTypeKeyName, ipc.ExtensionMetadataKeyName)
		vals = append(vals, et.ExtensionName(), et.Serialize())
		fields[i].Type = et.StorageType()
		fields[i].Metadata = arrow.NewMetadata(keys, vals)
	}
	md := schema.Metadata()
	e.schema = arrow.NewSchema(fields, &md)
	wopts := []parquet.WriterProperty{
		parquet.WithAllocator(cfg.mem),
		parquet.WithCompression(codec),
		parquet.WithMaxRowGroupLength(cfg.rowGroupRows),
	}
	// Dictionary encoding hashes every NaN to one entry, losing NaN sign
	// and payload bits: floating-point columns are written plain.
	for _, path := range floatPaths(e.schema) {
		wopts = append(wopts, parquet.WithDictionaryFor(path, false))
	}
	props := parquet.NewWriterProperties(wopts...)
	fw, err := pqarrow.NewFileWriter(e.schema, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(cfg.mem)))
	if err != nil {
		return nil, fmt.Errorf("%w: parquet: %w", ErrUnsupported, err)
	}
	e.fw = fw
	enc, err := encodeSchema(schema, cfg.mem)
	if err == nil {
		err = fw.AppendKeyValueMetadata(arrowSchemaKey, enc)
	}
	if err != nil {
		return nil, fmt.Errorf("storing the arrow schema: %w", err)
	}
	return e, nil
}

// arrowSchemaKey is the Parquet key-value metadata under which the Parquet
// sink stores the batches' Arrow schema as written, before pqarrow's
// conversion (which renames list elements "element" in its own stored
// schema, ARROW:schema). The Parquet source gives columns back those
// names and metadata.
const arrowSchemaKey = "wasinfer:arrow_schema"

// encodeSchema returns schema as base64 of an Arrow IPC stream holding
// only the schema message.
func encodeSchema(schema *arrow.Schema, mem memory.Allocator) (string, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// decodeSchema reverses encodeSchema.
func decodeSchema(s string, mem memory.Allocator) (schema *arrow.Schema, err error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	err = guard("", "decoding the stored schema", func() error {
		r, err := openIPCStream(bytes.NewReader(raw), int64(len(raw)), mem)
		if err != nil {
			return err
		}
		schema = r.Schema()
		r.Release()
		return nil
	})
	return schema, err
}

func hasFixedSizeList(dt arrow.DataType) bool {
	switch t := dt.(type) {
	case *arrow.FixedSizeListType:
		return true
	case arrow.ExtensionType:
		return hasFixedSizeList(t.StorageType())
	case arrow.NestedType:
		for _, f := range t.Fields() {
			if hasFixedSizeList(f.Type) {
				return true
			}
		}
	}
	return false
}

// fslOffset reports whether a fixed_size_list in d, or anything under one,
// starts at a non-zero offset (pqarrow writes such a column shifted).
func fslOffset(d arrow.ArrayData, under bool) bool {
	under = under || d.DataType().ID() == arrow.FIXED_SIZE_LIST
	if under && d.Offset() != 0 {
		return true
	}
	for _, c := range d.Children() {
		if fslOffset(c, under) {
			return true
		}
	}
	return false
}

// fslNulls names the first null fixed_size_list slot in arr (pqarrow
// refuses them), or returns -1.
func fslNulls(arr arrow.Array) int {
	if arr.DataType().ID() == arrow.FIXED_SIZE_LIST && arr.NullN() > 0 {
		for i := range arr.Len() {
			if arr.IsNull(i) {
				return i
			}
		}
	}
	return -1
}

func (e *parquetEncoder) Write(rec arrow.RecordBatch) error {
	cols := make([]arrow.Array, rec.NumCols())
	var copies []arrow.Array
	defer func() {
		for _, c := range copies {
			c.Release()
		}
	}()
	for i, col := range rec.Columns() {
		name := rec.Schema().Field(i).Name
		switch e.how[i] {
		case writeInt64:
			col = relabel(col, arrow.PrimitiveTypes.Int64)
			copies = append(copies, col)
		case writeStorage:
			col = col.(array.ExtensionArray).Storage()
		case writeFixedBin:
			c, err := toFixedBinary(col, e.schema.Field(i).Type, e.cfg.mem)
			if err != nil {
				return fmt.Errorf("%w: column %q: %w", ErrUnsupported, name, err)
			}
			copies = append(copies, c)
			cols[i] = c
			continue
		}
		if hasNullSegment(col) {
			c, err := emptyNullSegments(col, e.cfg.mem)
			if err != nil {
				return fmt.Errorf("copying column %q: %w", name, err)
			}
			copies = append(copies, c)
			col = c
		}
		if row := fslNulls(col); row >= 0 {
			return fmt.Errorf("%w: column %q, row %d: a null %s cannot be written to Parquet (pqarrow refuses null fixed_size_list rows): fill or filter the null rows first, or write Arrow IPC",
				ErrUnsupported, name, row, rec.Schema().Field(i).Type)
		}
		if hasFixedSizeList(col.DataType()) && fslOffset(col.Data(), false) {
			c, err := array.Concatenate([]arrow.Array{col}, e.cfg.mem)
			if err != nil {
				return fmt.Errorf("copying column %q: %w", name, err)
			}
			copies = append(copies, c)
			col = c
		}
		cols[i] = col
	}
	out := array.NewRecordBatch(e.schema, cols, rec.NumRows())
	defer out.Release()
	if err := e.fw.WriteBuffered(out); err != nil {
		return err
	}
	e.buffered += recordBytes(rec)
	if e.buffered >= e.cfg.rowGroupBytes {
		if err := e.fw.NewBufferedRowGroupChecked(); err != nil {
			return err
		}
		e.buffered = 0
	}
	return nil
}

func (e *parquetEncoder) Buffered() int64 { return e.buffered }

func (e *parquetEncoder) Close() error { return e.fw.Close() }

// ipcEncoder writes an Arrow IPC file or stream.
type ipcEncoder struct {
	w interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
}

func (e *ipcEncoder) Write(rec arrow.RecordBatch) error { return e.w.Write(rec) }
func (e *ipcEncoder) Buffered() int64                   { return 0 }
func (e *ipcEncoder) Close() error                      { return e.w.Close() }

// jsonlEncoder writes one JSON object per row, keys in column order, values
// as arrow-go's JSON reader reads them back (binary as base64, decimals and
// timestamps as strings, NaN and ±Inf as the strings "NaN", "+Inf",
// "-Inf").
type jsonlEncoder struct {
	w   io.Writer
	buf bytes.Buffer
}

func (e *jsonlEncoder) Write(rec arrow.RecordBatch) error {
	return writeJSONL(e.w, &e.buf, rec)
}

func (e *jsonlEncoder) Buffered() int64 { return 0 }
func (e *jsonlEncoder) Close() error    { return nil }

// writeJSONL writes rec's rows to w as JSON lines, using buf as scratch.
func writeJSONL(w io.Writer, buf *bytes.Buffer, rec arrow.RecordBatch) error {
	names := make([][]byte, rec.NumCols())
	for i, f := range rec.Schema().Fields() {
		n, err := json.Marshal(f.Name)
		if err != nil {
			return err
		}
		names[i] = n
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	for r := range int(rec.NumRows()) {
		buf.Reset()
		buf.WriteByte('{')
		for c, col := range rec.Columns() {
			if c > 0 {
				buf.WriteByte(',')
			}
			buf.Write(names[c])
			buf.WriteByte(':')
			if err := enc.Encode(jsonValue(col, r)); err != nil {
				return fmt.Errorf("column %q, row %d: %w", rec.Schema().Field(c).Name, r, err)
			}
			buf.Truncate(buf.Len() - 1) // Encode's newline
		}
		buf.WriteString("}\n")
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// jsonValue is arrow-go's GetOneForMarshal, except that float16 NaN and
// ±Inf become strings as for float32 and float64 (arrow-go hands a float32
// NaN to the JSON encoder, which fails).
func jsonValue(col arrow.Array, i int) any {
	if f, ok := col.(*array.Float16); ok && f.IsValid(i) {
		v := float64(f.Value(i).Float32())
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'g', -1, 32)
		}
	}
	return col.GetOneForMarshal(i)
}

// recordBytes returns the bytes of rec's buffers (shared buffers of a
// slice count whole).
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	var walk func(d arrow.ArrayData)
	walk = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
		for _, c := range d.Children() {
			walk(c)
		}
		if d.DataType().ID() == arrow.DICTIONARY {
			walk(d.Dictionary())
		}
	}
	for _, c := range rec.Columns() {
		walk(c.Data())
	}
	return n
}

// floatPaths returns the Parquet column paths of the floating-point leaves
// of schema, as pqarrow names them.
func floatPaths(schema *arrow.Schema) []string {
	var out []string
	var walk func(prefix string, dt arrow.DataType)
	walk = func(prefix string, dt arrow.DataType) {
		switch t := dt.(type) {
		case *arrow.StructType:
			for _, f := range t.Fields() {
				walk(prefix+"."+f.Name, f.Type)
			}
		case *arrow.MapType:
			walk(prefix+".key_value.key", t.KeyType())
			walk(prefix+".key_value.value", t.ItemType())
		case arrow.ListLikeType:
			walk(prefix+".list.element", t.Elem())
		case arrow.ExtensionType:
			walk(prefix, t.StorageType())
		default:
			switch dt.ID() {
			case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
				out = append(out, prefix)
			}
		}
	}
	for _, f := range schema.Fields() {
		walk(f.Name, f.Type)
	}
	return out
}
