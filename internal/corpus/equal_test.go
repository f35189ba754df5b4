package corpus

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/tensor"
)

// pairCase builds two batches to compare.
type pairCase struct {
	name string
	a, b func(g *gen) arrow.RecordBatch
	want string // "" when Equal must succeed
}

func one(name string, dt arrow.DataType, nullable bool, arr arrow.Array) []column {
	return []column{{arrow.Field{Name: name, Type: dt, Nullable: nullable}, arr}}
}

func int32Batch(vals []int32, valid []bool) func(g *gen) arrow.RecordBatch {
	return func(g *gen) arrow.RecordBatch {
		return batch(one("x", arrow.PrimitiveTypes.Int32, valid != nil, fixed(g, arrow.PrimitiveTypes.Int32, vals, valid)), len(vals), nil)
	}
}

func float64Batch(bits ...uint64) func(g *gen) arrow.RecordBatch {
	return func(g *gen) arrow.RecordBatch {
		return batch(one("f", arrow.PrimitiveTypes.Float64, false, fixed(g, arrow.PrimitiveTypes.Float64, bits, nil)), len(bits), nil)
	}
}

func float32Batch(bits ...uint32) func(g *gen) arrow.RecordBatch {
	return func(g *gen) arrow.RecordBatch {
		return batch(one("f", arrow.PrimitiveTypes.Float32, false, fixed(g, arrow.PrimitiveTypes.Float32, bits, nil)), len(bits), nil)
	}
}

func stringBatch(vals ...string) func(g *gen) arrow.RecordBatch {
	return func(g *gen) arrow.RecordBatch {
		return batch(one("s", arrow.BinaryTypes.String, false, g.varBinary(arrow.BinaryTypes.String, vals, nil)), len(vals), nil)
	}
}

// nestedBatch is one row of list<struct<a: list<int32>, b: utf8>>:
// [{a: inner[0], b: bs[0]}, {a: inner[1], b: bs[1]}, ...].
func nestedBatch(inner [][]int32, bs []string) func(g *gen) arrow.RecordBatch {
	return func(g *gen) arrow.RecordBatch {
		lt, st := listStructListType(true)
		var flat []int32
		lengths := make([]int, len(inner))
		for i, v := range inner {
			flat = append(flat, v...)
			lengths[i] = len(v)
		}
		a := g.list(st.Field(0).Type, offsetsOf(0, lengths), nil, fixed(g, arrow.PrimitiveTypes.Int32, flat, nil))
		s := g.structArray(st, len(bs), nil, a, g.varBinary(arrow.BinaryTypes.String, bs, nil))
		return batch(one("l", lt, true, g.list(lt, []int64{0, int64(len(bs))}, nil, s)), 1, nil)
	}
}

// metaBatch has schema metadata k=v, and columns x (int32, field metadata
// unit=unit) and s (struct<y: int32> with child metadata unit=child).
func metaBatch(k, v, unit, child string) func(g *gen) arrow.RecordBatch {
	return func(g *gen) arrow.RecordBatch {
		var md *arrow.Metadata
		if k != "" {
			m := arrow.NewMetadata([]string{k}, []string{v})
			md = &m
		}
		st := arrow.StructOf(arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Int32,
			Metadata: arrow.NewMetadata([]string{"unit"}, []string{child})})
		return batch([]column{
			{arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Metadata: arrow.NewMetadata([]string{"unit"}, []string{unit})},
				fixed(g, arrow.PrimitiveTypes.Int32, []int32{1}, nil)},
			{arrow.Field{Name: "s", Type: st}, g.structArray(st, 1, nil, fixed(g, arrow.PrimitiveTypes.Int32, []int32{2}, nil))},
		}, 1, md)
	}
}

func typedBatch(dt arrow.DataType, vals []int64) func(g *gen) arrow.RecordBatch {
	return func(g *gen) arrow.RecordBatch {
		return batch(one("t", dt, false, fixed(g, dt, vals, nil)), len(vals), nil)
	}
}

func tensorBatch(typ *tensor.FixedShapeType, vals []float32) func(g *gen) arrow.RecordBatch {
	return func(g *gen) arrow.RecordBatch {
		n, i := len(vals)/typ.Size(), 0
		next := func() float32 { i++; return vals[i-1] }
		return batch(one("t", typ, false, tensorColumn(g, typ, n, nil, next)), n, nil)
	}
}

