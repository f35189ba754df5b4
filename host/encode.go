package host

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/wasinfer/wasinfer/abi"
)

// layout writes a record batch into one block of guest memory (spec §5.1).
// The same traversal runs twice: once with buf == nil to size the block, once
// to write it at its final address. Offsets inside the block are relative;
// pointers written into it are base + offset.
type layout struct {
	buf    []byte // nil while sizing
	base   uint32 // guest address of buf[0]
	pos    int    // bytes used so far
	cached bool   // copy in chunks (copy.go)
}

func (l *layout) reserve(n, align int) int {
	l.pos = (l.pos + align - 1) &^ (align - 1)
	off := l.pos
	l.pos += n
	return off
}

func (l *layout) ptr(off int) uint32 { return l.base + uint32(off) }

func (l *layout) put32(off int, v uint32) {
	if l.buf != nil {
		binary.LittleEndian.PutUint32(l.buf[off:], v)
	}
}

func (l *layout) put64(off int, v int64) {
	if l.buf != nil {
		binary.LittleEndian.PutUint64(l.buf[off:], uint64(v))
	}
}

// bytes copies b into the block and returns its guest address (0 when b is nil).
func (l *layout) bytes(b []byte, align int) uint32 {
	if b == nil {
		return 0
	}
	off := l.reserve(len(b), align)
	if l.buf != nil {
		copyData(l.buf[off:], b, l.cached)
	}
	return l.ptr(off)
}

// cstring stores s NUL-terminated.
func (l *layout) cstring(s string) uint32 {
	off := l.reserve(len(s)+1, 1)
	if l.buf != nil {
		copy(l.buf[off:], s)
		l.buf[off+len(s)] = 0
	}
	return l.ptr(off)
}

// metadata stores the C Data Interface metadata encoding; 0 when empty.
func (l *layout) metadata(keys, values []string) uint32 {
	if len(keys) == 0 {
		return 0
	}
	n := 4
	for i := range keys {
		n += 8 + len(keys[i]) + len(values[i])
	}
	off := l.reserve(n, 4)
	if l.buf != nil {
		b := l.buf[off : off+n]
		binary.LittleEndian.PutUint32(b, uint32(len(keys)))
		p := 4
		for i := range keys {
			binary.LittleEndian.PutUint32(b[p:], uint32(len(keys[i])))
			p += 4 + copy(b[p+4:], keys[i])
			binary.LittleEndian.PutUint32(b[p:], uint32(len(values[i])))
			p += 4 + copy(b[p+4:], values[i])
		}
	}
	return l.ptr(off)
}

// batch writes the out structs (zeroed), then the input schema and array.
// It returns the addresses of in_schema, in_array, out_schema, out_array.
func (l *layout) batch(rec arrow.RecordBatch) (inS, inA, outS, outA uint32, err error) {
	so := l.reserve(abi.SchemaSize, abi.StructAlign)
	ao := l.reserve(abi.ArraySize, abi.StructAlign)
	if l.buf != nil {
		clear(l.buf[so : so+abi.SchemaSize])
		clear(l.buf[ao : ao+abi.ArraySize])
	}
	outS, outA = l.ptr(so), l.ptr(ao)

	sc := rec.Schema()
	nf := sc.NumFields()
	n := int(rec.NumRows())
	skids := l.reserve(abi.PointerSize*nf, abi.PointerSize)
	akids := l.reserve(abi.PointerSize*nf, abi.PointerSize)
	for i := range nf {
		f := sc.Field(i)
		sp, err := l.schema(f.Name, f.Type, f.Nullable, f.Metadata)
		if err != nil {
			return 0, 0, 0, 0, fmt.Errorf("column %q: %w", f.Name, err)
		}
		l.put32(skids+abi.PointerSize*i, sp)
		col := rec.Column(i).Data()
		ap, err := l.array(col, col.Offset(), n)
		if err != nil {
			return 0, 0, 0, 0, fmt.Errorf("column %q: %w", f.Name, err)
		}
		l.put32(akids+abi.PointerSize*i, ap)
	}
	md := sc.Metadata()
	inS = l.schemaStruct("+s", "", l.metadata(md.Keys(), md.Values()), 0, nf, skids, 0)
	bufs := l.reserve(abi.PointerSize, abi.PointerSize)
	l.put32(bufs, 0) // no validity
	inA = l.arrayStruct(int64(n), 0, 0, 1, bufs, nf, akids, 0)
	return inS, inA, outS, outA, nil
}

