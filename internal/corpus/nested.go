package corpus

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/tensor"
)

// Child arrays of nested columns. Each returns an array of exactly n values.

func (g *gen) int32s(n int, valid []bool) arrow.Array {
	return fixed(g, arrow.PrimitiveTypes.Int32, values(n, nil, func() int32 { return int32(g.rng.IntN(2001) - 1000) }), valid)
}

func (g *gen) int64s(n int, valid []bool) arrow.Array {
	return fixed(g, arrow.PrimitiveTypes.Int64, values(n, []int64{math.MinInt64, math.MaxInt64}, func() int64 { return int64(g.rng.Uint64()) }), valid)
}

func (g *gen) strings(n int, valid []bool) arrow.Array {
	return g.varBinary(arrow.BinaryTypes.String, values(n, stringSpecials, func() string { return g.randomString(12) }), valid)
}

func (g *gen) float64s(n int, valid []bool) arrow.Array {
	return fixed(g, arrow.PrimitiveTypes.Float64, values(n, float64Specials, func() uint64 { return math.Float64bits(g.rng.NormFloat64()) }), valid)
}

// validOrNil returns g.valid(n) when nulls is set, else nil.
func (g *gen) validOrNil(n int, nulls bool) []bool {
	if nulls {
		return g.valid(n)
	}
	return nil
}

// listOf builds a list-like column of n rows (list, large_list or map type
// dt) whose values come from child(m, nulls) for the m values its lengths
// need. With nulls, row 1 is a null slot that owns a non-empty segment of
// child values, which Arrow allows and some writers stumble on.
func (g *gen) listOf(dt arrow.DataType, n, maxLen int, nulls bool, child func(m int, nulls bool) arrow.Array) arrow.Array {
	lengths := g.lengths(n, maxLen)
	valid := g.validOrNil(n, nulls)
	for i := range valid {
		if !valid[i] {
			lengths[i] = 0
		}
	}
	if nulls && n > 1 {
		lengths[1] = 3
	}
	return g.list(dt, offsetsOf(0, lengths), valid, child(sum(lengths), nulls))
}

func listCase(g *gen, n int) []column {
	return []column{
		{arrow.Field{Name: "v", Type: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int32)},
			g.listOf(arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int32), n, 5, false, g.int32sOrNull)},
		{arrow.Field{Name: "v_nulls", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
			g.listOf(arrow.ListOf(arrow.PrimitiveTypes.Int32), n, 5, true, g.int32sOrNull)},
	}
}

func (g *gen) int32sOrNull(m int, nulls bool) arrow.Array { return g.int32s(m, g.validOrNil(m, nulls)) }
func (g *gen) int64sOrNull(m int, nulls bool) arrow.Array { return g.int64s(m, g.validOrNil(m, nulls)) }
func (g *gen) stringsOrNull(m int, nulls bool) arrow.Array {
	return g.strings(m, g.validOrNil(m, nulls))
}

func largeListCase(g *gen, n int) []column {
	return []column{
		{arrow.Field{Name: "v", Type: arrow.LargeListOfNonNullable(arrow.BinaryTypes.String)},
			g.listOf(arrow.LargeListOfNonNullable(arrow.BinaryTypes.String), n, 4, false, g.stringsOrNull)},
		{arrow.Field{Name: "v_nulls", Type: arrow.LargeListOf(arrow.BinaryTypes.String), Nullable: true},
			g.listOf(arrow.LargeListOf(arrow.BinaryTypes.String), n, 4, true, g.stringsOrNull)},
	}
}

func fixedSizeListCase(g *gen, n int) []column {
	v := arrow.FixedSizeListOfNonNullable(3, arrow.PrimitiveTypes.Float64)
	vNulls := arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Float64)
	return []column{
		{arrow.Field{Name: "v", Type: v}, g.fixedSizeList(v, n, nil, g.float64s(3*n, nil))},
		{arrow.Field{Name: "v_nulls", Type: vNulls, Nullable: true}, g.fixedSizeList(vNulls, n, g.valid(n), g.float64s(3*n, g.valid(3*n)))},
	}
}