// dictBatch is a dictionary<int8, utf8> column with the given dictionary
// and indices.
func dictBatch(ordered bool, dict []string, idx []int8) func(g *gen) arrow.RecordBatch {
	return func(g *gen) arrow.RecordBatch {
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String, Ordered: ordered}
		return batch(one("d", dt, false, dictionary(g, dt, idx, nil, g.varBinary(arrow.BinaryTypes.String, dict, nil))), len(idx), nil)
	}
}

func runPairCases(t *testing.T, cases []pairCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			g := newGen(mem, tc.name)
			a, b := tc.a(g), tc.b(g)
			defer a.Release()
			defer b.Release()
			err := Equal(a, b)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Equal: %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Errorf("Equal: nil, want %q", tc.want)
			case tc.want != "" && err.Error() != tc.want:
				t.Errorf("Equal:\n got %q\nwant %q", err, tc.want)
			}
		})
	}
}

func TestEqualDetects(t *testing.T) {
	nanA, nanB := uint64(0x7ff8000000000000), uint64(0x7ff8000000000001)
	long := strings.Repeat("x", 100)
	plain, _ := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Float32, []int{2})
	named, _ := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Float32, []int{2}, tensor.WithDimNames("i"))
	runPairCases(t, []pairCase{
		{"value", int32Batch([]int32{1, 2, 3}, nil), int32Batch([]int32{1, 2, 4}, nil),
			`corpus: column "x", row 2: a is 3, b is 4`},
		{"null", int32Batch([]int32{1, 2, 3}, []bool{true, false, true}), int32Batch([]int32{1, 2, 3}, []bool{true, true, true}),
			`corpus: column "x", row 1: a is null, b is 2`},
		{"NaN payload", float64Batch(1, nanA), float64Batch(1, nanB),
			`corpus: column "f", row 1: a is NaN (0x7ff8000000000000), b is NaN (0x7ff8000000000001)`},
		{"negative zero", float32Batch(0x80000000), float32Batch(0),
			`corpus: column "f", row 0: a is -0 (0x80000000), b is 0 (0x00000000)`},
		{"string", stringBatch("a", "héllo"), stringBatch("a", "hello"),
			`corpus: column "s", row 1: a is "héllo", b is "hello"`},
		{"long string", stringBatch(long + "a"), stringBatch(long + "b"),
			`corpus: column "s", row 0: a is "` + long[:48] + `"... (101 bytes), b is "` + long[:48] + `"... (101 bytes)`},
		{"nested string", nestedBatch([][]int32{{1, 2}, {3}}, []string{"x", "y"}), nestedBatch([][]int32{{1, 2}, {3}}, []string{"x", "z"}),
			`corpus: column "l", row 0, at [1].b: a is "y", b is "z"`},
		{"nested int", nestedBatch([][]int32{{1, 2}, {3}}, []string{"x", "y"}), nestedBatch([][]int32{{1, 2}, {5}}, []string{"x", "y"}),
			`corpus: column "l", row 0, at [1].a[0]: a is 3, b is 5`},
		{"nested length", nestedBatch([][]int32{{1, 2}, {3}}, []string{"x", "y"}), nestedBatch([][]int32{{1}, {2, 3}}, []string{"x", "y"}),
			`corpus: column "l", row 0, at [0].a: a has 2 elements, b has 1`},
		{"schema metadata value", metaBatch("k", "v", "m", "s"), metaBatch("k", "w", "m", "s"),
			`corpus: schema metadata key "k": a has "v", b has "w"`},
		{"schema metadata missing", metaBatch("k", "v", "m", "s"), metaBatch("", "", "m", "s"),
			`corpus: schema metadata key "k": a has "v", b has none`},
		{"field metadata", metaBatch("k", "v", "m", "s"), metaBatch("k", "v", "km", "s"),
			`corpus: column "x": metadata key "unit": a has "m", b has "km"`},
		{"child metadata", metaBatch("k", "v", "m", "s"), metaBatch("k", "v", "m", "ms"),
			`corpus: column "s.y": metadata key "unit": a has "s", b has "ms"`},
		{"column name", int32Batch([]int32{1}, nil), typedBatch(arrow.PrimitiveTypes.Int64, []int64{1}),
			`corpus: column 0: a is named "x", b "t"`},
		{"type", typedBatch(arrow.PrimitiveTypes.Int64, []int64{1}), typedBatch(arrow.PrimitiveTypes.Uint64, []int64{1}),
			`corpus: column "t": type a is int64, b is uint64`},
		{"temporal type", typedBatch(arrow.PrimitiveTypes.Int64, []int64{1}), typedBatch(&arrow.TimestampType{Unit: arrow.Second}, []int64{1}),
			`corpus: column "t": type a is int64, b is timestamp[s]`},
		{"time zone", typedBatch(&arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, []int64{1}), typedBatch(&arrow.TimestampType{Unit: arrow.Second}, []int64{1}),
			`corpus: column "t": type a is timestamp[s, tz=UTC], b is timestamp[s]`},
		{"nullability", int32Batch([]int32{1}, []bool{true}), int32Batch([]int32{1}, nil),
			`corpus: column "x": a is nullable, b is not nullable`},
		{"tensor dim names", tensorBatch(plain, []float32{1, 2}), tensorBatch(named, []float32{1, 2}),
			`corpus: column "t": type a is extension<arrow.fixed_shape_tensor[value_type=float32, shape=[2]]>, b is extension<arrow.fixed_shape_tensor[value_type=float32, shape=[2], dim_names=[i]]>`},
		{"tensor value", tensorBatch(plain, []float32{1, 2, 3, 4}), tensorBatch(plain, []float32{1, 2, 3, float32(math.NaN())}),
			`corpus: column "t", row 1, at [1]: a is 4 (0x40800000), b is NaN (0x7fc00000)`},
		{"dictionary ordered", dictBatch(false, []string{"a"}, []int8{0}), dictBatch(true, []string{"a"}, []int8{0}),
			`corpus: column "d": type a is dictionary<values=utf8, indices=int8, ordered=false>, b is dictionary<values=utf8, indices=int8, ordered=true>`},
		{"dictionary value", dictBatch(false, []string{"a", "b"}, []int8{0, 1}), dictBatch(false, []string{"a", "b"}, []int8{0, 0}),
			`corpus: column "d", row 1: a is "b", b is "a"`},
		{"rows", int32Batch([]int32{1, 2, 3}, nil), int32Batch([]int32{1, 2}, nil),
			`corpus: a has 3 rows, b has 2`},
		{"columns", metaBatch("k", "v", "m", "s"), func(g *gen) arrow.RecordBatch {
			md := arrow.NewMetadata([]string{"k"}, []string{"v"})
			r := int32Batch([]int32{1}, nil)(g)
			defer r.Release()
			return array.NewRecordBatch(arrow.NewSchema(r.Schema().Fields(), &md), r.Columns(), 1)
		}, `corpus: a has 2 columns, b has 1`},
	})
}

