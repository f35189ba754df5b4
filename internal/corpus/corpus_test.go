package corpus

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/tensor"
)

// withCorpus builds the corpus from a checked allocator, runs f, releases
// the corpus and checks that nothing leaked.
func withCorpus(t *testing.T, f func(t *testing.T, mem memory.Allocator, cases []Case)) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cases := Batches(mem)
	defer func() {
		for _, c := range cases {
			c.Batch.Release()
		}
	}()
	f(t, mem, cases)
}

func TestBatchesValid(t *testing.T) {
	withCorpus(t, func(t *testing.T, _ memory.Allocator, cases []Case) {
		seen := map[string]bool{}
		for _, c := range cases {
			if seen[c.Name] {
				t.Errorf("duplicate case name %q", c.Name)
			}
			seen[c.Name] = true
			rec := c.Batch
			if int(rec.NumCols()) != rec.Schema().NumFields() {
				t.Errorf("%s: %d columns, %d fields", c.Name, rec.NumCols(), rec.Schema().NumFields())
			}
			for i, col := range rec.Columns() {
				if int64(col.Len()) != rec.NumRows() {
					t.Errorf("%s: column %d has %d values for %d rows", c.Name, i, col.Len(), rec.NumRows())
				}
				if !arrow.TypeEqual(col.DataType(), rec.Schema().Field(i).Type) {
					t.Errorf("%s: column %d is %s, field says %s", c.Name, i, col.DataType(), rec.Schema().Field(i).Type)
				}
				if !rec.Schema().Field(i).Nullable && col.NullN() > 0 {
					t.Errorf("%s: column %d is not nullable but has %d nulls", c.Name, i, col.NullN())
				}
			}
			if err := array.ValidateRecordFull(rec); err != nil {
				t.Errorf("%s: %v", c.Name, err)
			}
		}
	})
}

func TestBatchesEqualThemselves(t *testing.T) {
	withCorpus(t, func(t *testing.T, mem memory.Allocator, cases []Case) {
		again := Batches(mem)
		defer func() {
			for _, c := range again {
				c.Batch.Release()
			}
		}()
		if len(again) != len(cases) {
			t.Fatalf("%d cases, then %d", len(cases), len(again))
		}
		for i, c := range cases {
			if err := Equal(c.Batch, c.Batch); err != nil {
				t.Errorf("%s: Equal(x, x): %v", c.Name, err)
			}
			if again[i].Name != c.Name {
				t.Fatalf("case %d is %q, then %q", i, c.Name, again[i].Name)
			}
			if err := Equal(c.Batch, again[i].Batch); err != nil {
				t.Errorf("%s: not deterministic: %v", c.Name, err)
			}
		}
	})
}

// BenchmarkBatches is the cost of building the whole corpus, which every
// codec test pays (a speed figure, so a benchmark and not a timed test).
func BenchmarkBatches(b *testing.B) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(b, 0)
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range Batches(mem) {
			c.Batch.Release()
		}
	}
}

// kind names a type for the coverage check: the Arrow type with its
// parameters, except list element and struct field details.
func kind(dt arrow.DataType) string {
	switch t := dt.(type) {
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return "timestamp[" + t.Unit.String() + ", tz]"
		}
		return "timestamp[" + t.Unit.String() + "]"
	case *arrow.Time32Type:
		return "time32[" + t.Unit.String() + "]"
	case *arrow.Time64Type:
		return "time64[" + t.Unit.String() + "]"
	case *arrow.DurationType:
		return "duration[" + t.Unit.String() + "]"
	case *arrow.DictionaryType:
		return fmt.Sprintf("dictionary<%s, %s>", t.IndexType, t.ValueType)
	case *tensor.FixedShapeType:
		return t.String()
	}
	return dt.Name()
}

// visit calls f for every type nested in dt, dt included.
func visit(dt arrow.DataType, f func(arrow.DataType)) {
	f(dt)
	switch t := dt.(type) {
	case arrow.ExtensionType:
		visit(t.StorageType(), f)
	case *arrow.DictionaryType:
		visit(t.ValueType, f)
	case arrow.NestedType:
		for _, c := range t.Fields() {
			visit(c.Type, f)
		}
	}
}

