package wasinfer

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// exporter writes an arrow-go record batch as ArrowSchema/ArrowArray trees
// (spec §4, §5.2). Structures, pointer arrays, strings and metadata go into
// the arena; buffers are not copied: their ArrowArray pointers are the
// addresses of the arrow-go buffers themselves, which are in linear memory
// because the guest's Go heap is. Whoever exports keeps the record (hence
// every buffer) reachable until the arena is released.
//
// release callbacks are left 0: Go cannot make a Go function callable
// through the table with the C signature. The host never calls them (spec
// §5.3); wasinfer_release frees the output instead.
type exporter struct {
	mem   linearMemory
	ar    *arena
	dummy uint32 // zeroed bytes for empty buffers the format requires
}

// exportBatch writes rec into the zeroed structures at sp (48 bytes) and ap
// (64 bytes). On error the arena may hold partial output; the caller
// releases it.
func exportBatch(mem linearMemory, ar *arena, rec arrow.RecordBatch, sp, ap uint32) error {
	e := exporter{mem: mem, ar: ar}
	schema := rec.Schema()
	fields := schema.Fields()
	if int64(len(fields)) != rec.NumCols() {
		return fmt.Errorf("batch has %d columns and %d fields", rec.NumCols(), len(fields))
	}
	n := rec.NumRows()
	if n > maxInt32 {
		return fmt.Errorf("batch has %d rows, more than %d", n, maxInt32)
	}

	// Schema: "+s" with one child per column (spec §4.1).
	if err := e.strings(sp, "+s", ""); err != nil {
		return err
	}
	md := schema.Metadata()
	if err := e.metadata(sp, md, ""); err != nil {
		return err
	}
	kids, err := e.ar.alloc(uint32(4*len(fields)), 4)
	if err != nil {
		return err
	}
	putI64(mem, sp+schemaNChildren, int64(len(fields)))
	putU32(mem, sp+schemaChildren, kids)
	for i, f := range fields {
		c, err := e.ar.alloc(schemaSize, structAlign)
		if err != nil {
			return err
		}
		putU32(mem, kids+uint32(4*i), c)
		if err := e.schema(c, f, 1, ""); err != nil {
			return err
		}
	}

	// Array: a struct array of n rows, offset 0, no validity.
	putI64(mem, ap+arrayLength, n)
	putI64(mem, ap+arrayNullCount, 0)
	putI64(mem, ap+arrayOffset, 0)
	bufs, err := e.ar.alloc(4, 4)
	if err != nil {
		return err
	}
	putI64(mem, ap+arrayNBuffers, 1)
	putU32(mem, ap+arrayBuffers, bufs)
	if kids, err = e.ar.alloc(uint32(4*len(fields)), 4); err != nil {
		return err
	}
	putI64(mem, ap+arrayNChildren, int64(len(fields)))
	putU32(mem, ap+arrayChildren, kids)
	for i, f := range fields {
		col := rec.Column(i)
		if int64(col.Len()) != n {
			return pathError(f.Name, fmt.Sprintf("length %d in a batch of %d rows", col.Len(), n))
		}
		c, err := e.ar.alloc(arraySize, structAlign)
		if err != nil {
			return err
		}
		putU32(mem, kids+uint32(4*i), c)
		if err := e.array(c, col.Data(), 1, f.Name); err != nil {
			return err
		}
	}
	return nil
}

// strings writes the format and name of the schema node at p.
func (e *exporter) strings(p uint32, format, name string) error {
	if strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("field name %q contains a NUL byte", name)
	}
	fp, err := e.ar.bytes(append([]byte(format), 0), 1)
	if err != nil {
		return err
	}
	np, err := e.ar.bytes(append([]byte(name), 0), 1)
	if err != nil {
		return err
	}
	putU32(e.mem, p+schemaFormat, fp)
	putU32(e.mem, p+schemaName, np)
	return nil
}