func (l *layout) schemaStruct(format, name string, md uint32, flags int64, nkids, kids int, dict uint32) uint32 {
	fp, np := l.cstring(format), l.cstring(name)
	off := l.reserve(abi.SchemaSize, abi.StructAlign)
	l.put32(off+abi.SchemaFormat, fp)
	l.put32(off+abi.SchemaName, np)
	l.put32(off+abi.SchemaMetadata, md)
	l.put32(off+abi.SchemaMetadata+4, 0)
	l.put64(off+abi.SchemaFlags, flags)
	l.put64(off+abi.SchemaNChildren, int64(nkids))
	l.put32(off+abi.SchemaChildren, l.ptr(kids))
	l.put32(off+abi.SchemaDictionary, dict)
	l.put32(off+abi.SchemaRelease, 0)
	l.put32(off+abi.SchemaPrivateData, 0)
	return l.ptr(off)
}

func (l *layout) arrayStruct(length, nulls, offset int64, nbufs, bufs, nkids, kids int, dict uint32) uint32 {
	off := l.reserve(abi.ArraySize, abi.StructAlign)
	l.put64(off+abi.ArrayLength, length)
	l.put64(off+abi.ArrayNullCount, nulls)
	l.put64(off+abi.ArrayOffset, offset)
	l.put64(off+abi.ArrayNBuffers, int64(nbufs))
	l.put64(off+abi.ArrayNChildren, int64(nkids))
	l.put32(off+abi.ArrayBuffers, l.ptr(bufs))
	l.put32(off+abi.ArrayChildren, l.ptr(kids))
	l.put32(off+abi.ArrayDictionary, dict)
	l.put32(off+abi.ArrayRelease, 0)
	l.put32(off+abi.ArrayPrivateData, 0)
	l.put32(off+abi.ArrayPrivateData+4, 0)
	return l.ptr(off)
}

// childFields lists the child fields of a nested storage type, in C Data
// Interface order.
func childFields(dt arrow.DataType) []arrow.Field {
	switch t := dt.(type) {
	case *arrow.ListType:
		return []arrow.Field{t.ElemField()}
	case *arrow.LargeListType:
		return []arrow.Field{t.ElemField()}
	case *arrow.FixedSizeListType:
		return []arrow.Field{t.ElemField()}
	case *arrow.MapType:
		return []arrow.Field{t.ElemField()}
	case *arrow.StructType:
		return t.Fields()
	}
	return nil
}

// schema writes the ArrowSchema of one field (spec §4.2).
func (l *layout) schema(name string, dt arrow.DataType, nullable bool, md arrow.Metadata) (uint32, error) {
	keys, vals := md.Keys(), md.Values()
	if ext, ok := dt.(arrow.ExtensionType); ok {
		keys = append(keys[:len(keys):len(keys)], abi.ExtensionNameKey, abi.ExtensionMetaKey)
		vals = append(vals[:len(vals):len(vals)], ext.ExtensionName(), ext.Serialize())
		dt = ext.StorageType()
	}
	format, err := formatOf(dt)
	if err != nil {
		return 0, err
	}
	var flags int64
	if nullable {
		flags |= abi.FlagNullable
	}
	var dict uint32
	if d, ok := dt.(*arrow.DictionaryType); ok {
		if d.Ordered {
			flags |= abi.FlagDictionaryOrd
		}
		if dict, err = l.schema("", d.ValueType, true, arrow.Metadata{}); err != nil {
			return 0, fmt.Errorf("dictionary: %w", err)
		}
	}
	if m, ok := dt.(*arrow.MapType); ok && m.KeysSorted {
		flags |= abi.FlagMapKeysSorted
	}
	kidFields := childFields(dt)
	kids := l.reserve(abi.PointerSize*len(kidFields), abi.PointerSize)
	for i, f := range kidFields {
		p, err := l.schema(f.Name, f.Type, f.Nullable, f.Metadata)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f.Name, err)
		}
		l.put32(kids+abi.PointerSize*i, p)
	}
	return l.schemaStruct(format, name, l.metadata(keys, vals), flags, len(kidFields), kids, dict), nil
}

