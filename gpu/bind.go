//go:build cgo

package gpu

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// boundInput is one model input's data for a whole batch, ready for ONNX
// Runtime: the raw bytes of its elements in row-major order (aliasing the
// column's buffer when the layout allows, else a copy made once), or the
// strings of a string input.
type boundInput struct {
	name     string
	elem     ElementType
	rowShape []int64 // shape of one row
	rowElems int64   // elements per row
	data     []byte  // numeric inputs; len = rows × rowElems × elem size
	strs     []string
	copied   bool // data is a copy, not the column's memory (benchmarks, tests)
}

// listLike is the part of a (fixed size) list array binding needs.
type listLike interface {
	arrow.Array
	ListValues() arrow.Array
	ValueOffsets(i int) (start, end int64)
}

// bindInputs makes each model input's data from the batch's columns. syms
// receives the value of every symbolic dimension ("N", "height", ...) the
// batch fixes; two inputs that disagree on one are an error.
func (p *plan) bindInputs(rec arrow.RecordBatch, syms map[string]int64) ([]boundInput, error) {
	rows := rec.NumRows()
	out := make([]boundInput, len(p.inputs))
	for i, ip := range p.inputs {
		b, err := ip.bind(rec.Column(ip.col))
		if err != nil {
			return nil, err
		}
		out[i] = b
		if err := ip.bindSymbols(b, rows, syms); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bindSymbols records the sizes this input gives its symbolic dimensions,
// and checks them against those already recorded.
func (ip *inputPlan) bindSymbols(b boundInput, rows int64, syms map[string]int64) error {
	if ip.model.Shape == nil {
		return nil
	}
	_ = rows // the batch axis is not recorded: runs may be pieces of the batch
	for d, dim := range ip.model.Shape {
		if d == 0 || dim.Fixed() || dim.Param == "" || d-1 >= len(b.rowShape) {
			continue
		}
		size := b.rowShape[d-1]
		if prev, ok := syms[dim.Param]; ok && prev != size {
			return fmt.Errorf("%w: model input %q (%s): dimension %d (%q) is %d in column %q, but another input has %q = %d; inputs that share a dimension name must agree",
				ErrBinding, ip.model.Name, modelShape(ip.model), d, dim.Param, size, ip.colName, dim.Param, prev)
		}
		syms[dim.Param] = size
	}
	return nil
}

func (ip *inputPlan) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: model input %q (%s), column %q: %s", ErrBinding, ip.model.Name, modelShape(ip.model), ip.colName, fmt.Sprintf(format, args...))
}

func (ip *inputPlan) bind(col arrow.Array) (boundInput, error) {
	b := boundInput{name: ip.model.Name, elem: ip.model.Elem}
	if ext, ok := col.(array.ExtensionArray); ok {
		col = ext.Storage()
	}
	if n := col.NullN(); n > 0 {
		return b, ip.errorf("row %d is null; a model input cannot hold nulls: filter or fill them in a UDF stage first", firstNull(col))
	}
	rows := int64(col.Len())
	switch ip.layout {
	case layoutPrimitive:
		b.rowShape, b.rowElems = nil, 1
		if ip.model.Elem == ElemString {
			b.strs = stringValues(col, 0, col.Len())
			return b, nil
		}
		data, copied, err := ip.elements(col, 0, rows)
		b.data, b.copied = data, copied
		return b, err
	case layoutFixed, layoutStringList:
		ll := col.(listLike)
		b.rowShape = ip.rowShape
		b.rowElems = product(ip.rowShape)
		if rows == 0 {
			return b, nil
		}
		start, _ := ll.ValueOffsets(0)
		_, end := ll.ValueOffsets(int(rows - 1))
		if end-start != rows*b.rowElems {
			return b, ip.errorf("the column's rows hold %d values, want %d × %d", end-start, rows, b.rowElems)
		}
		vals := ll.ListValues()
		if err := ip.checkValueNulls(vals, ll, start, end); err != nil {
			return b, err
		}
		if ip.layout == layoutStringList {
			b.strs = stringValues(vals, int(start), int(end))
			return b, nil
		}
		data, copied, err := ip.elements(vals, start, end-start)
		b.data, b.copied = data, copied
		return b, err
	case layoutList:
		ll := col.(listLike)
		if rows == 0 {
			b.rowShape, b.rowElems = []int64{1}, 1
			return b, nil
		}
		s0, e0 := ll.ValueOffsets(0)
		n := e0 - s0
		for r := 1; r < int(rows); r++ {
			s, e := ll.ValueOffsets(r)
			if e-s != n {
				return b, ip.errorf("rows have different lengths (row 0: %d, row %d: %d); the model's dimension %s is dynamic, but one batch must agree on it: group rows of one length into a batch, or pad them in a UDF stage",
					n, r, e-s, ip.model.Shape[len(ip.model.Shape)-1])
			}
		}
		if n == 0 {
			return b, ip.errorf("rows are empty lists; ONNX Runtime cannot take a dimension of 0 here")
		}
		if len(ip.model.Shape) == 2 && ip.model.Shape[1].Fixed() && ip.model.Shape[1].Value != n {
			return b, ip.errorf("rows are %d values long, the model wants %d", n, ip.model.Shape[1].Value)
		}
		b.rowShape, b.rowElems = []int64{n}, n
		_, end := ll.ValueOffsets(int(rows - 1))
		vals := ll.ListValues()
		if err := ip.checkValueNulls(vals, ll, s0, end); err != nil {
			return b, err
		}
		// Rows are contiguous: offsets increase by n each row, since every
		// row has length n and list offsets are monotonic.
		data, copied, err := ip.elements(vals, s0, end-s0)
		b.data, b.copied = data, copied
		return b, err
	}
	return b, ip.errorf("internal error: layout %d", ip.layout)
}

func (ip *inputPlan) checkValueNulls(vals arrow.Array, ll listLike, start, end int64) error {
	if vals.NullN() == 0 {
		return nil
	}
	for i := start; i < end; i++ {
		if vals.IsNull(int(i)) {
			row := int64(0)
			for r := range ll.Len() {
				if s, e := ll.ValueOffsets(r); i >= s && i < e {
					row = int64(r)
					break
				}
			}
			rs, _ := ll.ValueOffsets(int(row))
			return ip.errorf("row %d, element %d is null; a model input cannot hold nulls", row, i-rs)
		}
	}
	return nil
}

func firstNull(a arrow.Array) int {
	for i := range a.Len() {
		if a.IsNull(i) {
			return i
		}
	}
	return -1
}

func product(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// elements returns the raw bytes of n elements of vals from element start,
// in the element type the model takes. The bytes alias vals's buffer when
// its type is the model's and the start is aligned; bool (bit-packed in
// Arrow, a byte each in ONNX) and bfloat16 (from float32) are copied once.
func (ip *inputPlan) elements(vals arrow.Array, start, n int64) ([]byte, bool, error) {
	d := vals.Data()
	off := int64(d.Offset()) + start
	switch ip.model.Elem {
	case ElemBool:
		bits := d.Buffers()[1].Bytes()
		out := make([]byte, n)
		for i := range n {
			if bitutil.BitIsSet(bits, int(off+i)) {
				out[i] = 1
			}
		}
		return out, true, nil
	case ElemBFloat16:
		src := d.Buffers()[1].Bytes()
		f := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(src))), len(src)/4)[off : off+n]
		out := make([]byte, 2*n)
		o := unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(out))), n)
		for i, v := range f {
			o[i] = float32ToBFloat16(v)
		}
		return out, true, nil
	}
	es := int64(ip.model.Elem.Size())
	if n == 0 {
		return nil, false, nil
	}
	buf := d.Buffers()[1]
	if buf == nil || int64(buf.Len()) < (off+n)*es {
		return nil, false, ip.errorf("the column's value buffer holds %d bytes, want at least %d", bufLen(buf), (off+n)*es)
	}
	raw := buf.Bytes()[off*es : (off+n)*es]
	if uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%uintptr(es) == 0 {
		return raw, false, nil
	}
	// A misaligned buffer (read from an unaligned IPC body, say): copy.
	cp := make([]byte, len(raw))
	copy(cp, raw)
	return cp, true, nil
}

func bufLen(b interface{ Len() int }) int {
	if b == nil {
		return 0
	}
	return b.Len()
}

func stringValues(a arrow.Array, start, end int) []string {
	out := make([]string, 0, end-start)
	switch s := a.(type) {
	case *array.String:
		for i := start; i < end; i++ {
			out = append(out, s.Value(i))
		}
	case *array.LargeString:
		for i := start; i < end; i++ {
			out = append(out, s.Value(i))
		}
	}
	return out
}

// float32ToBFloat16 rounds to nearest, ties to even; NaN stays NaN.
func float32ToBFloat16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40 // quiet NaN
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

func bfloat16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }
