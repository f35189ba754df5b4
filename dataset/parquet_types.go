package dataset

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Adapting columns to what pqarrow writes and back.
//
// Writing: a null list or map slot that owns child values (legal in
// Arrow, as slicing and concatenating make them) is refused by pqarrow,
// so such columns are copied with empty segments under null slots
// (emptyNullSegments); duration columns, which pqarrow cannot write, are
// written as int64.
//
// Reading: with the Arrow schema the sink stored (arrowSchemaKey), a
// top-level column comes back as the type it was written as where the
// conversion is exact: duration from int64, date64 from date32 (days),
// time32[s] from time32[ms], timestamp[s] from timestamp[ms], a
// dictionary of non-binary values from its plain values, and a tensor or
// fixed_size_list written in the binary tensor layout from its
// fixed_size_binary (parquet_tensor.go).

// hasNullSegment reports whether a list or map slot somewhere in arr is
// null (or under a null struct or fixed_size_list slot) but owns child
// values.
func hasNullSegment(arr arrow.Array) bool { return nullSegment(arr, nil) }

// nullSegment is hasNullSegment where slot i also counts as null when
// hidden[i] (nil: none is).
func nullSegment(arr arrow.Array, hidden []bool) bool {
	gone := func(i int) bool { return arr.IsNull(i) || (i < len(hidden) && hidden[i]) }
	switch a := arr.(type) {
	case *array.FixedSizeList:
		n := a.DataType().(*arrow.FixedSizeListType).Len()
		off := int64(a.Data().Offset())
		child := array.NewSlice(a.ListValues(), off*int64(n), (off+int64(a.Len()))*int64(n))
		defer child.Release()
		return nullSegment(child, hiddenUnder(a.Len(), int(n), gone))
	case array.ListLike:
		for i := range a.Len() {
			s, e := a.ValueOffsets(i)
			if e == s {
				continue
			}
			if gone(i) {
				return true
			}
			child := array.NewSlice(a.ListValues(), s, e)
			bad := nullSegment(child, nil)
			child.Release()
			if bad {
				return true
			}
		}
	case *array.Struct:
		h := hiddenUnder(a.Len(), 1, gone)
		for k := range a.NumField() {
			if nullSegment(a.Field(k), h) {
				return true
			}
		}
	}
	return false
}

// hiddenUnder returns, for n slots of width w each, which of the n*w child
// slots are under a gone slot (nil when none is).
func hiddenUnder(n, w int, gone func(int) bool) []bool {
	var h []bool
	for i := range n {
		if gone(i) {
			if h == nil {
				h = make([]bool, n*w)
			}
			for j := range w {
				h[i*w+j] = true
			}
		}
	}
	return h
}

// emptyNullSegments returns a copy of arr (a new reference) in which no
// null list or map slot owns child values; the values of valid slots are
// the same.
func emptyNullSegments(arr arrow.Array, mem memory.Allocator) (arrow.Array, error) {
	return emptySegments(arr, nil, mem)
}

// emptySegments is emptyNullSegments where slot i also counts as null when
// hidden[i].
func emptySegments(arr arrow.Array, hidden []bool, mem memory.Allocator) (arrow.Array, error) {
	gone := func(i int) bool { return arr.IsNull(i) || (i < len(hidden) && hidden[i]) }
	switch a := arr.(type) {
	case *array.List, *array.LargeList, *array.Map:
		ll := a.(array.ListLike)
		var parts []arrow.Array
		defer func() {
			for _, p := range parts {
				p.Release()
			}
		}()
		large := a.DataType().ID() == arrow.LARGE_LIST
		off32 := make([]int32, 0, a.Len()+1)
		off64 := make([]int64, 0, a.Len()+1)
		var n int64
		for i := range a.Len() {
			if large {
				off64 = append(off64, n)
			} else {
				off32 = append(off32, int32(n))
			}
			s, e := ll.ValueOffsets(i)
			if gone(i) || e == s {
				continue
			}
			child := array.NewSlice(ll.ListValues(), s, e)
			fixed, err := emptySegments(child, nil, mem)
			child.Release()
			if err != nil {
				return nil, err
			}
			parts = append(parts, fixed)
			n += e - s
		}
		var offsets []byte
		if large {
			offsets = arrow.Int64Traits.CastToBytes(append(off64, n))
		} else {
			if n > int64(^uint32(0)>>1) {
				return nil, fmt.Errorf("list of %d values", n)
			}
			offsets = arrow.Int32Traits.CastToBytes(append(off32, int32(n)))
		}
		var child arrow.Array
		if len(parts) == 0 {
			b := array.NewBuilder(mem, ll.ListValues().DataType())
			child = b.NewArray()
			b.Release()
		} else {
			var err error
			if child, err = array.Concatenate(parts, mem); err != nil {
				return nil, err
			}
		}
		defer child.Release()
		ob := memory.NewResizableBuffer(mem)
		ob.Resize(len(offsets))
		copy(ob.Bytes(), offsets)
		defer ob.Release()
		vb := validity(a, mem)
		if vb != nil {
			defer vb.Release()
		}
		d := array.NewData(a.DataType(), a.Len(), []*memory.Buffer{vb, ob}, []arrow.ArrayData{child.Data()}, a.NullN(), 0)
		defer d.Release()
		return array.MakeFromData(d), nil
	case *array.Struct:
		children := make([]arrow.ArrayData, a.NumField())
		fixed := make([]arrow.Array, 0, a.NumField())
		defer func() {
			for _, c := range fixed {
				c.Release()
			}
		}()
		h := hiddenUnder(a.Len(), 1, gone)
		for k := range a.NumField() {
			c, err := emptySegments(a.Field(k), h, mem)
			if err != nil {
				return nil, err
			}
			fixed = append(fixed, c)
			children[k] = c.Data()
		}
		vb := validity(a, mem)
		if vb != nil {
			defer vb.Release()
		}
		d := array.NewData(a.DataType(), a.Len(), []*memory.Buffer{vb}, children, a.NullN(), 0)
		defer d.Release()
		return array.MakeFromData(d), nil
	case *array.FixedSizeList:
		n := int64(a.DataType().(*arrow.FixedSizeListType).Len())
		off := int64(a.Data().Offset())
		child := array.NewSlice(a.ListValues(), off*n, (off+int64(a.Len()))*n)
		defer child.Release()
		c, err := emptySegments(child, hiddenUnder(a.Len(), int(n), gone), mem)
		if err != nil {
			return nil, err
		}
		defer c.Release()
		vb := validity(a, mem)
		if vb != nil {
			defer vb.Release()
		}
		d := array.NewData(a.DataType(), a.Len(), []*memory.Buffer{vb}, []arrow.ArrayData{c.Data()}, a.NullN(), 0)
		defer d.Release()
		return array.MakeFromData(d), nil
	}
	arr.Retain()
	return arr, nil
}