// metadata writes md in the binary encoding of spec §4 (NULL when empty).
func (e *exporter) metadata(p uint32, md arrow.Metadata, path string) error {
	if md.Len() == 0 {
		return nil
	}
	size := 4
	for i, k := range md.Keys() {
		size += 8 + len(k) + len(md.Values()[i])
	}
	if size > 1<<20 {
		return pathError(path, fmt.Sprintf("metadata of %d bytes, more than 1 MiB", size))
	}
	b := make([]byte, 0, size)
	b = binary.LittleEndian.AppendUint32(b, uint32(md.Len()))
	for i, k := range md.Keys() {
		v := md.Values()[i]
		b = binary.LittleEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	mp, err := e.ar.bytes(b, 4)
	if err != nil {
		return err
	}
	putU32(e.mem, p+schemaMetadata, mp)
	return nil
}

// withExtension adds the extension keys of ext to md unless md has them.
func withExtension(md arrow.Metadata, ext arrow.ExtensionType) arrow.Metadata {
	keys, vals := md.Keys(), md.Values()
	if md.FindKey(ExtensionNameKey) < 0 {
		keys, vals = append(keys[:len(keys):len(keys)], ExtensionNameKey), append(vals[:len(vals):len(vals)], ext.ExtensionName())
	}
	if md.FindKey(ExtensionMetadataKey) < 0 {
		keys, vals = append(keys[:len(keys):len(keys)], ExtensionMetadataKey), append(vals[:len(vals):len(vals)], ext.Serialize())
	}
	return arrow.NewMetadata(keys, vals)
}

// schema writes the schema node of field f at p; path is its parent's.
func (e *exporter) schema(p uint32, f arrow.Field, depth int, path string) error {
	path = joinPath(path, f.Name)
	if depth > maxDepth {
		return pathError(path, fmt.Sprintf("nesting deeper than %d levels", maxDepth))
	}
	dt, md := f.Type, f.Metadata
	for {
		ext, ok := dt.(arrow.ExtensionType)
		if !ok {
			break
		}
		md, dt = withExtension(md, ext), ext.StorageType()
	}
	var flags int64
	if f.Nullable {
		flags |= flagNullable
	}
	dict, _ := dt.(*arrow.DictionaryType)
	laid := dt
	if dict != nil {
		laid = dict.IndexType
		if dict.Ordered {
			flags |= flagDictionaryOrdered
		}
	}
	format, ok := formatOf(laid)
	if !ok || (dict != nil && !arrow.IsInteger(laid.ID())) {
		return pathError(path, fmt.Sprintf("type %s is not supported by ABI v1", f.Type))
	}
	var kids []arrow.Field
	switch t := dt.(type) {
	case *arrow.ListType:
		kids = []arrow.Field{t.ElemField()}
	case *arrow.LargeListType:
		kids = []arrow.Field{t.ElemField()}
	case *arrow.FixedSizeListType:
		kids = []arrow.Field{t.ElemField()}
	case *arrow.MapType:
		kids = []arrow.Field{t.ElemField()}
		if t.KeysSorted {
			flags |= flagMapKeysSorted
		}
	case *arrow.StructType:
		kids = t.Fields()
	}
	if err := e.strings(p, format, f.Name); err != nil {
		return pathError(path, err.Error())
	}
	if err := e.metadata(p, md, path); err != nil {
		return err
	}
	putI64(e.mem, p+schemaFlags, flags)
	if len(kids) > 0 {
		kp, err := e.ar.alloc(uint32(4*len(kids)), 4)
		if err != nil {
			return err
		}
		putI64(e.mem, p+schemaNChildren, int64(len(kids)))
		putU32(e.mem, p+schemaChildren, kp)
		for i, k := range kids {
			c, err := e.ar.alloc(schemaSize, structAlign)
			if err != nil {
				return err
			}
			putU32(e.mem, kp+uint32(4*i), c)
			if err := e.schema(c, k, depth+1, path); err != nil {
				return err
			}
		}
	}
	if dict != nil {
		c, err := e.ar.alloc(schemaSize, structAlign)
		if err != nil {
			return err
		}
		putU32(e.mem, p+schemaDictionary, c)
		if err := e.schema(c, arrow.Field{Type: dict.ValueType, Nullable: true}, depth+1, path); err != nil {
			return err
		}
	}
	return nil
}

// zeros returns the address of zeroed bytes standing for an empty buffer
// that the format requires to be non-NULL.
func (e *exporter) zeros() uint32 {
	if e.dummy == 0 {
		e.dummy = e.ar.addr(zeroBytes[:])
	}
	return e.dummy
}

// array writes the ArrowArray of d at p.
func (e *exporter) array(p uint32, d arrow.ArrayData, depth int, path string) error {
	if depth > maxDepth+1 {
		return pathError(path, fmt.Sprintf("nesting deeper than %d levels", maxDepth))
	}
	dt := storageOf(d.DataType())
	lay := layoutOf(dt)
	length, offset := int64(d.Len()), int64(d.Offset())
	end := offset + length
	nulls := int64(d.NullN())
	if _, ok := dt.(*arrow.NullType); ok {
		nulls = length
	}
	bufs := d.Buffers()
	nb := len(lay.bufs)
	var bp uint32
	if nb > 0 {
		var err error
		if bp, err = e.ar.alloc(uint32(4*nb), 4); err != nil {
			return err
		}
	}
	var last int64 // last offset: the size of the data buffer or list child
	for i, kind := range lay.bufs {
		var b []byte
		if i < len(bufs) && bufs[i] != nil {
			b = bufs[i].Bytes()
		}
		var need int64
		switch kind {
		case bufValidity:
			if len(b) == 0 {
				if nulls > 0 {
					return pathError(path, fmt.Sprintf("null count %d without a validity bitmap", nulls))
				}
				nulls = 0
				continue // NULL
			}
			need = bitutil.BytesForBits(end)
		case bufBits:
			need = bitutil.BytesForBits(end)
		case bufFixed:
			need = end * int64(lay.width)
		case bufOffsets32, bufOffsets64:
			w := int64(4)
			if kind == bufOffsets64 {
				w = 8
			}
			if len(b) == 0 && end == 0 {
				putU32(e.mem, bp+uint32(4*i), e.zeros())
				continue
			}
			need = (end + 1) * w
			if int64(len(b)) < need {
				break
			}
			var first int64
			if w == 4 {
				first = int64(int32(binary.LittleEndian.Uint32(b[4*offset:])))
				last = int64(int32(binary.LittleEndian.Uint32(b[4*end:])))
			} else {
				first = int64(binary.LittleEndian.Uint64(b[8*offset:]))
				last = int64(binary.LittleEndian.Uint64(b[8*end:]))
			}
			if first < 0 || last < first {
				return pathError(path, fmt.Sprintf("offsets run from %d to %d", first, last))
			}
		case bufData:
			need = last
		}
		if int64(len(b)) < need {
			return pathError(path, fmt.Sprintf("buffer %d has %d bytes, %d needed for offset %d and length %d",
				i, len(b), need, offset, length))
		}
		if len(b) == 0 {
			putU32(e.mem, bp+uint32(4*i), e.zeros())
			continue
		}
		putU32(e.mem, bp+uint32(4*i), e.ar.addr(b))
	}
	putI64(e.mem, p+arrayLength, length)
	putI64(e.mem, p+arrayNullCount, nulls)
	putI64(e.mem, p+arrayOffset, offset)
	putI64(e.mem, p+arrayNBuffers, int64(nb))
	putU32(e.mem, p+arrayBuffers, bp)

	var kids []arrow.Field
	var need int64
	switch t := dt.(type) {
	case *arrow.ListType:
		kids, need = []arrow.Field{t.ElemField()}, last
	case *arrow.LargeListType:
		kids, need = []arrow.Field{t.ElemField()}, last
	case *arrow.MapType:
		kids, need = []arrow.Field{t.ElemField()}, last
	case *arrow.FixedSizeListType:
		kids, need = []arrow.Field{t.ElemField()}, end*int64(t.Len())
	case *arrow.StructType:
		kids, need = t.Fields(), end
	}
	children := d.Children()
	if len(children) != len(kids) {
		return pathError(path, fmt.Sprintf("%d children, type %s has %d", len(children), dt, len(kids)))
	}
	if len(kids) > 0 {
		kp, err := e.ar.alloc(uint32(4*len(kids)), 4)
		if err != nil {
			return err
		}
		putI64(e.mem, p+arrayNChildren, int64(len(kids)))
		putU32(e.mem, p+arrayChildren, kp)
		for i, k := range kids {
			cpath := joinPath(path, k.Name)
			if int64(children[i].Len()) < need {
				return pathError(cpath, fmt.Sprintf("length %d, its parent needs %d", children[i].Len(), need))
			}
			c, err := e.ar.alloc(arraySize, structAlign)
			if err != nil {
				return err
			}
			putU32(e.mem, kp+uint32(4*i), c)
			if err := e.array(c, children[i], depth+1, cpath); err != nil {
				return err
			}
		}
	}
	if _, ok := dt.(*arrow.DictionaryType); ok {
		dict := dictionaryOf(d)
		if dict == nil {
			return pathError(path, "dictionary array without a dictionary")
		}
		c, err := e.ar.alloc(arraySize, structAlign)
		if err != nil {
			return err
		}
		putU32(e.mem, p+arrayDictionary, c)
		if err := e.array(c, dict, depth+1, path); err != nil {
			return err
		}
	}
	return nil
}

// dictionaryOf is d's dictionary, or nil (arrow-go's *array.Data returns a
// typed nil when it has none).
func dictionaryOf(d arrow.ArrayData) arrow.ArrayData {
	dict := d.Dictionary()
	if dd, ok := dict.(*array.Data); ok && dd == nil {
		return nil
	}
	return dict
}
