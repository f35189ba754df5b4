package tensor

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FixedShapeArray is an array of [FixedShapeType]: one tensor per row. Its
// storage is an *array.FixedSizeList whose child holds the elements of every
// row, Size() per row, in row-major order.
//
// Like every Arrow array it is reference counted: whoever creates or Retains
// it must Release it. It is safe for concurrent reads.
type FixedShapeArray struct {
	array.ExtensionArrayBase
}

// TensorType returns the array's type.
func (a *FixedShapeArray) TensorType() *FixedShapeType {
	return a.DataType().(*FixedShapeType)
}

// ListValues returns the flat child array of the storage: the elements of
// every row of the unsliced storage. Row i of a occupies the child positions
// ValueOffsets(i). The array is owned by a; Retain it to keep it longer.
func (a *FixedShapeArray) ListValues() arrow.Array {
	return a.Storage().(*array.FixedSizeList).ListValues()
}

// ValueOffsets returns the positions [start, end) of row i's elements in
// ListValues(), taking the array's offset into account.
func (a *FixedShapeArray) ValueOffsets(i int) (start, end int64) {
	return a.Storage().(*array.FixedSizeList).ValueOffsets(i)
}

// Value is the set of Go element types that [Row], [Values] and [NewArray]
// accept; each matches one Arrow value type: int8..int64, uint8..uint64,
// float16 (float16.Num), float32 and float64.
type Value interface {
	int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float16.Num | float32 | float64
}

// arrowType returns the Arrow type that holds values of T.
func arrowType[T Value]() arrow.DataType {
	var z T
	switch any(z).(type) {
	case int8:
		return arrow.PrimitiveTypes.Int8
	case int16:
		return arrow.PrimitiveTypes.Int16
	case int32:
		return arrow.PrimitiveTypes.Int32
	case int64:
		return arrow.PrimitiveTypes.Int64
	case uint8:
		return arrow.PrimitiveTypes.Uint8
	case uint16:
		return arrow.PrimitiveTypes.Uint16
	case uint32:
		return arrow.PrimitiveTypes.Uint32
	case uint64:
		return arrow.PrimitiveTypes.Uint64
	case float16.Num:
		return arrow.FixedWidthTypes.Float16
	case float32:
		return arrow.PrimitiveTypes.Float32
	default:
		return arrow.PrimitiveTypes.Float64
	}
}

// elements returns the child values of a's storage as a []T over the whole
// child buffer (from the child's own offset). It panics when T does not match
// the value type.
func elements[T Value](a *FixedShapeArray) []T {
	vt := a.TensorType().valueType
	if want := arrowType[T](); vt.ID() != want.ID() {
		panic(fmt.Sprintf("tensor: %s elements requested from a tensor of %s", want, vt))
	}
	child := a.ListValues().Data()
	buf := child.Buffers()[1]
	if buf == nil || buf.Len() == 0 {
		return nil
	}
	b := buf.Bytes()
	var z T
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(z)))
	return all[child.Offset() : child.Offset()+child.Len()]
}

// Row returns the Size() elements of row i, in row-major order of the
// physical shape. The slice aliases the array's memory: it is valid while the
// array is, and must not be modified. For a null row it holds whatever the
// storage holds there. Cost: O(1), no allocation.
//
// Row panics when i is out of range or T does not match the value type (for
// example Row[float32] on a uint8 tensor): both are programmer errors.
func Row[T Value](a *FixedShapeArray, i int) []T {
	if i < 0 || i >= a.Len() {
		panic(fmt.Sprintf("tensor: row %d out of range [0, %d)", i, a.Len()))
	}
	vals := elements[T](a)
	start, end := a.ValueOffsets(i)
	return vals[start:end:end]
}

// Values returns the elements of all rows of a, Len()*Size() of them, row
// after row, with the same aliasing and panics as [Row]. Cost: O(1), no
// allocation.
func Values[T Value](a *FixedShapeArray) []T {
	vals := elements[T](a)
	if a.Len() == 0 {
		return vals[:0:0]
	}
	start, _ := a.ValueOffsets(0)
	_, end := a.ValueOffsets(a.Len() - 1)
	return vals[start:end:end]
}

// NewArray builds an array of type typ from values, the elements of every
// row one row after another (len(values)/typ.Size() rows). valid, when not
// nil, has one entry per row and marks the null rows with false; the elements
// of a null row are stored as given. The elements are copied into memory from
// mem; the caller must Release the result.
//
// # Errors
//
// T does not match typ's value type; len(values) is not a multiple of
// typ.Size(); valid is not nil and its length is not the number of rows.
func NewArray[T Value](mem memory.Allocator, typ *FixedShapeType, values []T, valid []bool) (*FixedShapeArray, error) {
	if want := arrowType[T](); !arrow.TypeEqual(typ.valueType, want) {
		return nil, fmt.Errorf("tensor: building a %s tensor column from %s values", typ.valueType, want)
	}
	if len(values)%typ.size != 0 {
		return nil, fmt.Errorf("tensor: %d values is not a whole number of rows of %d (shape %s)", len(values), typ.size, formatInts(typ.shape))
	}
	rows := len(values) / typ.size
	if valid != nil && len(valid) != rows {
		return nil, fmt.Errorf("tensor: %d validity entries for %d rows", len(valid), rows)
	}

	var z T
	data := memory.NewResizableBuffer(mem)
	defer data.Release()
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(values))), len(values)*int(unsafe.Sizeof(z)))
	data.Resize(len(raw))
	copy(data.Bytes(), raw)
	child := array.NewData(typ.valueType, len(values), []*memory.Buffer{nil, data}, nil, 0, 0)
	defer child.Release()

	var bitmap *memory.Buffer
	nulls := 0
	for _, ok := range valid {
		if !ok {
			nulls++
		}
	}
	if nulls > 0 {
		bitmap = memory.NewResizableBuffer(mem)
		defer bitmap.Release()
		bitmap.Resize(int(bitutil.BytesForBits(int64(rows))))
		bits := bitmap.Bytes()
		clear(bits)
		for i, ok := range valid {
			if ok {
				bitutil.SetBit(bits, i)
			}
		}
	}
	ext := array.NewData(typ, rows, []*memory.Buffer{bitmap}, []arrow.ArrayData{child}, nulls, 0)
	defer ext.Release()
	return array.NewExtensionData(ext).(*FixedShapeArray), nil
}

var _ array.ExtensionArray = (*FixedShapeArray)(nil)
