package dataset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	flatbuffers "github.com/google/flatbuffers/go"
)

// The IPC guard: a bounds-checked walk over the flatbuffer metadata of an
// Arrow IPC file or stream (the file footer and each message's header),
// run before arrow-go decodes it. arrow-go v18.8.0 trusts the metadata: it
// sizes slices by vector lengths it has not checked against the bytes
// (ipc.metadataFromFB makes two slices of custom_metadata's declared
// length, a damaged count of 2^31 is a fatal out-of-memory that recover
// cannot catch), recurses into children without a bound and follows
// offsets with 32-bit wrap-around (so a damaged offset can make a cycle).
//
// The walk follows the tables of the Arrow format (Schema.fbs, Message.fbs,
// File.fbs) by vtable slot, with the flatbuffers Go runtime's accessors on
// positions it has checked first:
//
//   - every table's vtable and inline size lie inside the buffer, every
//     field it reads lies inside its table;
//   - every offset is followed in 64-bit arithmetic and must land inside
//     the buffer (offsets only point forward, so there are no cycles);
//   - every vector fits in the bytes after it: n tables need 4n bytes of
//     offsets, n structs n×size bytes, a string its length;
//   - the bytes visited (tables, vectors, strings) may not exceed the
//     buffer's length: an honest writer stores each object once, so this
//     refuses only metadata that reaches the same tables again and again
//     (a few hundred bytes could otherwise describe billions of fields);
//   - fields nest at most ipcMaxDepth levels;
//   - values the reader would act on are in range: message kinds, type
//     ids, codecs, node lengths and null counts, buffers inside the body,
//     variadic buffer counts against the buffers there are.
//
// Cost: one pass over the metadata, never the body (except the 8-byte
// length prefix of each compressed buffer). The walk allocates only a few
// small path records for error messages; what it reads (a footer, a message's metadata) is what
// arrow-go then decodes, so nothing is read twice (ipcguard_file.go,
// ipcguard_stream.go). BenchmarkIPCGuard measures it against arrow-go.

// Slots of the Arrow format's tables (the order of their fields in
// Schema.fbs, Message.fbs and File.fbs).
const (
	// Footer
	slotFooterSchema, slotFooterDictionaries, slotFooterRecordBatches, slotFooterCustomMetadata = 1, 2, 3, 4
	// Message
	slotMessageHeaderType, slotMessageHeader, slotMessageBodyLength, slotMessageCustomMetadata = 1, 2, 3, 4
	// Schema
	slotSchemaEndianness, slotSchemaFields, slotSchemaCustomMetadata, slotSchemaFeatures = 0, 1, 2, 3
	// Field
	slotFieldName, slotFieldNullable, slotFieldTypeType, slotFieldType, slotFieldDictionary, slotFieldChildren, slotFieldCustomMetadata = 0, 1, 2, 3, 4, 5, 6
	// KeyValue
	slotKey, slotValue = 0, 1
	// DictionaryEncoding
	slotDictID, slotDictIndexType, slotDictIsOrdered, slotDictKind = 0, 1, 2, 3
	// RecordBatch
	slotBatchLength, slotBatchNodes, slotBatchBuffers, slotBatchCompression, slotBatchVariadic = 0, 1, 2, 3, 4
	// DictionaryBatch
	slotDictBatchID, slotDictBatchData, slotDictBatchIsDelta = 0, 1, 2
	// BodyCompression
	slotCodec, slotMethod = 0, 1
)

// Message header kinds (MessageHeader union).
const (
	ipcSchema          = 1
	ipcDictionaryBatch = 2
	ipcRecordBatch     = 3
)

var ipcHeaderNames = []string{"NONE", "Schema", "DictionaryBatch", "RecordBatch", "Tensor", "SparseTensor"}

func ipcHeaderName(t int) string {
	if t >= 0 && t < len(ipcHeaderNames) {
		return ipcHeaderNames[t]
	}
	return "MessageHeader(" + strconv.Itoa(t) + ")"
}

// ipcMaxDepth is how deep fields may nest (children of children...):
// arrow-go's own limit when it loads arrays (kMaxNestingDepth).
const ipcMaxDepth = 64

