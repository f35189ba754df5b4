package dataset

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The binary tensor layout of the Parquet sink ([TensorLayoutBinary]).
//
// Writing: a top-level column of an extension type over
// fixed_size_list<T>[n] (arrow.fixed_shape_tensor), where T is a
// fixed-width number, goes to Parquet as fixed_size_binary(n × width(T)):
// the fixed_size_binary array shares the list's value buffer (no copy
// unless the list is sliced with nulls) and the list's validity. Reading:
// restoreType sees the stored Arrow schema's type and the
// fixed_size_binary pqarrow reads, and rebuilds the list over the same
// buffer (fixedBinaryToList).

// Keys of the field metadata of a column in the binary layout, for readers
// other than wasinfer (which restores the type from the stored schema).
const (
	binaryLayoutExtName = "wasinfer:extension:name"
	binaryLayoutExtMeta = "wasinfer:extension:metadata"
	binaryLayoutStorage = "wasinfer:storage"
)

func checkTensorLayout(layout string) error {
	switch layout {
	case "", TensorLayoutList, TensorLayoutBinary:
		return nil
	}
	return fmt.Errorf("%w: parquet tensor layout %q (want %s or %s)", ErrUnsupported, layout, TensorLayoutList, TensorLayoutBinary)
}

// binaryLayout returns the byte width of a row of dt in the binary
// layout, or 0 when dt is not written so. Plain fixed_size_list columns
// keep the list layout: their elements may be null, where a tensor's
// (ONNX Runtime's, an image's) are not.
func binaryLayout(dt arrow.DataType) int {
	et, ok := dt.(arrow.ExtensionType)
	if !ok {
		return 0
	}
	fsl, ok := et.StorageType().(*arrow.FixedSizeListType)
	if !ok {
		return 0
	}
	w := numberWidth(fsl.Elem())
	if w == 0 || fsl.Len() < 1 || int64(fsl.Len())*int64(w) > 1<<31-1 {
		return 0
	}
	return int(fsl.Len()) * w
}

// numberWidth returns the byte width of a fixed-width number type, 0 for
// any other type.
func numberWidth(dt arrow.DataType) int {
	switch dt.ID() {
	case arrow.INT8, arrow.UINT8, arrow.INT16, arrow.UINT16, arrow.INT32, arrow.UINT32,
		arrow.INT64, arrow.UINT64, arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return dt.(arrow.FixedWidthDataType).BitWidth() / 8
	}
	return 0
}

// binaryLayoutMetadata returns f's metadata with the keys that tell other
// readers what the bytes are.
func binaryLayoutMetadata(f arrow.Field) arrow.Metadata {
	et := f.Type.(arrow.ExtensionType)
	keys := append(f.Metadata.Keys(), binaryLayoutExtName, binaryLayoutExtMeta, binaryLayoutStorage)
	vals := append(f.Metadata.Values(), et.ExtensionName(), et.Serialize(), et.StorageType().String())
	return arrow.NewMetadata(keys, vals)
}

// toFixedBinary returns col (an extension array, binaryLayout(col's type)
// > 0) as a fixed_size_binary array of type
// dt over the same bytes; a new reference. A null element inside a row is
// refused, with its row.
func toFixedBinary(col arrow.Array, dt arrow.DataType, mem memory.Allocator) (arrow.Array, error) {
	fsl := col.(array.ExtensionArray).Storage().(*array.FixedSizeList)
	n := int(fsl.DataType().(*arrow.FixedSizeListType).Len())
	values := fsl.ListValues()
	width := numberWidth(values.DataType())
	off, rows := fsl.Data().Offset(), fsl.Len()
	first := values.Data().Offset() + off*n // the first element of the first row
	if values.NullN() > 0 {
		for i := range rows * n {
			if values.IsNull(first + i) {
				return nil, fmt.Errorf("row %d, element %d is null: the binary tensor layout cannot hold null elements (write tensor_layout: list, or fill them)", i/n, i%n)
			}
		}
	}
	var raw []byte
	if b := values.Data().Buffers()[1]; b != nil {
		raw = b.Bytes()
	}
	if len(raw) < (first+rows*n)*width {
		return nil, fmt.Errorf("the value buffer holds %d bytes, want %d", len(raw), (first+rows*n)*width)
	}
	vb := memory.NewBufferBytes(raw[first*width : (first+rows*n)*width])
	var nb *memory.Buffer
	if fsl.NullN() > 0 {
		if off == 0 {
			nb = fsl.Data().Buffers()[0]
			nb.Retain()
		} else {
			nb = validity(fsl, mem)
		}
		defer nb.Release()
	}
	d := array.NewData(dt, rows, []*memory.Buffer{nb, vb}, nil, fsl.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}

// fixedBinaryToList returns a converter from a fixed_size_binary column as
// pqarrow reads it to origin (an extension type binaryLayout accepts, of
// the same width), or nil when read is not that.
func fixedBinaryToList(origin, read arrow.DataType) converter {
	fb, ok := read.(*arrow.FixedSizeBinaryType)
	if !ok || binaryLayout(origin) != fb.ByteWidth {
		return nil
	}
	fsl := origin.(arrow.ExtensionType).StorageType().(*arrow.FixedSizeListType)
	n, width := int(fsl.Len()), numberWidth(fsl.Elem())
	return func(arr arrow.Array, _ memory.Allocator) (arrow.Array, error) {
		d := arr.Data()
		rows, off := d.Len(), d.Offset()
		vb := d.Buffers()[1]
		if vb == nil || vb.Len() < (off+rows)*n*width {
			return nil, fmt.Errorf("fixed_size_binary(%d) column of %d rows with a value buffer of %d bytes", fb.ByteWidth, rows, bufLen(vb))
		}
		child := array.NewData(fsl.Elem(), (off+rows)*n, []*memory.Buffer{nil, vb}, nil, 0, 0)
		defer child.Release()
		out := array.NewData(origin, rows, []*memory.Buffer{d.Buffers()[0]}, []arrow.ArrayData{child}, d.NullN(), off)
		defer out.Release()
		return array.MakeFromData(out), nil
	}
}

func bufLen(b *memory.Buffer) int {
	if b == nil {
		return 0
	}
	return b.Len()
}
