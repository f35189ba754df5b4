package tensor_test

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/tensor"
)

func Example() {
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Float32, []int{2, 3}, tensor.WithDimNames("x", "y"))
	if err != nil {
		panic(err)
	}
	fmt.Println(typ)
	fmt.Println(typ.Serialize())

	// Two rows of 2×3 values; the second row is null.
	values := []float32{1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0}
	col, err := tensor.NewArray(memory.DefaultAllocator, typ, values, []bool{true, false})
	if err != nil {
		panic(err)
	}
	defer col.Release()
	fmt.Println(col.Len(), col.NullN(), tensor.Row[float32](col, 0))
	// Output:
	// extension<arrow.fixed_shape_tensor[value_type=float32, shape=[2,3], dim_names=[x,y]]>
	// {"shape":[2,3],"dim_names":["x","y"]}
	// 2 1 [1 2 3 4 5 6]
}

func ExampleFixedShapeType_LogicalShape() {
	// Physical (row-major) shape [100, 200, 500] seen as [500, 100, 200].
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Uint8, []int{100, 200, 500}, tensor.WithPermutation(2, 0, 1))
	if err != nil {
		panic(err)
	}
	fmt.Println(typ.Shape(), typ.LogicalShape(), typ.Size())
	// Output:
	// [100 200 500] [500 100 200] 10000000
}

func ExampleValues() {
	typ, _ := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Uint8, []int{2, 2})
	col, err := tensor.NewArray(memory.DefaultAllocator, typ, []uint8{1, 2, 3, 4, 5, 6, 7, 8}, nil)
	if err != nil {
		panic(err)
	}
	defer col.Release()
	// All rows as one contiguous slice, without copying: what a model reads.
	fmt.Printf("%d\n", tensor.Values[uint8](col))
	// Output:
	// [1 2 3 4 5 6 7 8]
}
