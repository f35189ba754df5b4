package corpus

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// metadataCase has schema-level metadata and field metadata at the top
// level, on a struct child and on a tensor column (whose IPC field metadata
// also carries the ARROW:extension:* keys).
func metadataCase(g *gen, n int) arrow.RecordBatch {
	md := arrow.NewMetadata(
		[]string{"wasinfer.corpus", "empty", "unicode"},
		[]string{"metadata", "", "ключ → 値 🦀"})
	child := arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true,
		Metadata: arrow.NewMetadata([]string{"unit"}, []string{"m"})}
	st := arrow.StructOf(child)
	cols := []column{
		{arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64,
			Metadata: arrow.NewMetadata([]string{"description", "empty"}, []string{"row id", ""})},
			g.int64s(n, nil)},
		{arrow.Field{Name: "s", Type: st, Nullable: true,
			Metadata: arrow.NewMetadata([]string{"description"}, []string{"a struct with field metadata on its child"})},
			g.structArray(st, n, g.valid(n), g.float64s(n, g.valid(n)))},
		{arrow.Field{Name: "plain", Type: arrow.BinaryTypes.String, Nullable: true}, g.strings(n, g.valid(n))},
		{arrow.Field{Name: "t", Type: float32Tensor, Nullable: true,
			Metadata: arrow.NewMetadata([]string{"origin"}, []string{"camera-3"})},
			tensorColumn(g, float32Tensor, n, g.valid(n), func() float32 { return float32(g.rng.NormFloat64()) })},
	}
	return batch(cols, n, &md)
}

// allNullCase: columns of several types in which every slot is null.
func allNullCase(g *gen, n int) arrow.RecordBatch {
	none := make([]bool, n)
	lt := arrow.ListOf(arrow.PrimitiveTypes.Int32)
	st := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	field := func(name string, t arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: t, Nullable: true}
	}
	cols := []column{
		{field("int32", arrow.PrimitiveTypes.Int32), fixed(g, arrow.PrimitiveTypes.Int32, make([]int32, n), none)},
		{field("float64", arrow.PrimitiveTypes.Float64), fixed(g, arrow.PrimitiveTypes.Float64, make([]float64, n), none)},
		{field("utf8", arrow.BinaryTypes.String), g.varBinary(arrow.BinaryTypes.String, make([]string, n), none)},
		{field("list", lt), g.list(lt, make([]int64, n+1), none, g.int32s(0, nil))},
		{field("struct", st), g.structArray(st, n, none, g.int32s(n, g.valid(n)))},
		{field("dictionary", dt), dictionary(g, dt, make([]int8, n), none, g.varBinary(arrow.BinaryTypes.String, []string{"x"}, nil))},
		{field("tensor", uint8Tensor), tensorColumn(g, uint8Tensor, n, none, func() uint8 { return 0 })},
	}
	return batch(cols, n, nil)
}

// allValidBitmapsCase: nullable columns without nulls that nevertheless
// have an all-set validity buffer (null count 0), which readers must not
// mistake for nulls or drop inconsistently.
func allValidBitmapsCase(g *gen, n int) arrow.RecordBatch {
	all := func(n int) []bool {
		v := make([]bool, n)
		for i := range v {
			v[i] = true
		}
		return v
	}
	lt := arrow.ListOf(arrow.PrimitiveTypes.Int32)
	st := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	lengths := g.lengths(n, 3)
	field := func(name string, t arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: t, Nullable: true}
	}
	cols := []column{
		{field("int64", arrow.PrimitiveTypes.Int64), g.int64s(n, all(n))},
		{field("bool", arrow.FixedWidthTypes.Boolean), g.boolArray(make([]bool, n), all(n))},
		{field("utf8", arrow.BinaryTypes.String), g.strings(n, all(n))},
		{field("list", lt), g.list(lt, offsetsOf(0, lengths), all(n), g.int32s(sum(lengths), all(sum(lengths))))},
		{field("struct", st), g.structArray(st, n, all(n), g.int32s(n, all(n)))},
	}
	return batch(cols, n, nil)
}

