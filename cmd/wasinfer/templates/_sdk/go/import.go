package wasinfer

import (
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// importer reads an ArrowSchema/ArrowArray tree from linear memory (spec §4)
// into arrow-go values without copying: every buffer becomes a
// memory.Buffer over the bytes in place. The tree is borrowed (spec §5.1),
// so the result is only valid until the transform call returns.
//
// The host validated the tree before it wrote it; the checks here keep a
// malformed tree from producing slices that overrun their buffers, and
// report it as an error naming the column.
type importer struct {
	mem linearMemory
}

// zeroBytes backs offsets buffers that the C Data Interface lets be NULL
// (offset + length = 0): arrow-go wants one zero offset there.
var zeroBytes [64]byte

// importBatch imports the record batch whose schema and array are at sp and
// ap (spec §4.1).
func importBatch(mem linearMemory, sp, ap uint32) (arrow.RecordBatch, error) {
	im := importer{mem: mem}
	if sp == 0 || ap == 0 {
		return nil, malformed("", "input schema or array pointer is NULL")
	}
	format, err := im.string(getU32(mem, sp+schemaFormat), maxFormatLen, "format", "")
	if err != nil {
		return nil, err
	}
	if format != "+s" {
		return nil, malformed("", "input batch has format %q, want \"+s\"", format)
	}
	md, err := im.metadata(getU32(mem, sp+schemaMetadata), "")
	if err != nil {
		return nil, err
	}
	fields, err := im.children(sp, -1, 0, "", format)
	if err != nil {
		return nil, err
	}
	schema := arrow.NewSchema(fields, &md)

	n, off := getI64(mem, ap+arrayLength), getI64(mem, ap+arrayOffset)
	if n < 0 || off < 0 || n > maxInt32 || off > maxInt32 {
		return nil, malformed("", "input batch has length %d and offset %d", n, off)
	}
	if k := getI64(mem, ap+arrayNChildren); k != int64(len(fields)) {
		return nil, malformed("", "input batch array has %d children, its schema %d", k, len(fields))
	}
	kids := getU32(mem, ap+arrayChildren)
	cols := make([]arrow.Array, len(fields))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range fields {
		d, err := im.array(getU32(mem, kids+uint32(4*i)), f.Type, 1, f.Name)
		if err != nil {
			return nil, err
		}
		if int64(d.Len()) < off+n {
			d.Release()
			return nil, malformed(f.Name, "length %d shorter than the batch (offset %d + length %d)", d.Len(), off, n)
		}
		if off != 0 || int64(d.Len()) != n {
			s := array.NewSliceData(d, off, off+n)
			d.Release()
			d = s
		}
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	return array.NewRecordBatch(schema, cols, n), nil
}

const maxInt32 = 1<<31 - 1

func (im importer) string(p uint32, limit int, what, path string) (string, error) {
	if p == 0 {
		return "", nil
	}
	s, err := im.mem.cstring(p, limit)
	if err != nil {
		return "", malformed(path, "%s: %v", what, err)
	}
	return s, nil
}

// metadata decodes the binary metadata encoding at p (spec §4).
func (im importer) metadata(p uint32, path string) (arrow.Metadata, error) {
	if p == 0 {
		return arrow.Metadata{}, nil
	}
	count := int32(getU32(im.mem, p))
	if count < 0 || count > maxMetadataBytes/8 {
		return arrow.Metadata{}, malformed(path, "metadata has %d pairs", count)
	}
	keys, vals := make([]string, count), make([]string, count)
	pos := p + 4
	next := func() (string, error) {
		n := int32(getU32(im.mem, pos))
		if n < 0 || n > maxMetadataBytes {
			return "", malformed(path, "metadata entry of %d bytes", n)
		}
		s := string(im.mem.view(pos+4, uint32(n)))
		pos += 4 + uint32(n)
		return s, nil
	}
	for i := range keys {
		var err error
		if keys[i], err = next(); err != nil {
			return arrow.Metadata{}, err
		}
		if vals[i], err = next(); err != nil {
			return arrow.Metadata{}, err
		}
	}
	return arrow.NewMetadata(keys, vals), nil
}

// children imports the child fields of the schema node at p.
func (im importer) children(p uint32, want, depth int, path, format string) ([]arrow.Field, error) {
	n := getI64(im.mem, p+schemaNChildren)
	if n < 0 || n > 1<<16 || (want >= 0 && n != int64(want)) {
		return nil, malformed(path, "format %q with %d children", format, n)
	}
	kids := getU32(im.mem, p+schemaChildren)
	fields := make([]arrow.Field, n)
	for i := range fields {
		var err error
		if fields[i], err = im.field(getU32(im.mem, kids+uint32(4*i)), depth+1, path); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// field imports the schema node at p as a field; path is its parent's.
func (im importer) field(p uint32, depth int, path string) (arrow.Field, error) {
	if depth > maxDepth {
		return arrow.Field{}, malformed(path, "nesting deeper than %d levels", maxDepth)
	}
	if p == 0 {
		return arrow.Field{}, malformed(path, "schema pointer is NULL")
	}
	name, err := im.string(getU32(im.mem, p+schemaName), maxNameLen, "name", path)
	if err != nil {
		return arrow.Field{}, err
	}
	path = joinPath(path, name)
	fp := getU32(im.mem, p+schemaFormat)
	if fp == 0 {
		return arrow.Field{}, malformed(path, "format is NULL")
	}
	format, err := im.string(fp, maxFormatLen, "format", path)
	if err != nil {
		return arrow.Field{}, err
	}
	md, err := im.metadata(getU32(im.mem, p+schemaMetadata), path)
	if err != nil {
		return arrow.Field{}, err
	}
	flags := getI64(im.mem, p+schemaFlags)
	kids, err := im.children(p, childCount(format), depth, path, format)
	if err != nil {
		return arrow.Field{}, err
	}
	if format == "+m" && len(kids) == 1 {
		if st, ok := kids[0].Type.(*arrow.StructType); ok && st.NumFields() == 2 && st.Field(0).Nullable {
			return arrow.Field{}, malformed(path, "map keys are nullable")
		}
	}
	dt, err := typeOf(format, kids, flags, path)
	if err != nil {
		return arrow.Field{}, err
	}
	if dp := getU32(im.mem, p+schemaDictionary); dp != 0 {
		if !arrow.IsInteger(dt.ID()) {
			return arrow.Field{}, malformed(path, "dictionary with index format %q, want an integer", format)
		}
		vf, err := im.field(dp, depth+1, path)
		if err != nil {
			return arrow.Field{}, err
		}
		dt = &arrow.DictionaryType{IndexType: dt, ValueType: vf.Type, Ordered: flags&flagDictionaryOrdered != 0}
	}
	return arrow.Field{Name: name, Type: dt, Nullable: flags&flagNullable != 0, Metadata: md}, nil
}

// array imports the ArrowArray at p as data of type dt.
func (im importer) array(p uint32, dt arrow.DataType, depth int, path string) (arrow.ArrayData, error) {
	if p == 0 {
		return nil, malformed(path, "array pointer is NULL")
	}
	if depth > maxDepth+1 {
		return nil, malformed(path, "nesting deeper than %d levels", maxDepth)
	}
	a := im.mem.view(p, arraySize)
	length := int64(binary.LittleEndian.Uint64(a[arrayLength:]))
	nulls := int64(binary.LittleEndian.Uint64(a[arrayNullCount:]))
	offset := int64(binary.LittleEndian.Uint64(a[arrayOffset:]))
	nbufs := int64(binary.LittleEndian.Uint64(a[arrayNBuffers:]))
	nkids := int64(binary.LittleEndian.Uint64(a[arrayNChildren:]))
	bufp := binary.LittleEndian.Uint32(a[arrayBuffers:])
	kidp := binary.LittleEndian.Uint32(a[arrayChildren:])
	dictp := binary.LittleEndian.Uint32(a[arrayDictionary:])
	if length < 0 || offset < 0 || length > maxInt32 || offset > maxInt32 {
		return nil, malformed(path, "length %d and offset %d", length, offset)
	}
	if nulls < -1 || nulls > length {
		return nil, malformed(path, "null_count %d with length %d", nulls, length)
	}
	end := offset + length
	lay := layoutOf(dt)
	if nbufs != int64(len(lay.bufs)) {
		return nil, malformed(path, "%d buffers, type %s has %d", nbufs, dt, len(lay.bufs))
	}

	buffers := make([]*memory.Buffer, max(len(lay.bufs), 1))
	var last int64 // last offset, for the data buffer and list children
	for i, kind := range lay.bufs {
		bp := getU32(im.mem, bufp+uint32(4*i))
		var size int64
		switch kind {
		case bufValidity:
			if bp == 0 {
				nulls = 0 // arrow-go would count a missing bitmap as all null
				continue
			}
			size = bitutil.BytesForBits(end)
		case bufBits:
			size = bitutil.BytesForBits(end)
		case bufFixed:
			size = end * int64(lay.width)
		case bufOffsets32, bufOffsets64:
			w := int64(4)
			if kind == bufOffsets64 {
				w = 8
			}
			if bp == 0 && end == 0 {
				buffers[i] = memory.NewBufferBytes(zeroBytes[:w])
				continue
			}
			size = (end + 1) * w
			if bp == 0 {
				break
			}
			if size > 1<<32 {
				return nil, malformed(path, "offsets buffer of %d bytes", size)
			}
			offs := im.mem.view(bp, uint32(size))
			var first int64
			if w == 4 {
				first = int64(int32(binary.LittleEndian.Uint32(offs[4*offset:])))
				last = int64(int32(binary.LittleEndian.Uint32(offs[4*end:])))
			} else {
				first = int64(binary.LittleEndian.Uint64(offs[8*offset:]))
				last = int64(binary.LittleEndian.Uint64(offs[8*end:]))
			}
			if first < 0 || last < first || last > 1<<32 {
				return nil, malformed(path, "offsets run from %d to %d", first, last)
			}
		case bufData:
			size = last
		}
		if bp == 0 && size > 0 {
			return nil, malformed(path, "buffer %d is NULL", i)
		}
		if size == 0 {
			buffers[i] = memory.NewBufferBytes([]byte{})
			continue
		}
		if size > 1<<32 {
			return nil, malformed(path, "buffer %d of %d bytes", i, size)
		}
		buffers[i] = memory.NewBufferBytes(im.mem.view(bp, uint32(size)))
	}

	if _, ok := dt.(*arrow.NullType); ok {
		return array.NewData(dt, int(length), []*memory.Buffer{nil}, nil, int(length), int(offset)), nil
	}
	want := 0
	switch t := dt.(type) {
	case *arrow.ListType, *arrow.LargeListType, *arrow.MapType, *arrow.FixedSizeListType:
		want = 1
	case *arrow.StructType:
		want = t.NumFields()
	}
	if nkids != int64(want) {
		return nil, malformed(path, "%d children, type %s has %d", nkids, dt, want)
	}
	var kids []arrow.ArrayData
	defer func() {
		for _, k := range kids {
			k.Release()
		}
	}()
	child := func(i int, f arrow.Field, need int64) error {
		d, err := im.array(getU32(im.mem, kidp+uint32(4*i)), f.Type, depth+1, joinPath(path, f.Name))
		if err != nil {
			return err
		}
		kids = append(kids, d)
		if int64(d.Len()) < need {
			return malformed(joinPath(path, f.Name), "length %d, its parent needs %d", d.Len(), need)
		}
		return nil
	}
	var err error
	switch t := dt.(type) {
	case *arrow.ListType:
		err = child(0, t.ElemField(), last)
	case *arrow.LargeListType:
		err = child(0, t.ElemField(), last)
	case *arrow.MapType:
		err = child(0, t.ElemField(), last)
	case *arrow.FixedSizeListType:
		err = child(0, t.ElemField(), end*int64(t.Len()))
	case *arrow.StructType:
		for i, f := range t.Fields() {
			if err = child(i, f, end); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if t, ok := dt.(*arrow.DictionaryType); ok {
		if dictp == 0 {
			return nil, malformed(path, "dictionary array has no dictionary")
		}
		dict, err := im.array(dictp, t.ValueType, depth+1, path)
		if err != nil {
			return nil, err
		}
		defer dict.Release()
		return array.NewDataWithDictionary(dt, int(length), buffers, int(nulls), int(offset), dict.(*array.Data)), nil
	}
	return array.NewData(dt, int(length), buffers, kids, int(nulls), int(offset)), nil
}