// TestCoverage checks that the corpus holds what the package comment
// promises, so that a change cannot drop a type or a shape silently.
func TestCoverage(t *testing.T) {
	withCorpus(t, func(t *testing.T, _ memory.Allocator, cases []Case) {
		byName := map[string]arrow.RecordBatch{}
		topNulls := map[string]bool{}   // top-level kind with nulls
		topNoNulls := map[string]bool{} // top-level kind without
		nested := map[string]bool{}     // every kind, at any depth
		for _, c := range cases {
			byName[c.Name] = c.Batch
			for i, f := range c.Batch.Schema().Fields() {
				k := kind(f.Type)
				if c.Batch.Column(i).NullN() > 0 || f.Type.ID() == arrow.NULL {
					topNulls[k] = true
				}
				if c.Batch.Column(i).NullN() == 0 && c.Batch.NumRows() > 0 {
					topNoNulls[k] = true
				}
				visit(f.Type, func(dt arrow.DataType) { nested[kind(dt)] = true })
			}
		}
		both := []string{
			"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
			"float16", "float32", "float64", "utf8", "large_utf8", "binary", "large_binary",
			"fixed_size_binary", "decimal", "decimal256", "date32", "date64",
			"time32[s]", "time32[ms]", "time64[us]", "time64[ns]",
			"timestamp[s]", "timestamp[ms]", "timestamp[us]", "timestamp[ns]",
			"timestamp[s, tz]", "timestamp[ms, tz]", "timestamp[us, tz]", "timestamp[ns, tz]",
			"duration[s]", "duration[ms]", "duration[us]", "duration[ns]",
			"list", "large_list", "fixed_size_list", "struct", "map",
			"dictionary<int8, utf8>", "dictionary<int32, utf8>", "dictionary<int16, int64>",
			uint8Tensor.String(), float32Tensor.String(),
		}
		for _, k := range both {
			if !topNulls[k] {
				t.Errorf("no column of %s with nulls", k)
			}
			if !topNoNulls[k] {
				t.Errorf("no column of %s without nulls", k)
			}
		}
		if !topNulls["null"] {
			t.Error("no column of type null")
		}
		if !strings.Contains(float32Tensor.String(), "dim_names") {
			t.Errorf("float32 tensor has no dim names: %s", float32Tensor)
		}

		// Nested combinations.
		lsl := byName["list_struct_list"].Schema().Field(1).Type.(*arrow.ListType)
		if st, ok := lsl.Elem().(*arrow.StructType); !ok || st.Field(0).Type.ID() != arrow.LIST {
			t.Errorf("list_struct_list is %s", lsl)
		}
		mul := byName["map_utf8_list"].Schema().Field(1).Type.(*arrow.MapType)
		if mul.KeyType().ID() != arrow.STRING || mul.ItemType().ID() != arrow.LIST {
			t.Errorf("map_utf8_list is %s", mul)
		}
		if !byName["dictionary_int16_int64"].Schema().Field(0).Type.(*arrow.DictionaryType).Ordered {
			t.Error("the int64 dictionary is not ordered")
		}

		// A null struct slot whose children are valid.
		s := byName["struct"].Column(1).(*array.Struct)
		if !s.IsNull(1) || s.Field(0).IsNull(1) || s.Field(1).IsNull(1) {
			t.Error("struct v_nulls row 1: want a null slot with valid children")
		}
		// A null list slot that owns child values.
		l := byName["list"].Column(1).(*array.List)
		if start, end := l.ValueOffsets(1); !l.IsNull(1) || end == start {
			t.Error("list v_nulls row 1: want a null slot with a non-empty segment")
		}

		// Float specials.
		f64 := byName["float64"].Column(0).(*array.Float64).Float64Values()
		var nan, negZero, inf bool
		for _, v := range f64 {
			nan = nan || math.IsNaN(v)
			negZero = negZero || (v == 0 && math.Signbit(v))
			inf = inf || math.IsInf(v, -1)
		}
		if !nan || !negZero || !inf {
			t.Errorf("float64 v: NaN %v, -0 %v, -Inf %v", nan, negZero, inf)
		}

		// Strings: empty, multi-byte, at least 1 MiB.
		for _, name := range []string{"utf8", "large_utf8"} {
			var empty, multi, long bool
			col := byName[name].Column(0).(array.StringLike)
			for i := range col.Len() {
				v := col.ValueStr(i)
				empty = empty || v == ""
				multi = multi || utf8.RuneCountInString(v) < len(v)
				long = long || len(v) >= 1<<20
			}
			if !empty || !multi || !long {
				t.Errorf("%s v: empty %v, multi-byte %v, ≥ 1 MiB %v", name, empty, multi, long)
			}
		}

		// Metadata.
		md := byName["metadata"].Schema()
		if md.Metadata().Len() == 0 || md.Field(0).Metadata.Len() == 0 ||
			md.Field(1).Type.(*arrow.StructType).Field(0).Metadata.Len() == 0 {
			t.Error("metadata: want schema, field and nested field metadata")
		}

		// Shapes.
		if r := byName["empty"]; r.NumRows() != 0 || r.NumCols() < 3 {
			t.Errorf("empty: %d rows, %d columns", r.NumRows(), r.NumCols())
		}
		if r := byName["no_columns"]; r.NumCols() != 0 || r.NumRows() == 0 {
			t.Errorf("no_columns: %d rows, %d columns", r.NumRows(), r.NumCols())
		}
		if r := byName["wide"]; r.NumCols() != 1000 {
			t.Errorf("wide: %d columns", r.NumCols())
		}
		if r := byName["long"]; r.NumRows() != 100_000 || kind(r.Column(0).DataType()) != "int64" || kind(r.Column(1).DataType()) != "utf8" {
			t.Errorf("long: %d rows of %s", r.NumRows(), r.Schema())
		}
		sliced := 0
		for _, c := range cases {
			if !strings.HasPrefix(c.Name, "sliced/") {
				continue
			}
			sliced++
			odd := false
			for _, col := range c.Batch.Columns() {
				odd = odd || col.Data().Offset()%8 != 0
			}
			if !odd {
				t.Errorf("%s: no column at an offset that is not a multiple of 8", c.Name)
			}
		}
		if sliced < 10 {
			t.Errorf("%d sliced cases", sliced)
		}
		// Children with offsets of their own.
		for i, col := range byName["nested_offsets"].Columns() {
			own := false
			var walk func(d arrow.ArrayData)
			walk = func(d arrow.ArrayData) {
				for _, c := range d.Children() {
					own = own || c.Offset() != 0
					walk(c)
				}
				if d.Dictionary() != nil {
					own = own || d.Dictionary().Offset() != 0
				}
			}
			walk(col.Data())
			if !own {
				t.Errorf("nested_offsets column %d: no child with an offset", i)
			}
		}
	})
}

// TestIPCRoundTrip sends every case through an Arrow IPC stream: a real
// codec, so that Equal is exercised on batches with other buffers and
// offsets, and so that the corpus stays writable by arrow-go.
func TestIPCRoundTrip(t *testing.T) {
	withCorpus(t, func(t *testing.T, mem memory.Allocator, cases []Case) {
		for _, c := range cases {
			t.Run(c.Name, func(t *testing.T) {
				var buf bytes.Buffer
				w := ipc.NewWriter(&buf, ipc.WithSchema(c.Batch.Schema()), ipc.WithAllocator(mem))
				if err := w.Write(c.Batch); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				r, err := ipc.NewReader(&buf, ipc.WithAllocator(mem))
				if err != nil {
					t.Fatal(err)
				}
				defer r.Release()
				if !r.Next() {
					t.Fatalf("no batch read back: %v", r.Err())
				}
				if err := Equal(c.Batch, r.RecordBatch()); err != nil {
					t.Error(err)
				}
			})
		}
	})
}