// Sizes of the format's structs.
const (
	ipcBlockSize     = 24 // Block: offset long, metaDataLength int (+4 padding), bodyLength long
	ipcFieldNodeSize = 16 // FieldNode: length long, null_count long
	ipcBufferSize    = 16 // Buffer: offset long, length long
)

// ipcMetaError reports damaged IPC metadata: in what (the footer, a
// message), at which path of its tables, what is wrong.
type ipcMetaError struct {
	Where string // "the footer (212 bytes at byte 1184)", "message 2 (at byte 400)"; "" when Msg says it
	Path  string // "schema.fields[3].children", "" for the whole buffer
	Msg   string
}

func (e *ipcMetaError) Error() string {
	var b strings.Builder
	if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// fbPath names where the walk is (a chain of field names and indexes),
// turned into a string only for an error.
type fbPath struct {
	up   *fbPath
	name string // field name; "" for an element
	i    int    // element index when name is ""
}

func (p *fbPath) field(name string) *fbPath { return &fbPath{up: p, name: name} }
func (p *fbPath) elem(i int) *fbPath        { return &fbPath{up: p, i: i} }

func (p *fbPath) String() string {
	// Segments: a field name with the index that follows it.
	var segs []string
	idx := ""
	for q := p; q != nil; q = q.up {
		if q.name == "" {
			idx = "[" + strconv.Itoa(q.i) + "]" + idx
			continue
		}
		segs = append(segs, q.name+idx)
		idx = ""
	}
	slices.Reverse(segs)
	// A path through deeply nested fields keeps its two ends.
	const ends = 4
	if len(segs) > 3*ends {
		n := len(segs) - 2*ends
		return strings.Join(segs[:ends], ".") + fmt.Sprintf(" …%d more… ", n) + strings.Join(segs[len(segs)-ends:], ".")
	}
	return strings.Join(segs, ".")
}

// fbuf walks one flatbuffer: b is the buffer, base the file offset of
// b[0] (errors give file offsets).
type fbuf struct {
	b      []byte
	base   int64
	budget int // bytes that may still be visited
}

func newFbuf(b []byte, base int64) *fbuf { return &fbuf{b: b, base: base, budget: len(b)} }

// fbTable is a table whose header has been checked.
type fbTable struct {
	pos, vt, vtLen, objLen int
}

func (f *fbuf) fail(p *fbPath, format string, args ...any) error {
	path := ""
	if p != nil {
		path = p.String()
	}
	return &ipcMetaError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// at returns buffer position pos as a file offset, for errors.
func (f *fbuf) at(pos int64) int64 { return f.base + pos }

func (f *fbuf) u16(pos int) int     { return int(flatbuffers.GetUint16(f.b[pos:])) }
func (f *fbuf) u32(pos int) uint32  { return flatbuffers.GetUint32(f.b[pos:]) }
func (f *fbuf) i32(pos int) int32   { return flatbuffers.GetInt32(f.b[pos:]) }
func (f *fbuf) i64(pos int) int64   { return flatbuffers.GetInt64(f.b[pos:]) }
func (f *fbuf) u8(pos int) int      { return int(flatbuffers.GetUint8(f.b[pos:])) }
func (f *fbuf) soff(pos int) int64  { return int64(flatbuffers.GetSOffsetT(f.b[pos:])) }
func (f *fbuf) uoff(pos int) uint32 { return uint32(flatbuffers.GetUOffsetT(f.b[pos:])) }

// spend charges n visited bytes against the budget.
func (f *fbuf) spend(p *fbPath, n int64) error {
	if n > int64(f.budget) {
		return f.fail(p, "the metadata reaches more bytes than its %d: it refers to the same tables again and again", len(f.b))
	}
	f.budget -= int(n)
	return nil
}

// root returns the root table (the buffer starts with its offset).
func (f *fbuf) root(p *fbPath) (fbTable, error) {
	if len(f.b) < flatbuffers.SizeUOffsetT {
		return fbTable{}, f.fail(p, "%d bytes cannot hold a flatbuffer", len(f.b))
	}
	return f.table(p, int64(f.uoff(0)))
}

// table checks the header of the table at pos: its vtable and its inline
// bytes lie inside the buffer.
func (f *fbuf) table(p *fbPath, pos int64) (fbTable, error) {
	n := int64(len(f.b))
	if pos < 0 || pos > n-flatbuffers.SizeSOffsetT {
		return fbTable{}, f.fail(p, "a table at byte %d is outside the %d bytes of metadata", f.at(pos), n)
	}
	vt := pos - f.soff(int(pos))
	if vt < 0 || vt > n-2*flatbuffers.SizeVOffsetT {
		return fbTable{}, f.fail(p, "the vtable of the table at byte %d is at byte %d, outside the metadata", f.at(pos), f.at(vt))
	}
	vtLen, objLen := int64(f.u16(int(vt))), int64(f.u16(int(vt)+2))
	if vtLen < 4 || vtLen%2 != 0 || vt+vtLen > n {
		return fbTable{}, f.fail(p, "the vtable at byte %d declares %d bytes: not an even size of at least 4 within the metadata", f.at(vt), vtLen)
	}
	if objLen < flatbuffers.SizeSOffsetT || pos+objLen > n {
		return fbTable{}, f.fail(p, "the table at byte %d declares %d bytes, %d remain", f.at(pos), objLen, n-pos)
	}
	if err := f.spend(p, objLen); err != nil {
		return fbTable{}, err
	}
	return fbTable{pos: int(pos), vt: int(vt), vtLen: int(vtLen), objLen: int(objLen)}, nil
}

// field returns the position of the inline value of slot, size bytes, or
// -1 when the table does not have it.
func (f *fbuf) field(p *fbPath, t fbTable, slot, size int, name string) (int, error) {
	vo := 4 + 2*slot
	if vo+2 > t.vtLen {
		return -1, nil
	}
	fo := f.u16(t.vt + vo)
	if fo == 0 {
		return -1, nil
	}
	if fo+size > t.objLen {
		return -1, f.fail(p.field(name), "the field at offset %d of the %d-byte table at byte %d runs past its end", fo, t.objLen, f.at(int64(t.pos)))
	}
	return t.pos + fo, nil
}

// ref returns the position that the offset in slot points to, -1 when the
// table does not have it.
func (f *fbuf) ref(p *fbPath, t fbTable, slot int, name string) (int64, error) {
	at, err := f.field(p, t, slot, flatbuffers.SizeUOffsetT, name)
	if at < 0 || err != nil {
		return -1, err
	}
	to := int64(at) + int64(f.uoff(at))
	if to > int64(len(f.b))-flatbuffers.SizeUOffsetT {
		return -1, f.fail(p.field(name), "the offset at byte %d points to byte %d, past the end of the metadata (byte %d)", f.at(int64(at)), f.at(to), f.at(int64(len(f.b))))
	}
	return to, nil
}

// child returns the table that slot points to; ok false when absent.
func (f *fbuf) child(p *fbPath, t fbTable, slot int, name string) (c fbTable, ok bool, err error) {
	to, err := f.ref(p, t, slot, name)
	if to < 0 || err != nil {
		return fbTable{}, false, err
	}
	c, err = f.table(p.field(name), to)
	return c, err == nil, err
}

// vector returns the start and length of the vector in slot, whose
// elements are elem bytes each (4 for tables: their offsets). n is 0 when
// the table does not have it. what names the elements for errors.
func (f *fbuf) vector(p *fbPath, t fbTable, slot, elem int, name, what string) (start, n int, err error) {
	v, err := f.ref(p, t, slot, name)
	if v < 0 || err != nil {
		return 0, 0, err
	}
	count := int64(f.u32(int(v)))
	start64 := v + flatbuffers.SizeUOffsetT
	need := count * int64(elem)
	if left := int64(len(f.b)) - start64; need > left && elem == 1 {
		return 0, 0, f.fail(p.field(name), "a string of %d bytes at byte %d runs past the end of the metadata (%d bytes remain)", count, f.at(v), left)
	} else if need > left {
		return 0, 0, f.fail(p.field(name), "a vector of %d %s at byte %d needs %d bytes, %d remain in the metadata", count, what, f.at(v), need, left)
	}
	if err := f.spend(p.field(name), flatbuffers.SizeUOffsetT+need); err != nil {
		return 0, 0, err
	}
	return int(start64), int(count), nil
}

// elem returns the table that element i of a vector of tables points to.
func (f *fbuf) elem(p *fbPath, start, i int) (fbTable, error) {
	at := start + 4*i
	return f.table(p.elem(i), int64(at)+int64(f.uoff(at)))
}

// str checks the string in slot.
func (f *fbuf) str(p *fbPath, t fbTable, slot int, name string) error {
	_, _, err := f.vector(p, t, slot, 1, name, "")
	return err
}

// scalar returns the position of a scalar of size bytes in slot, -1 when
// absent (the default).
func (f *fbuf) scalar(p *fbPath, t fbTable, slot, size int, name string) (int, error) {
	return f.field(p, t, slot, size, name)
}

// keyValues checks a [KeyValue] vector (custom_metadata).
func (f *fbuf) keyValues(p *fbPath, t fbTable, slot int) error {
	const name = "custom_metadata"
	start, n, err := f.vector(p, t, slot, flatbuffers.SizeUOffsetT, name, "tables")
	if err != nil {
		return err
	}
	vp := p.field(name)
	for i := range n {
		kv, err := f.elem(vp, start, i)
		if err != nil {
			return err
		}
		ep := vp.elem(i)
		if err := f.str(ep, kv, slotKey, "key"); err != nil {
			return err
		}
		if err := f.str(ep, kv, slotValue, "value"); err != nil {
			return err
		}
	}
	return nil
}

// scalars checks the inline scalars of a table: sizes[i] is the size of
// slot i (0 skips the slot), names[i] its name.
func (f *fbuf) scalars(p *fbPath, t fbTable, names []string, sizes ...int) error {
	for slot, size := range sizes {
		if size == 0 {
			continue
		}
		if _, err := f.scalar(p, t, slot, size, names[slot]); err != nil {
			return err
		}
	}
	return nil
}

// schema checks a Schema table.
func (f *fbuf) schema(p *fbPath, t fbTable) error {
	if _, err := f.scalar(p, t, slotSchemaEndianness, 2, "endianness"); err != nil {
		return err
	}
	if err := f.fields(p, t, slotSchemaFields, "fields", 0); err != nil {
		return err
	}
	if err := f.keyValues(p, t, slotSchemaCustomMetadata); err != nil {
		return err
	}
	_, _, err := f.vector(p, t, slotSchemaFeatures, 8, "features", "features")
	return err
}

// fields checks a [Field] vector at nesting depth depth.
func (f *fbuf) fields(p *fbPath, t fbTable, slot int, name string, depth int) error {
	start, n, err := f.vector(p, t, slot, flatbuffers.SizeUOffsetT, name, "tables")
	if err != nil || n == 0 {
		return err
	}
	vp := p.field(name)
	if depth > ipcMaxDepth {
		return f.fail(vp, "fields nest deeper than %d levels", ipcMaxDepth)
	}
	for i := range n {
		ft, err := f.elem(vp, start, i)
		if err != nil {
			return err
		}
		if err := f.fieldTable(vp.elem(i), ft, depth); err != nil {
			return err
		}
	}
	return nil
}

// ipcTypeNames are the Arrow types by their Type union id.
var ipcTypeNames = []string{"NONE", "Null", "Int", "FloatingPoint", "Binary", "Utf8", "Bool", "Decimal", "Date", "Time",
	"Timestamp", "Interval", "List", "Struct_", "Union", "FixedSizeBinary", "FixedSizeList", "Map", "Duration",
	"LargeBinary", "LargeUtf8", "LargeList", "RunEndEncoded", "BinaryView", "Utf8View", "ListView", "LargeListView"}

// Type union ids whose tables have fields.
const (
	ipcTypeInt             = 2
	ipcTypeFloatingPoint   = 3
	ipcTypeDecimal         = 7
	ipcTypeDate            = 8
	ipcTypeTime            = 9
	ipcTypeTimestamp       = 10
	ipcTypeInterval        = 11
	ipcTypeUnion           = 14
	ipcTypeFixedSizeBinary = 15
	ipcTypeFixedSizeList   = 16
	ipcTypeMap             = 17
	ipcTypeDuration        = 18
)

// fieldTable checks one Field table.
func (f *fbuf) fieldTable(p *fbPath, t fbTable, depth int) error {
	if err := f.str(p, t, slotFieldName, "name"); err != nil {
		return err
	}
	if _, err := f.scalar(p, t, slotFieldNullable, 1, "nullable"); err != nil {
		return err
	}
	at, err := f.scalar(p, t, slotFieldTypeType, 1, "type_type")
	if err != nil {
		return err
	}
	typ := 0
	if at >= 0 {
		typ = f.u8(at)
	}
	if typ == 0 || typ >= len(ipcTypeNames) {
		return f.fail(p.field("type_type"), "type %d is not an Arrow type (1 to %d)", typ, len(ipcTypeNames)-1)
	}
	tt, ok, err := f.child(p, t, slotFieldType, "type")
	if err != nil {
		return err
	}
	if !ok {
		return f.fail(p.field("type"), "the field has no %s type table", ipcTypeNames[typ])
	}
	if err := f.typeTable(p.field("type"), tt, typ); err != nil {
		return err
	}
	if dt, ok, err := f.child(p, t, slotFieldDictionary, "dictionary"); err != nil {
		return err
	} else if ok {
		dp := p.field("dictionary")
		if err := f.scalars(dp, dt, []string{"id", "indexType", "isOrdered", "dictionaryKind"}, 8, 0, 1, 2); err != nil {
			return err
		}
		if it, ok, err := f.child(dp, dt, slotDictIndexType, "indexType"); err != nil {
			return err
		} else if ok {
			if err := f.scalars(dp.field("indexType"), it, []string{"bitWidth", "is_signed"}, 4, 1); err != nil {
				return err
			}
		}
	}
	if err := f.fields(p, t, slotFieldChildren, "children", depth+1); err != nil {
		return err
	}
	return f.keyValues(p, t, slotFieldCustomMetadata)
}

// typeTable checks the table of a field's type (the Type union).
func (f *fbuf) typeTable(p *fbPath, t fbTable, typ int) error {
	switch typ {
	case ipcTypeInt:
		return f.scalars(p, t, []string{"bitWidth", "is_signed"}, 4, 1)
	case ipcTypeFloatingPoint:
		return f.scalars(p, t, []string{"precision"}, 2)
	case ipcTypeDecimal:
		return f.scalars(p, t, []string{"precision", "scale", "bitWidth"}, 4, 4, 4)
	case ipcTypeDate, ipcTypeInterval, ipcTypeDuration:
		return f.scalars(p, t, []string{"unit"}, 2)
	case ipcTypeTime:
		return f.scalars(p, t, []string{"unit", "bitWidth"}, 2, 4)
	case ipcTypeTimestamp:
		if err := f.scalars(p, t, []string{"unit"}, 2); err != nil {
			return err
		}
		return f.str(p, t, 1, "timezone")
	case ipcTypeUnion:
		if err := f.scalars(p, t, []string{"mode"}, 2); err != nil {
			return err
		}
		_, _, err := f.vector(p, t, 1, 4, "typeIds", "type ids")
		return err
	case ipcTypeFixedSizeBinary:
		return f.scalars(p, t, []string{"byteWidth"}, 4)
	case ipcTypeFixedSizeList:
		return f.scalars(p, t, []string{"listSize"}, 4)
	case ipcTypeMap:
		return f.scalars(p, t, []string{"keysSorted"}, 1)
	}
	return nil // the other types' tables have no fields
}

// ipcMsgInfo is what the guard learned from a message's metadata.
type ipcMsgInfo struct {
	typ     int   // header kind (ipcSchema, ...)
	bodyLen int64 // bodyLength
	// Compressed record batches (RecordBatch or DictionaryBatch.data): the
	// buffers vector, for checking the length prefixes in the body.
	compressed       bool
	bufStart, bufLen int
	batchPath        string // "RecordBatch", "DictionaryBatch.data"
}

// checkMessage checks the metadata of one IPC message (the Message
// flatbuffer, without the framing).
func checkMessage(b []byte, base int64) (ipcMsgInfo, error) {
	f := newFbuf(b, base)
	var info ipcMsgInfo
	m, err := f.root(nil)
	if err != nil {
		return info, err
	}
	if _, err := f.scalar(nil, m, 0, 2, "version"); err != nil {
		return info, err
	}
	at, err := f.scalar(nil, m, slotMessageHeaderType, 1, "header_type")
	if err != nil {
		return info, err
	}
	if at >= 0 {
		info.typ = f.u8(at)
	}
	if at, err = f.scalar(nil, m, slotMessageBodyLength, 8, "bodyLength"); err != nil {
		return info, err
	}
	if at >= 0 {
		info.bodyLen = f.i64(at)
	}
	if info.bodyLen < 0 {
		return info, f.fail((*fbPath)(nil).field("bodyLength"), "the body length is %d", info.bodyLen)
	}
	if err := f.keyValues(nil, m, slotMessageCustomMetadata); err != nil {
		return info, err
	}
	switch info.typ {
	case ipcSchema, ipcDictionaryBatch, ipcRecordBatch:
	default:
		return info, f.fail((*fbPath)(nil).field("header_type"), "a %s message: Arrow IPC data holds Schema, DictionaryBatch and RecordBatch messages", ipcHeaderName(info.typ))
	}
	hp := (*fbPath)(nil).field(ipcHeaderName(info.typ))
	h, ok, err := f.child(nil, m, slotMessageHeader, "header")
	if err != nil {
		return info, err
	}
	if !ok {
		return info, f.fail(hp, "the %s message has no header", ipcHeaderName(info.typ))
	}
	switch info.typ {
	case ipcSchema:
		err = f.schema(hp, h)
	case ipcRecordBatch:
		err = f.recordBatch(hp, h, &info)
	case ipcDictionaryBatch:
		err = f.dictionaryBatch(hp, h, &info)
	}
	return info, err
}

// dictionaryBatch checks a DictionaryBatch table.
func (f *fbuf) dictionaryBatch(p *fbPath, t fbTable, info *ipcMsgInfo) error {
	if err := f.scalars(p, t, []string{"id"}, 8); err != nil {
		return err
	}
	if _, err := f.scalar(p, t, slotDictBatchIsDelta, 1, "isDelta"); err != nil {
		return err
	}
	d, ok, err := f.child(p, t, slotDictBatchData, "data")
	if err != nil {
		return err
	}
	if !ok {
		return f.fail(p.field("data"), "the dictionary batch has no data")
	}
	return f.recordBatch(p.field("data"), d, info)
}

// recordBatch checks a RecordBatch table against the body length.
func (f *fbuf) recordBatch(p *fbPath, t fbTable, info *ipcMsgInfo) error {
	at, err := f.scalar(p, t, slotBatchLength, 8, "length")
	if err != nil {
		return err
	}
	if at >= 0 && f.i64(at) < 0 {
		return f.fail(p.field("length"), "the batch has %d rows", f.i64(at))
	}
	start, n, err := f.vector(p, t, slotBatchNodes, ipcFieldNodeSize, "nodes", "16-byte field nodes")
	if err != nil {
		return err
	}
	for i := range n {
		at := start + i*ipcFieldNodeSize
		length, nulls := f.i64(at), f.i64(at+8)
		if length < 0 || nulls < 0 || nulls > length {
			return f.fail(p.field("nodes").elem(i), "length %d with null count %d", length, nulls)
		}
	}
	bstart, nbuf, err := f.vector(p, t, slotBatchBuffers, ipcBufferSize, "buffers", "16-byte buffers")
	if err != nil {
		return err
	}
	for i := range nbuf {
		at := bstart + i*ipcBufferSize
		off, length := f.i64(at), f.i64(at+8)
		if off < 0 || length < 0 || off > info.bodyLen || length > info.bodyLen-off {
			return f.fail(p.field("buffers").elem(i), "%d bytes at offset %d run past the body's %d bytes", length, off, info.bodyLen)
		}
	}
	if c, ok, err := f.child(p, t, slotBatchCompression, "compression"); err != nil {
		return err
	} else if ok {
		cp := p.field("compression")
		codec, err := f.scalar(cp, c, slotCodec, 1, "codec")
		if err != nil {
			return err
		}
		if codec >= 0 && f.u8(codec) > 1 {
			return f.fail(cp.field("codec"), "codec %d is neither LZ4_FRAME (0) nor ZSTD (1)", f.u8(codec))
		}
		method, err := f.scalar(cp, c, slotMethod, 1, "method")
		if err != nil {
			return err
		}
		if method >= 0 && f.u8(method) != 0 {
			return f.fail(cp.field("method"), "method %d is not BUFFER (0)", f.u8(method))
		}
		info.compressed, info.bufStart, info.bufLen, info.batchPath = true, bstart, nbuf, p.String()
	}
	vstart, nv, err := f.vector(p, t, slotBatchVariadic, 8, "variadicBufferCounts", "counts")
	if err != nil {
		return err
	}
	var sum int64
	for i := range nv {
		c := f.i64(vstart + 8*i)
		if c < 0 || c > int64(nbuf)-sum {
			return f.fail(p.field("variadicBufferCounts").elem(i), "%d variadic buffers, the batch has %d buffers (%d taken by the counts before)", c, nbuf, sum)
		}
		sum += c
	}
	return nil
}

// ipcBlock is a Block of a file footer: where a message is.
type ipcBlock struct {
	offset int64
	meta   int32
	body   int64
}

// ipcFooter is what the guard learned from a file footer.
type ipcFooter struct {
	dicts, batches []ipcBlock
}

// checkFooter checks a file footer (the Footer flatbuffer) whose messages
// must lie in bytes [8, end) of the file; base is the footer's file offset.
func checkFooter(b []byte, base, end int64) (ipcFooter, error) {
	f := newFbuf(b, base)
	var out ipcFooter
	t, err := f.root(nil)
	if err != nil {
		return out, err
	}
	if _, err := f.scalar(nil, t, 0, 2, "version"); err != nil {
		return out, err
	}
	s, ok, err := f.child(nil, t, slotFooterSchema, "schema")
	if err != nil {
		return out, err
	}
	if !ok {
		return out, f.fail(nil, "it has no schema")
	}
	if err := f.schema((*fbPath)(nil).field("schema"), s); err != nil {
		return out, err
	}
	if out.dicts, err = f.blocks(t, slotFooterDictionaries, "dictionaries", end); err != nil {
		return out, err
	}
	if out.batches, err = f.blocks(t, slotFooterRecordBatches, "recordBatches", end); err != nil {
		return out, err
	}
	return out, f.keyValues(nil, t, slotFooterCustomMetadata)
}

// blocks checks a [Block] vector of a footer.
func (f *fbuf) blocks(t fbTable, slot int, name string, end int64) ([]ipcBlock, error) {
	start, n, err := f.vector(nil, t, slot, ipcBlockSize, name, "24-byte blocks")
	if err != nil || n == 0 {
		return nil, err
	}
	p := (*fbPath)(nil).field(name)
	out := make([]ipcBlock, n)
	for i := range out {
		at := start + i*ipcBlockSize
		b := ipcBlock{offset: f.i64(at), meta: f.i32(at + 8), body: f.i64(at + 16)}
		switch {
		case b.offset < 8 || b.offset%8 != 0:
			return nil, f.fail(p.elem(i), "the message offset %d is not a multiple of 8 after the leading magic", b.offset)
		case b.meta < 8 || b.meta%8 != 0:
			return nil, f.fail(p.elem(i), "the metadata length %d is not a multiple of 8 of at least 8", b.meta)
		case b.body < 0 || b.body%8 != 0:
			return nil, f.fail(p.elem(i), "the body length %d is not a multiple of 8", b.body)
		case b.offset > end || int64(b.meta) > end-b.offset || b.body > end-b.offset-int64(b.meta):
			return nil, f.fail(p.elem(i), "the message at byte %d (%d + %d bytes) runs past byte %d, where the footer starts", b.offset, b.meta, b.body, end)
		}
		out[i] = b
	}
	return out, nil
}
