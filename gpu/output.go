//go:build cgo

package gpu

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// resolveRow returns the per-row shape of output o when the model's shape
// and the batch's symbolic dimensions fix it, else nil.
func resolveRow(o ValueInfo, syms map[string]int64) []int64 {
	if len(o.Shape) == 0 {
		return nil
	}
	row := make([]int64, len(o.Shape)-1)
	for i, d := range o.Shape[1:] {
		switch {
		case d.Fixed():
			row[i] = d.Value
		case d.Param != "":
			v, ok := syms[d.Param]
			if !ok {
				return nil
			}
			row[i] = v
		default:
			return nil
		}
	}
	return row
}

// canPreallocate reports whether an output of element type e can be written
// by ONNX Runtime straight into an Arrow buffer: fixed-width elements (bool
// and bfloat16 too: they are converted after the run).
func canPreallocate(e ElementType) bool { return e.Size() > 0 && supportedElem(e) }

// buildColumn makes the Arrow column of an output from its raw elements
// (ONNX layout, rows × rowElems of them) in buf, which it takes over (the
// caller's reference is released), or from strs for string outputs.
func buildColumn(mem memory.Allocator, name string, e ElementType, rowShape []int64, rows int64, buf *memory.Buffer, strs []string) (arrow.Array, error) {
	typ, err := outputType(e, rowShape)
	if err != nil {
		if buf != nil {
			buf.Release()
		}
		return nil, fmt.Errorf("%w: model output %q: %w", ErrBinding, name, err)
	}
	n := rows * product(rowShape)
	if e == ElemString {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.AppendValues(strs, nil)
		vals := b.NewArray()
		defer vals.Release()
		if len(rowShape) == 0 {
			vals.Retain()
			return vals, nil
		}
		d := array.NewData(typ, int(rows), []*memory.Buffer{nil}, []arrow.ArrayData{vals.Data()}, 0, 0)
		defer d.Release()
		return array.MakeFromData(d), nil
	}
	defer buf.Release()
	vt, _ := arrowOfElem(e)
	switch e {
	case ElemBFloat16:
		f := memory.NewResizableBuffer(mem)
		defer f.Release()
		f.Resize(int(n) * 4)
		src := unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), n)
		dst := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(f.Bytes()))), n)
		for i, v := range src {
			dst[i] = bfloat16ToFloat32(v)
		}
		buf = f // the deferred Releases drop the bfloat16 buffer and this reference
	case ElemBool:
		bits := memory.NewResizableBuffer(mem)
		defer bits.Release()
		bits.Resize(int(bitutil.BytesForBits(n)))
		bb := bits.Bytes()
		clear(bb)
		for i, v := range buf.Bytes()[:n] {
			if v != 0 {
				bitutil.SetBit(bb, i)
			}
		}
		buf = bits
	}
	vals := array.NewData(vt, int(n), []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer vals.Release()
	if len(rowShape) == 0 {
		return array.MakeFromData(vals), nil
	}
	d := array.NewData(typ, int(rows), []*memory.Buffer{nil}, []arrow.ArrayData{vals}, 0, 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}