// structCase: v is struct<a: int32, b: utf8> without nulls anywhere;
// v_nulls is struct<a: int32, b: utf8, c: struct<d: bool>> with null slots
// (row 1 is null while its children are valid), null children and a null
// nested struct.
func structCase(g *gen, n int) []column {
	v := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String})
	inner := arrow.StructOf(arrow.Field{Name: "d", Type: arrow.FixedWidthTypes.Boolean, Nullable: true})
	vNulls := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "c", Type: inner, Nullable: true})

	validChild := func() []bool {
		vv := g.valid(n)
		if n > 1 {
			vv[1] = true // the null struct slot has valid children
		}
		return vv
	}
	bools := make([]bool, n)
	for i := range bools {
		bools[i] = g.rng.IntN(2) == 0
	}
	c := g.structArray(inner, n, g.valid(n), g.boolArray(bools, g.valid(n)))
	return []column{
		{arrow.Field{Name: "v", Type: v}, g.structArray(v, n, nil, g.int32s(n, nil), g.strings(n, nil))},
		{arrow.Field{Name: "v_nulls", Type: vNulls, Nullable: true},
			g.structArray(vNulls, n, g.valid(n), g.int32s(n, validChild()), g.strings(n, validChild()), c)},
	}
}

// mapEntries builds the entries struct of a map of m entries whose keys
// are unique within each map (the key of entry k of a map is "k<k>" or one
// of a few multi-byte keys).
func (g *gen) mapEntries(dt *arrow.MapType, lengths []int, value arrow.Array) arrow.Array {
	keys := make([]string, 0, sum(lengths))
	special := []string{"ключ", "鍵", ""}
	for _, l := range lengths {
		for k := range l {
			if k < len(special) && g.rng.IntN(3) == 0 {
				keys = append(keys, special[k])
			} else {
				keys = append(keys, fmt.Sprintf("k%d", k))
			}
		}
	}
	// Within one map a special key at position k cannot collide with
	// "k<j>", and specials are only used at their own position.
	return g.structArray(dt.Elem(), len(keys), nil, g.varBinary(arrow.BinaryTypes.String, keys, nil), value)
}

func (g *gen) mapOf(dt *arrow.MapType, n, maxLen int, nulls bool, value func(m int, nulls bool) arrow.Array) arrow.Array {
	lengths := g.lengths(n, maxLen)
	valid := g.validOrNil(n, nulls)
	for i := range valid {
		if !valid[i] {
			lengths[i] = 0
		}
	}
	m := sum(lengths)
	return g.list(dt, offsetsOf(0, lengths), valid, g.mapEntries(dt, lengths, value(m, nulls)))
}

func mapCase(g *gen, n int) []column {
	v := arrow.MapOfFields(arrow.Field{Name: "key", Type: arrow.BinaryTypes.String}, arrow.Field{Name: "value", Type: arrow.PrimitiveTypes.Int64})
	vNulls := arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)
	return []column{
		{arrow.Field{Name: "v", Type: v}, g.mapOf(v, n, 4, false, g.int64sOrNull)},
		{arrow.Field{Name: "v_nulls", Type: vNulls, Nullable: true}, g.mapOf(vNulls, n, 4, true, g.int64sOrNull)},
	}
}

// listStructListType is list<struct<a: list<int32>, b: utf8>>, every level
// nullable when nullable is set.
func listStructListType(nullable bool) (*arrow.ListType, *arrow.StructType) {
	inner := arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int32)
	if nullable {
		inner = arrow.ListOf(arrow.PrimitiveTypes.Int32)
	}
	st := arrow.StructOf(
		arrow.Field{Name: "a", Type: inner, Nullable: nullable},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: nullable})
	if nullable {
		return arrow.ListOf(st), st
	}
	return arrow.ListOfNonNullable(st), st
}

func (g *gen) listStructList(n int, nulls bool) (arrow.DataType, arrow.Array) {
	lt, st := listStructListType(nulls)
	a := g.listOf(lt, n, 3, nulls, func(m int, nulls bool) arrow.Array {
		inner := st.Field(0).Type
		return g.structArray(st, m, g.validOrNil(m, nulls),
			g.listOf(inner, m, 3, nulls, g.int32sOrNull),
			g.stringsOrNull(m, nulls))
	})
	return lt, a
}

func listStructListCase(g *gen, n int) []column {
	vt, v := g.listStructList(n, false)
	nt, vNulls := g.listStructList(n, true)
	return []column{
		{arrow.Field{Name: "v", Type: vt}, v},
		{arrow.Field{Name: "v_nulls", Type: nt, Nullable: true}, vNulls},
	}
}

