//go:build cgo

package gpu_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/gpu"
	"github.com/wasinfer/wasinfer/tensor"
)

// A model stage over a batch: the digits classifier, two actors, its input
// read from the column "image", the column "id" passed through.
func Example() {
	ctx := context.Background()
	p, err := gpu.Load(ctx, "../examples/digits/train/digits.onnx",
		gpu.WithActors(2),
		gpu.WithInputs(map[string]string{"pixels": "image"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close(ctx)

	// Two blank 8x8 images, pixels/16 in [0,1].
	typ, _ := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Float32, []int{1, 8, 8})
	images, _ := tensor.NewArray(memory.DefaultAllocator, typ, make([]float32, 2*64), nil)
	defer images.Release()
	ids := array.NewInt64Builder(memory.DefaultAllocator)
	ids.AppendValues([]int64{7, 8}, nil)
	idCol := ids.NewArray()
	defer idCol.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "image", Type: typ}}, nil)
	batch := array.NewRecordBatch(schema, []arrow.Array{idCol, images}, 2)
	defer batch.Release()

	out, err := p.Transform(ctx, 0, batch)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer out.Release()
	for _, f := range out.Schema().Fields() {
		fmt.Printf("%s: %s\n", f.Name, f.Type)
	}
	logits := out.Column(1).(*tensor.FixedShapeArray)
	fmt.Println("scores per row:", len(tensor.Row[float32](logits, 0)))
	fmt.Println("actors:", p.Concurrency(), "devices:", p.Devices())
	fmt.Println("same class for both blank images:",
		slices.Index(tensor.Row[float32](logits, 0), slices.Max(tensor.Row[float32](logits, 0))) ==
			slices.Index(tensor.Row[float32](logits, 1), slices.Max(tensor.Row[float32](logits, 1))))
	// Output:
	// id: int64
	// logits: extension<arrow.fixed_shape_tensor[value_type=float32, shape=[10]]>
	// scores per row: 10
	// actors: 2 devices: [cpu cpu]
	// same class for both blank images: true
}

// Inspect reads a model file without ONNX Runtime.
func ExampleInspect() {
	m, err := gpu.Inspect("../examples/digits/train/digits.onnx")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("opset", m.Opset())
	for _, v := range m.Inputs {
		fmt.Println("input", v.Name, v.Type())
	}
	for _, v := range m.Outputs {
		fmt.Println("output", v.Name, v.Type())
	}
	// Output:
	// opset 13
	// input pixels float32[N,1,8,8]
	// output logits float32[N,10]
}
