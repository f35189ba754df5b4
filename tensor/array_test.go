package tensor

import (
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestNewArrayUint8(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	typ := mustType(t, arrow.PrimitiveTypes.Uint8, []int{2, 2})
	values := make([]uint8, 5*4)
	for i := range values {
		values[i] = uint8(i)
	}
	arr, err := NewArray(mem, typ, values, []bool{true, false, true, true, false})
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Release()
	if err := array.ValidateFull(arr); err != nil {
		t.Fatal(err)
	}
	if arr.Len() != 5 || arr.NullN() != 2 || !arr.IsNull(1) || !arr.IsNull(4) || arr.IsNull(0) {
		t.Fatalf("len %d nulls %d validity %v", arr.Len(), arr.NullN(), []bool{arr.IsValid(0), arr.IsValid(1), arr.IsValid(4)})
	}
	if arr.TensorType() != typ {
		t.Errorf("TensorType() = %s", arr.TensorType())
	}
	values[0] = 99 // NewArray copied
	for i := range 5 {
		want := []uint8{uint8(4 * i), uint8(4*i + 1), uint8(4*i + 2), uint8(4*i + 3)}
		if got := Row[uint8](arr, i); !slices.Equal(got, want) || cap(got) != 4 {
			t.Errorf("Row(%d) = %v (cap %d), want %v", i, got, cap(got), want)
		}
	}
	if got := Values[uint8](arr); len(got) != 20 || got[0] != 0 || got[19] != 19 {
		t.Errorf("Values() = %v", got)
	}

	// A slice starting at row 3 sees rows 3 and 4, and Values starts there.
	sl := array.NewSlice(arr, 3, 5).(*FixedShapeArray)
	defer sl.Release()
	if got := Row[uint8](sl, 1); !slices.Equal(got, []uint8{16, 17, 18, 19}) {
		t.Errorf("sliced Row(1) = %v", got)
	}
	if got := Values[uint8](sl); !slices.Equal(got, []uint8{12, 13, 14, 15, 16, 17, 18, 19}) {
		t.Errorf("sliced Values() = %v", got)
	}
	if start, end := sl.ValueOffsets(0); start != 12 || end != 16 {
		t.Errorf("sliced ValueOffsets(0) = %d, %d", start, end)
	}
	empty := array.NewSlice(arr, 2, 2).(*FixedShapeArray)
	defer empty.Release()
	if got := Values[uint8](empty); len(got) != 0 {
		t.Errorf("empty Values() = %v", got)
	}
}

func TestNewArrayFloat32NoNulls(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	typ := mustType(t, arrow.PrimitiveTypes.Float32, []int{2, 3}, WithDimNames("x", "y"))
	values := []float32{1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6}
	arr, err := NewArray(mem, typ, values, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Release()
	if err := array.ValidateFull(arr); err != nil {
		t.Fatal(err)
	}
	if arr.NullN() != 0 || arr.Data().Buffers()[0] != nil {
		t.Errorf("no-null array has %d nulls and a validity buffer %v", arr.NullN(), arr.Data().Buffers()[0])
	}
	if got := Row[float32](arr, 1); !slices.Equal(got, values[6:]) {
		t.Errorf("Row(1) = %v", got)
	}
	// The storage is an ordinary fixed_size_list.
	fsl := arr.Storage().(*array.FixedSizeList)
	if got := fsl.ListValues().(*array.Float32).Float32Values(); !slices.Equal(got, values) {
		t.Errorf("storage values = %v", got)
	}
}

func TestNewArrayAllValueTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	check := func(t *testing.T, arr *FixedShapeArray, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer arr.Release()
		if err := array.ValidateFull(arr); err != nil {
			t.Fatal(err)
		}
	}
	typ := func(dt arrow.DataType) *FixedShapeType { return mustType(t, dt, []int{2}) }
	t.Run("int8", func(t *testing.T) {
		a, err := NewArray(mem, typ(arrow.PrimitiveTypes.Int8), []int8{-1, 2}, nil)
		check(t, a, err)
	})
	t.Run("int16", func(t *testing.T) {
		a, err := NewArray(mem, typ(arrow.PrimitiveTypes.Int16), []int16{-1, 2}, nil)
		check(t, a, err)
	})
	t.Run("int32", func(t *testing.T) {
		a, err := NewArray(mem, typ(arrow.PrimitiveTypes.Int32), []int32{-1, 2}, nil)
		check(t, a, err)
	})
	t.Run("int64", func(t *testing.T) {
		a, err := NewArray(mem, typ(arrow.PrimitiveTypes.Int64), []int64{-1, 2}, nil)
		check(t, a, err)
	})
	t.Run("uint16", func(t *testing.T) {
		a, err := NewArray(mem, typ(arrow.PrimitiveTypes.Uint16), []uint16{1, 2}, nil)
		check(t, a, err)
	})
	t.Run("uint32", func(t *testing.T) {
		a, err := NewArray(mem, typ(arrow.PrimitiveTypes.Uint32), []uint32{1, 2}, nil)
		check(t, a, err)
	})
	t.Run("uint64", func(t *testing.T) {
		a, err := NewArray(mem, typ(arrow.PrimitiveTypes.Uint64), []uint64{1, 2}, nil)
		check(t, a, err)
	})
	t.Run("float16", func(t *testing.T) {
		a, err := NewArray(mem, typ(arrow.FixedWidthTypes.Float16), []float16.Num{float16.New(1.5), float16.New(-2)}, nil)
		if err == nil && Row[float16.Num](a, 0)[1].Float32() != -2 {
			t.Errorf("float16 row = %v", Row[float16.Num](a, 0))
		}
		check(t, a, err)
	})
	t.Run("float64", func(t *testing.T) {
		a, err := NewArray(mem, typ(arrow.PrimitiveTypes.Float64), []float64{1, 2}, nil)
		check(t, a, err)
	})
}

func TestNewArrayErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f32 := mustType(t, arrow.PrimitiveTypes.Float32, []int{2, 3})

	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"wrong Go type", func() error { _, err := NewArray(mem, f32, []float64{1, 2, 3, 4, 5, 6}, nil); return err },
			"tensor: building a float32 tensor column from float64 values"},
		{"partial row", func() error { _, err := NewArray(mem, f32, []float32{1, 2, 3, 4}, nil); return err },
			"tensor: 4 values is not a whole number of rows of 6 (shape [2,3])"},
		{"validity length", func() error {
			_, err := NewArray(mem, f32, make([]float32, 12), []bool{true})
			return err
		}, "tensor: 1 validity entries for 2 rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRowPanics(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	arr, err := NewArray(mem, mustType(t, arrow.PrimitiveTypes.Uint8, []int{3}), []uint8{1, 2, 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Release()

	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"wrong type", func() { Row[float32](arr, 0) }, "tensor: float32 elements requested from a tensor of uint8"},
		{"wrong type Values", func() { Values[int8](arr) }, "tensor: int8 elements requested from a tensor of uint8"},
		{"row past end", func() { Row[uint8](arr, 1) }, "tensor: row 1 out of range [0, 1)"},
		{"negative row", func() { Row[uint8](arr, -1) }, "tensor: row -1 out of range [0, 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != tt.want {
					t.Errorf("panic = %v, want %q", r, tt.want)
				}
			}()
			tt.f()
		})
	}
}

func TestBuilderMakesFixedShapeArray(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	typ := mustType(t, arrow.PrimitiveTypes.Int32, []int{2})
	b := array.NewBuilder(mem, typ).(*array.ExtensionBuilder)
	defer b.Release()
	lb := b.StorageBuilder().(*array.FixedSizeListBuilder)
	vb := lb.ValueBuilder().(*array.Int32Builder)
	lb.Append(true)
	vb.AppendValues([]int32{7, 8}, nil)
	lb.AppendNull() // appends the row's two (null) values itself
	arr := b.NewArray()
	defer arr.Release()
	fsa, ok := arr.(*FixedShapeArray)
	if !ok {
		t.Fatalf("builder made %T", arr)
	}
	if got := Row[int32](fsa, 0); !slices.Equal(got, []int32{7, 8}) || !fsa.IsNull(1) {
		t.Errorf("Row(0) = %v, IsNull(1) = %v", got, fsa.IsNull(1))
	}
}