func TestEqualIgnoresLayout(t *testing.T) {
	runPairCases(t, []pairCase{
		{"same NaN", float64Batch(0x7ff8000000000001), float64Batch(0x7ff8000000000001), ""},
		{"hidden null values", int32Batch([]int32{1, 2, 3}, []bool{true, false, true}), int32Batch([]int32{1, 9, 3}, []bool{true, false, true}), ""},
		{"rebuilt dictionary", dictBatch(false, []string{"a", "b"}, []int8{0, 1, 1}), dictBatch(false, []string{"b", "x", "a"}, []int8{2, 0, 0}), ""},
	})
}

// TestEqualSlicedAndCopied compares every case with a copy whose columns
// start at offset 0 (array.Concatenate of each column).
func TestEqualSlicedAndCopied(t *testing.T) {
	withCorpus(t, func(t *testing.T, mem memory.Allocator, cases []Case) {
		for _, c := range cases {
			if !strings.HasPrefix(c.Name, "sliced/") && c.Name != "nested_offsets" && c.Name != "mixed_offsets" {
				continue
			}
			cols := make([]arrow.Array, c.Batch.NumCols())
			for i, col := range c.Batch.Columns() {
				var err error
				if cols[i], err = array.Concatenate([]arrow.Array{col}, mem); err != nil {
					t.Fatalf("%s: copying column %d: %v", c.Name, i, err)
				}
			}
			cp := array.NewRecordBatch(c.Batch.Schema(), cols, c.Batch.NumRows())
			for _, col := range cols {
				col.Release()
			}
			if err := Equal(c.Batch, cp); err != nil {
				t.Errorf("%s: %v", c.Name, err)
			}
			if err := Equal(cp, c.Batch); err != nil {
				t.Errorf("%s (swapped): %v", c.Name, err)
			}
			cp.Release()
		}
	})
}