// validity returns a validity buffer for arr's slots starting at bit 0, or
// nil when it has no nulls.
func validity(arr arrow.Array, mem memory.Allocator) *memory.Buffer {
	if arr.NullN() == 0 {
		return nil
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(arr.Len()))))
	bits := buf.Bytes()
	clear(bits)
	for i := range arr.Len() {
		if arr.IsValid(i) {
			bitutil.SetBit(bits, i)
		}
	}
	return buf
}

// converter turns a column as pqarrow reads it into the type it was
// written as; it returns a new reference.
type converter func(arr arrow.Array, mem memory.Allocator) (arrow.Array, error)

// restoreType returns a converter from read to origin for a top-level
// column, or nil when there is none.
func restoreType(origin, read arrow.DataType) converter {
	if c := fixedBinaryToList(origin, read); c != nil {
		return c
	}
	switch o := origin.(type) {
	case *arrow.DurationType:
		if read.ID() == arrow.INT64 {
			return func(arr arrow.Array, _ memory.Allocator) (arrow.Array, error) {
				return relabel(arr, o), nil
			}
		}
	case *arrow.Date64Type:
		if read.ID() == arrow.DATE32 {
			return func(arr arrow.Array, mem memory.Allocator) (arrow.Array, error) {
				v := arr.(*array.Date32).Date32Values()
				out := make([]int64, len(v))
				for i, d := range v {
					out[i] = int64(d) * 86_400_000
				}
				return fixedArray(o, arr, arrow.Int64Traits.CastToBytes(out), mem), nil
			}
		}
	case *arrow.Time32Type:
		if r, ok := read.(*arrow.Time32Type); ok && o.Unit == arrow.Second && r.Unit == arrow.Millisecond {
			return func(arr arrow.Array, mem memory.Allocator) (arrow.Array, error) {
				v := arr.(*array.Time32).Time32Values()
				out := make([]int32, len(v))
				for i, t := range v {
					out[i] = int32(t) / 1000
				}
				return fixedArray(o, arr, arrow.Int32Traits.CastToBytes(out), mem), nil
			}
		}
	case *arrow.TimestampType:
		if r, ok := read.(*arrow.TimestampType); ok && o.Unit == arrow.Second && r.Unit == arrow.Millisecond && o.TimeZone == r.TimeZone {
			return func(arr arrow.Array, mem memory.Allocator) (arrow.Array, error) {
				v := arr.(*array.Timestamp).TimestampValues()
				out := make([]int64, len(v))
				for i, t := range v {
					out[i] = int64(t) / 1000
				}
				return fixedArray(o, arr, arrow.Int64Traits.CastToBytes(out), mem), nil
			}
		}
	case *arrow.DictionaryType:
		if arrow.TypeEqual(o.ValueType, read) {
			return func(arr arrow.Array, mem memory.Allocator) (arrow.Array, error) {
				b := array.NewDictionaryBuilder(mem, o)
				defer b.Release()
				if err := b.AppendArray(arr); err != nil {
					return nil, err
				}
				return b.NewArray(), nil
			}
		}
	}
	return nil
}

// relabel returns arr's data under type dt (same layout).
func relabel(arr arrow.Array, dt arrow.DataType) arrow.Array {
	d := arr.Data()
	nd := array.NewData(dt, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}

// fixedArray builds an array of type dt from values (one per slot of
// like, starting at like's first slot) and like's validity.
func fixedArray(dt arrow.DataType, like arrow.Array, values []byte, mem memory.Allocator) arrow.Array {
	vb := memory.NewResizableBuffer(mem)
	vb.Resize(len(values))
	copy(vb.Bytes(), values)
	defer vb.Release()
	nb := validity(like, mem)
	if nb != nil {
		defer nb.Release()
	}
	d := array.NewData(dt, like.Len(), []*memory.Buffer{nb, vb}, nil, like.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d)
}