// emptyCase: 0 rows and columns of several types, two of which have no
// buffers at all (offsets included), as a zero-length array may.
func emptyCase(g *gen) arrow.RecordBatch {
	var cols []column
	for _, part := range []struct {
		name string
		f    func(*gen, int) []column
	}{
		{"int64", int64Case}, {"utf8", utf8Case}, {"list", listCase}, {"struct", structCase},
		{"map", mapCase}, {"dictionary", dictInt8UTF8Case}, {"tensor", tensorFloat32Case},
	} {
		for _, c := range part.f(g, 0) {
			c.field.Name = part.name + "_" + c.field.Name
			cols = append(cols, c)
		}
	}
	lt := arrow.ListOf(arrow.PrimitiveTypes.Int32)
	cols = append(cols,
		column{arrow.Field{Name: "utf8_no_buffers", Type: arrow.BinaryTypes.String, Nullable: true},
			g.makeArray(arrow.BinaryTypes.String, 0, []*memory.Buffer{nil, nil, nil}, nil, 0, 0, nil)},
		column{arrow.Field{Name: "list_no_buffers", Type: lt, Nullable: true},
			g.makeArray(lt, 0, []*memory.Buffer{nil, nil}, []arrow.Array{g.int32s(0, nil)}, 0, 0, nil)})
	return batch(cols, 0, nil)
}

// noColumnsCase: zero columns, n rows.
func noColumnsCase(n int) arrow.RecordBatch {
	return batch(nil, n, nil)
}

// wideColumns is the column count of the wide case.
const wideColumns = 1000

// wideCase: 1000 columns of 5 rows, cycling int64 (with nulls), float64,
// utf8 (with nulls) and bool.
func wideCase(g *gen) arrow.RecordBatch {
	const n = 5
	cols := make([]column, wideColumns)
	for i := range cols {
		name := fmt.Sprintf("c%04d", i)
		switch i % 4 {
		case 0:
			cols[i] = column{arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int64, Nullable: true}, g.int64s(n, g.valid(n))}
		case 1:
			cols[i] = column{arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64}, g.float64s(n, nil)}
		case 2:
			cols[i] = column{arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}, g.strings(n, g.valid(n))}
		default:
			cols[i] = column{arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean}, g.boolArray([]bool{true, false, true, true, false}, nil)}
		}
	}
	return batch(cols, n, nil)
}

// longRows is the row count of the long case.
const longRows = 100_000

// longCase: 100k rows, an int64 id without nulls and a utf8 column with
// nulls.
func longCase(g *gen) arrow.RecordBatch {
	ids := make([]int64, longRows)
	strs := make([]string, longRows)
	for i := range ids {
		ids[i] = int64(i)*7 - 3
		strs[i] = strconv.Itoa(i * 7919 % 100_003)
	}
	return batch([]column{
		{arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64}, fixed(g, arrow.PrimitiveTypes.Int64, ids, nil)},
		{arrow.Field{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}, g.varBinary(arrow.BinaryTypes.String, strs, g.valid(longRows))},
	}, longRows, nil)
}

// nestedOffsetsRows is the row count of the nested_offsets case.
const nestedOffsetsRows = 29