func mapUTF8ListCase(g *gen, n int) []column {
	v := arrow.MapOfFields(arrow.Field{Name: "key", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "value", Type: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64)})
	vNulls := arrow.MapOf(arrow.BinaryTypes.String, arrow.ListOf(arrow.PrimitiveTypes.Int64))
	return []column{
		{arrow.Field{Name: "v", Type: v}, g.mapOf(v, n, 3, false, func(m int, nulls bool) arrow.Array {
			return g.listOf(v.ItemType(), m, 3, false, g.int64sOrNull)
		})},
		{arrow.Field{Name: "v_nulls", Type: vNulls, Nullable: true}, g.mapOf(vNulls, n, 3, true, func(m int, nulls bool) arrow.Array {
			return g.listOf(vNulls.ItemType(), m, 3, true, g.int64sOrNull)
		})},
	}
}

// dictPair builds the two columns of a dictionary case, indices converted
// to the index type by conv; each column has its own dictionary array.
func dictPair[T any](g *gen, dt *arrow.DictionaryType, n int, conv func(int) T, dict func() arrow.Array) []column {
	col := func(valid []bool) arrow.Array {
		d := dict()
		idx := make([]T, n)
		for i := range idx {
			idx[i] = conv(g.rng.IntN(d.Len()))
		}
		return dictionary(g, dt, idx, valid, d)
	}
	return pair(dt, col(nil), col(g.valid(n)))
}

func dictInt8UTF8Case(g *gen, n int) []column {
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	words := []string{"", "alpha", "βeta", "γάμμα", "日本", "🦀", "a somewhat longer dictionary value"}
	return dictPair(g, dt, n, func(i int) int8 { return int8(i) }, func() arrow.Array { return g.varBinary(arrow.BinaryTypes.String, words, nil) })
}

func dictInt32UTF8Case(g *gen, n int) []column {
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	words := make([]string, 300)
	for i := range words {
		words[i] = fmt.Sprintf("word-%03d", i)
	}
	return dictPair(g, dt, n, func(i int) int32 { return int32(i) }, func() arrow.Array { return g.varBinary(arrow.BinaryTypes.String, words, nil) })
}

// dictInt16Int64Case is an ordered dictionary of int64 values.
func dictInt16Int64Case(g *gen, n int) []column {
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.PrimitiveTypes.Int64, Ordered: true}
	vals := []int64{math.MinInt64, -1, 0, 1, 42, math.MaxInt64}
	return dictPair(g, dt, n, func(i int) int16 { return int16(i) }, func() arrow.Array { return fixed(g, arrow.PrimitiveTypes.Int64, vals, nil) })
}

// tensorColumn builds a tensor column of n rows; valid may be nil.
func tensorColumn[T tensor.Value](g *gen, typ *tensor.FixedShapeType, n int, valid []bool, rnd func() T) arrow.Array {
	arr, err := tensor.NewArray(g.mem, typ, values(n*typ.Size(), nil, rnd), valid)
	if err != nil {
		panic(err) // the corpus's own types and sizes
	}
	return arr
}

func mustTensorType(vt arrow.DataType, shape []int, opts ...tensor.Option) *tensor.FixedShapeType {
	typ, err := tensor.NewFixedShapeType(vt, shape, opts...)
	if err != nil {
		panic(err)
	}
	return typ
}

// uint8Tensor is a 4×4×3 image-like tensor without dim names.
var uint8Tensor = mustTensorType(arrow.PrimitiveTypes.Uint8, []int{4, 4, 3})

// float32Tensor is a 2×3 matrix with dim names.
var float32Tensor = mustTensorType(arrow.PrimitiveTypes.Float32, []int{2, 3}, tensor.WithDimNames("rows", "cols"))

func tensorUint8Case(g *gen, n int) []column {
	rnd := func() uint8 { return uint8(g.rng.Uint32()) }
	return pair(uint8Tensor,
		tensorColumn(g, uint8Tensor, n, nil, rnd),
		tensorColumn(g, uint8Tensor, n, g.valid(n), rnd))
}

func tensorFloat32Case(g *gen, n int) []column {
	i := 0
	rnd := func() float32 {
		// Every row starts with a special value.
		i++
		if i%6 == 1 {
			return math.Float32frombits(float32Specials[(i/6)%len(float32Specials)])
		}
		return float32(g.rng.NormFloat64())
	}
	return pair(float32Tensor,
		tensorColumn(g, float32Tensor, n, nil, rnd),
		tensorColumn(g, float32Tensor, n, g.valid(n), rnd))
}
