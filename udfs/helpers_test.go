package udfs

import (
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/tensor"
)

// Helpers that build the vectors' batches.

// col is a column of a batch under construction; arr is owned by it.
type col struct {
	name     string
	arr      arrow.Array
	nullable bool
	meta     map[string]string
}

// batch assembles cols into a batch and releases them.
func batch(cols ...col) arrow.RecordBatch {
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	rows := 0
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.arr.DataType(), Nullable: c.nullable}
		if c.meta != nil {
			fields[i].Metadata = arrow.MetadataFrom(c.meta)
		}
		arrs[i] = c.arr
		rows = c.arr.Len()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// tensorCol makes a tensor column of rows of shape; values holds every row's
// elements (null rows included), valid nil means no nulls.
func tensorCol[T tensor.Value](mem memory.Allocator, vt arrow.DataType, shape []int, values []T, valid []bool) arrow.Array {
	typ, err := tensor.NewFixedShapeType(vt, shape)
	mustf(err, "tensor type")
	a, err := tensor.NewArray(mem, typ, values, valid)
	mustf(err, "tensor array")
	return a
}

func int64Col(mem memory.Allocator, vals ...int64) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, nil)
	return b.NewArray()
}

func int32Col(mem memory.Allocator, vals []int32, valid []bool) arrow.Array {
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func float32Col(mem memory.Allocator, vals []float32, valid []bool) arrow.Array {
	b := array.NewFloat32Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func float64Col(mem memory.Allocator, vals []float64, valid []bool) arrow.Array {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func utf8Col(mem memory.Allocator, vals []string, valid []bool) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// listCol makes a list<T> column (nil row = null).
func listCol[T any](mem memory.Allocator, dt arrow.DataType, rows [][]T, appendv func(array.Builder, T)) arrow.Array {
	b := array.NewListBuilder(mem, dt)
	defer b.Release()
	vb := b.ValueBuilder()
	for _, r := range rows {
		if r == nil {
			b.AppendNull()
			continue
		}
		b.Append(true)
		for _, v := range r {
			appendv(vb, v)
		}
	}
	return b.NewArray()
}

func listF32(mem memory.Allocator, rows [][]float32) arrow.Array {
	return listCol(mem, arrow.PrimitiveTypes.Float32, rows, func(b array.Builder, v float32) { b.(*array.Float32Builder).Append(v) })
}

func listI32(mem memory.Allocator, rows [][]int32) arrow.Array {
	return listCol(mem, arrow.PrimitiveTypes.Int32, rows, func(b array.Builder, v int32) { b.(*array.Int32Builder).Append(v) })
}

func listStr(mem memory.Allocator, rows [][]string) arrow.Array {
	return listCol(mem, arrow.BinaryTypes.String, rows, func(b array.Builder, v string) { b.(*array.StringBuilder).Append(v) })
}

// randomImage returns h*w*c random bytes.
func randomImage(rng *rand.Rand, h, w, c int) []uint8 {
	v := make([]uint8, h*w*c)
	for i := range v {
		v[i] = uint8(rng.Uint32())
	}
	return v
}