// nestedOffsetsCase: nested columns whose children have offsets of their
// own, different from their parent's, and list offsets that do not start
// at 0:
//
//   - struct_of_sliced: struct<a: int32, b: utf8, l: list<int32>> whose
//     three children are slices starting at 5, 11 and 3;
//   - list_sliced_child: list<int64> whose offsets start at 4 and whose
//     child is a slice starting at 3;
//   - list_of_sliced_struct: list<struct<x: int16, y: list<utf8>>> whose
//     struct child starts at 2 and whose y child is a sliced list;
//   - fsl_sliced_child: fixed_size_list<int32>[2] whose child starts at 1;
//   - map_sliced_entries: map<utf8, int64> whose entries struct starts at 5;
//   - dict_sliced_dictionary: dictionary<int8, utf8> whose dictionary array
//     is a slice starting at 2;
//   - tensor_sliced_child: a float32 [2,3] tensor whose storage child
//     starts at 6.
func nestedOffsetsCase(g *gen) arrow.RecordBatch {
	const n = nestedOffsetsRows
	var cols []column

	// struct_of_sliced
	lt := arrow.ListOf(arrow.PrimitiveTypes.Int32)
	st := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "l", Type: lt, Nullable: true})
	a := slice(g.int32s(n+9, g.valid(n+9)), 5, 5+n)
	b := slice(g.strings(n+20, g.valid(n+20)), 11, 11+n)
	l := slice(g.listOf(lt, n+7, 4, true, g.int32sOrNull), 3, 3+n)
	cols = append(cols, column{arrow.Field{Name: "struct_of_sliced", Type: st, Nullable: true}, g.structArray(st, n, g.valid(n), a, b, l)})

	// list_sliced_child
	l64 := arrow.ListOf(arrow.PrimitiveTypes.Int64)
	lengths := g.lengths(n, 4)
	valid := g.valid(n)
	m := sum(lengths)
	child := slice(g.int64s(3+4+m+2, g.valid(3+4+m+2)), 3, 3+4+m+2)
	cols = append(cols, column{arrow.Field{Name: "list_sliced_child", Type: l64, Nullable: true}, g.list(l64, offsetsOf(4, lengths), valid, child)})

	// list_of_sliced_struct
	ls := arrow.ListOf(arrow.BinaryTypes.String)
	xs := arrow.StructOf(
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		arrow.Field{Name: "y", Type: ls, Nullable: true})
	lxs := arrow.ListOf(xs)
	lengths = g.lengths(n, 3)
	m = sum(lengths)
	x := fixed(g, arrow.PrimitiveTypes.Int16, values(m+2, nil, func() int16 { return int16(g.rng.Uint32()) }), g.valid(m+2))
	y := slice(g.listOf(ls, m+2+6, 3, true, g.stringsOrNull), 6, 6+m+2)
	structs := slice(g.structArray(xs, m+2, g.valid(m+2), x, y), 2, m+2)
	cols = append(cols, column{arrow.Field{Name: "list_of_sliced_struct", Type: lxs, Nullable: true}, g.list(lxs, offsetsOf(0, lengths), g.valid(n), structs)})

	// fsl_sliced_child
	fsl := arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int32)
	cols = append(cols, column{arrow.Field{Name: "fsl_sliced_child", Type: fsl, Nullable: true},
		g.fixedSizeList(fsl, n, g.valid(n), slice(g.int32s(2*n+1, g.valid(2*n+1)), 1, 2*n+1))})

	// map_sliced_entries
	mt := arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)
	lengths = g.lengths(n, 3)
	valid = g.valid(n)
	for i := range valid {
		if !valid[i] {
			lengths[i] = 0
		}
	}
	pre := []int{5} // five entries before the first map's, sliced off below
	entries := slice(g.mapEntries(mt, append(pre, lengths...), g.int64s(5+sum(lengths), g.valid(5+sum(lengths)))), 5, 5+sum(lengths))
	cols = append(cols, column{arrow.Field{Name: "map_sliced_entries", Type: mt, Nullable: true}, g.list(mt, offsetsOf(0, lengths), valid, entries)})

	// dict_sliced_dictionary
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	dict := slice(g.varBinary(arrow.BinaryTypes.String, []string{"skipped", "also skipped", "zero", "one", "два", "三"}, nil), 2, 6)
	idx := make([]int8, n)
	for i := range idx {
		idx[i] = int8(g.rng.IntN(4))
	}
	cols = append(cols, column{arrow.Field{Name: "dict_sliced_dictionary", Type: dt, Nullable: true}, dictionary(g, dt, idx, g.valid(n), dict)})

	// tensor_sliced_child
	size := float32Tensor.Size()
	vals := fixed(g, arrow.PrimitiveTypes.Float32, values(size*(n+1), nil, func() float32 { return float32(g.rng.NormFloat64()) }), nil)
	storage := g.fixedSizeList(float32Tensor.StorageType(), n, g.valid(n), slice(vals, size, size*(n+1)))
	cols = append(cols, column{arrow.Field{Name: "tensor_sliced_child", Type: float32Tensor, Nullable: true},
		array.NewExtensionArrayWithStorage(float32Tensor, storage)})
	storage.Release()

	return batch(cols, n, nil)
}

// mixedOffsetsRows is the row count of the mixed_offsets case.
const mixedOffsetsRows = 31

// mixedOffsetsCase: top-level columns with different offsets of their own
// (3, 9, 1, 17 and 6), as a batch assembled from sliced arrays has.
func mixedOffsetsCase(g *gen) arrow.RecordBatch {
	const n = mixedOffsetsRows
	lt := arrow.ListOf(arrow.PrimitiveTypes.Int32)
	st := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true})
	bools := make([]bool, n+6)
	for i := range bools {
		bools[i] = g.rng.IntN(2) == 0
	}
	field := func(name string, t arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: t, Nullable: true}
	}
	return batch([]column{
		{field("int64", arrow.PrimitiveTypes.Int64), slice(g.int64s(n+3, g.valid(n+3)), 3, 3+n)},
		{field("utf8", arrow.BinaryTypes.String), slice(g.strings(n+9, g.valid(n+9)), 9, 9+n)},
		{field("list", lt), slice(g.listOf(lt, n+1, 4, true, g.int32sOrNull), 1, 1+n)},
		{field("struct", st), slice(g.structArray(st, n+17, g.valid(n+17), g.int32s(n+17, g.valid(n+17)), g.strings(n+17, g.valid(n+17))), 17, 17+n)},
		{field("bool", arrow.FixedWidthTypes.Boolean), slice(g.boolArray(bools, g.valid(n+6)), 6, 6+n)},
	}, n, nil)
}