// slice returns b[lo:hi] or an error when the Go array is shorter than its
// type and length say (an invalid arrow.ArrayData from the caller).
func slice(b []byte, lo, hi int) ([]byte, error) {
	if lo < 0 || hi < lo || hi > len(b) {
		return nil, fmt.Errorf("buffer of %d bytes too short for bytes [%d, %d): invalid array data", len(b), lo, hi)
	}
	return b[lo:hi], nil
}

func bufferAt(d arrow.ArrayData, i int) []byte {
	bs := d.Buffers()
	if i >= len(bs) || bs[i] == nil {
		return nil
	}
	return bs[i].Bytes()
}

// array writes rows [start, start+n) of d, where start counts from the
// beginning of d's buffers (it includes d.Offset()). Buffers are trimmed to
// those rows; the array keeps an offset below 8 so bitmaps stay byte-aligned.
func (l *layout) array(d arrow.ArrayData, start, n int) (uint32, error) {
	dt := d.DataType()
	if ext, ok := dt.(arrow.ExtensionType); ok {
		dt = ext.StorageType()
	}
	r := start & 7
	base, end := start-r, start+n
	if n == 0 {
		base, end, r = 0, 0, 0
	}

	var dict uint32
	if dd, ok := dt.(*arrow.DictionaryType); ok {
		dv := d.Dictionary()
		if dv == nil {
			return 0, fmt.Errorf("dictionary array without a dictionary")
		}
		p, err := l.array(dv, dv.Offset(), dv.Len())
		if err != nil {
			return 0, fmt.Errorf("dictionary: %w", err)
		}
		dict = p
		dt = dd.IndexType
	}
	format, err := formatOf(dt)
	if err != nil {
		return 0, err
	}
	f, err := abi.ParseFormat(format)
	if err != nil {
		return 0, err
	}

	if f.Kind == abi.KindNull {
		bufs := l.reserve(0, abi.PointerSize)
		kids := l.reserve(0, abi.PointerSize)
		return l.arrayStruct(int64(n), int64(n), int64(r), 0, bufs, 0, kids, dict), nil
	}

	// Validity: NULL when these rows have no nulls.
	var validity []byte
	nulls := 0
	if vb := bufferAt(d, 0); vb != nil && d.NullN() != 0 && n > 0 {
		if validity, err = slice(vb, base/8, (end+7)/8); err != nil {
			return 0, err
		}
		nulls = n - bitutil.CountSetBits(vb, start, n)
		if nulls == 0 {
			validity = nil
		}
	}
	var bufArr [3]uint32 // at most 3 buffers; kept on the stack
	var kidArr [2]uint32
	bufPtrs := append(bufArr[:0], l.bytes(validity, abi.InputBufferAlign))
	kidPtrs := kidArr[:0]

	switch f.Kind {
	case abi.KindBool:
		b, err := slice(bufferAt(d, 1), base/8, (end+7)/8)
		if err != nil {
			return 0, err
		}
		bufPtrs = append(bufPtrs, l.bytes(nonNil(b), abi.InputBufferAlign))
	case abi.KindFixed:
		b, err := slice(bufferAt(d, 1), base*f.Width, end*f.Width)
		if err != nil {
			return 0, err
		}
		bufPtrs = append(bufPtrs, l.bytes(nonNil(b), abi.InputBufferAlign))
	case abi.KindBinary, abi.KindLargeBinary, abi.KindList, abi.KindLargeList, abi.KindMap:
		wide := f.Kind == abi.KindLargeBinary || f.Kind == abi.KindLargeList
		op, lo, hi, err := l.offsets(bufferAt(d, 1), base, end, wide)
		if err != nil {
			return 0, err
		}
		bufPtrs = append(bufPtrs, op)
		if f.Kind == abi.KindBinary || f.Kind == abi.KindLargeBinary {
			b, err := slice(bufferAt(d, 2), lo, hi)
			if err != nil {
				return 0, err
			}
			bufPtrs = append(bufPtrs, l.bytes(nonNil(b), abi.InputBufferAlign))
			break
		}
		c := d.Children()[0]
		p, err := l.array(c, c.Offset()+lo, hi-lo)
		if err != nil {
			return 0, err
		}
		kidPtrs = append(kidPtrs, p)
	case abi.KindFixedSizeList:
		c := d.Children()[0]
		size := int(f.ListSize)
		p, err := l.array(c, c.Offset()+base*size, (end-base)*size)
		if err != nil {
			return 0, err
		}
		kidPtrs = append(kidPtrs, p)
	case abi.KindStruct:
		for _, c := range d.Children() {
			p, err := l.array(c, c.Offset()+base, end-base)
			if err != nil {
				return 0, err
			}
			kidPtrs = append(kidPtrs, p)
		}
	}

	bufs := l.reserve(abi.PointerSize*len(bufPtrs), abi.PointerSize)
	for i, p := range bufPtrs {
		l.put32(bufs+abi.PointerSize*i, p)
	}
	kids := l.reserve(abi.PointerSize*len(kidPtrs), abi.PointerSize)
	for i, p := range kidPtrs {
		l.put32(kids+abi.PointerSize*i, p)
	}
	return l.arrayStruct(int64(n), int64(nulls), int64(r), len(bufPtrs), bufs, len(kidPtrs), kids, dict), nil
}

var empty = []byte{}

// nonNil keeps a required buffer's pointer non-NULL when it holds no bytes.
func nonNil(b []byte) []byte {
	if b == nil {
		return empty
	}
	return b
}

// offsets writes entries [base, end] of an offsets buffer rebased to start at
// zero, and returns the guest address and the value range [lo, hi) they cover.
func (l *layout) offsets(buf []byte, base, end int, wide bool) (ptr uint32, lo, hi int, err error) {
	w := 4
	if wide {
		w = 8
	}
	if buf == nil && end == 0 {
		// An empty array may have no offsets buffer; give the guest one zero.
		return l.bytes(make([]byte, w), abi.InputBufferAlign), 0, 0, nil
	}
	src, err := slice(buf, base*w, (end+1)*w)
	if err != nil {
		return 0, 0, 0, err
	}
	at := func(i int) int64 {
		if wide {
			return int64(binary.LittleEndian.Uint64(src[i*w:]))
		}
		return int64(int32(binary.LittleEndian.Uint32(src[i*w:])))
	}
	first, last := at(0), at(end-base)
	if first < 0 || last < first || last > math.MaxInt32*int64(w) {
		return 0, 0, 0, fmt.Errorf("offsets [%d, %d] out of range: invalid array data", first, last)
	}
	off := l.reserve(len(src), abi.InputBufferAlign)
	if l.buf != nil {
		dst := l.buf[off : off+len(src)]
		switch {
		case first == 0:
			copyData(dst, src, l.cached)
		case wide:
			for i := 0; i <= end-base; i++ {
				binary.LittleEndian.PutUint64(dst[i*8:], uint64(at(i)-first))
			}
		default:
			for i := 0; i <= end-base; i++ {
				binary.LittleEndian.PutUint32(dst[i*4:], uint32(at(i)-first))
			}
		}
	}
	return l.ptr(off), int(first), int(last), nil
}
