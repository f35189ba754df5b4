//go:build cgo

package gpu

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/wasinfer/wasinfer/tensor"
)

// example_dynamic_axes.onnx: input_vectors float32 [N,10] -> output_scalars
// float32 [N]. The pool's output must equal a bare session's on the same
// tensor, for a fixed_shape_tensor column, a fixed_size_list column, and a
// slice with an offset (handed over without a copy).
func TestDynamicAxesMatchesBareSession(t *testing.T) {
	path := ortModel(t, "example_dynamic_axes.onnx")
	mem := checkedMem(t)
	p := load(t, path, WithActors(2), WithAllocator(mem))

	const rows = 7
	vals := make([]float32, rows*10)
	for i := range vals {
		vals[i] = float32(math.Sin(float64(i))) * 3
	}
	want := bareRun(t, path, []string{"input_vectors"}, []string{"output_scalars"},
		[]ort.Value{mustTensor(t, ort.NewShape(rows, 10), slices.Clone(vals))})[0].(*ort.Tensor[float32]).GetData()

	ids := array.NewInt64Builder(mem)
	for i := range rows {
		ids.Append(int64(100 + i))
	}
	idCol := ids.NewArray()
	ids.Release()

	fsl := func() arrow.Array {
		b := array.NewFixedSizeListBuilder(mem, 10, arrow.PrimitiveTypes.Float32)
		defer b.Release()
		vb := b.ValueBuilder().(*array.Float32Builder)
		for r := range rows {
			b.Append(true)
			vb.AppendValues(vals[r*10:(r+1)*10], nil)
		}
		return b.NewArray()
	}
	cases := []struct {
		name string
		col  func() arrow.Array
	}{
		{"fixed_shape_tensor", func() arrow.Array { return tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, []int{10}, vals) }},
		{"fixed_size_list", fsl},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			idCol.Retain()
			in := record(t, []string{"id", "input_vectors"}, idCol, c.col())
			defer in.Release()
			out := transform(t, p, 1, in)
			defer out.Release()
			if got := out.Schema().String(); got != "schema:\n  fields: 2\n    - id: type=int64, nullable\n    - output_scalars: type=float32" {
				t.Fatalf("schema %s", got)
			}
			if got := column(t, out, "output_scalars").(*array.Float32).Float32Values(); !slices.Equal(got, want) {
				t.Fatalf("pool %v\nbare %v", got, want)
			}
			if got := column(t, out, "id").(*array.Int64).Int64Values(); got[0] != 100 || got[6] != 106 {
				t.Fatalf("id passed through as %v", got)
			}

			// A slice with an offset: rows 2..5, read in place.
			sl := in.NewSlice(2, 6)
			defer sl.Release()
			out2 := transform(t, p, 2, sl)
			defer out2.Release()
			if got := column(t, out2, "output_scalars").(*array.Float32).Float32Values(); !slices.Equal(got, want[2:6]) {
				t.Fatalf("slice: pool %v\nbare %v", got, want[2:6])
			}
		})
	}
	idCol.Release()
}

// The zero-copy claim: a sliced tensor column's bytes are the column's
// memory, not a copy.
func TestBindingAliasesTensorColumn(t *testing.T) {
	mem := checkedMem(t)
	vals := make([]float32, 6*10)
	col := tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, []int{10}, vals)
	in := record(t, []string{"x"}, col)
	defer in.Release()
	sl := in.NewSlice(1, 4)
	defer sl.Release()
	model := ValueInfo{Name: "x", Kind: KindTensor, Elem: ElemFloat32, Shape: []Dim{{Value: -1, Param: "N"}, {Value: 10}}}
	pl, err := makePlan(sl.Schema(), []ValueInfo{model}, nil, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pl.bindInputs(sl, map[string]int64{})
	if err != nil {
		t.Fatal(err)
	}
	buf := sl.Column(0).(*tensor.FixedShapeArray).ListValues().Data().Buffers()[1].Bytes()
	if b[0].copied || &b[0].data[0] != &buf[1*10*4] || len(b[0].data) != 3*10*4 {
		t.Fatalf("bound %d bytes (copied %v); want the column's bytes from row 1, 120 of them", len(b[0].data), b[0].copied)
	}
}

// example_multitype.onnx fixes its batch dimension to 1: InputA uint8
// [1,1,1], InputB float64 [1,2,2] -> OutputA int16 [1,2,2], OutputB int64
// [1,1,1]. A batch of 3 rows runs as 3 runs; each row must equal a bare run
// of that row.
func TestMultitypeFixedBatchRunsPerRow(t *testing.T) {
	path := ortModel(t, "example_multitype.onnx")
	mem := checkedMem(t)
	p := load(t, path, WithAllocator(mem))
	a := []uint8{3, 200, 17}
	b := []float64{1.5, -2, 3.25, 4, 0, 1, 2, 3, -7, 8.5, 9, 10}
	in := record(t, []string{"InputA", "InputB"},
		tensorColumn(t, mem, arrow.PrimitiveTypes.Uint8, []int{1, 1}, a),
		tensorColumn(t, mem, arrow.PrimitiveTypes.Float64, []int{2, 2}, b))
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	if got, want := out.Schema().String(), "schema:\n  fields: 2\n"+
		"    - OutputA: type=extension<arrow.fixed_shape_tensor[value_type=int16, shape=[2,2]]>\n"+
		"    - OutputB: type=extension<arrow.fixed_shape_tensor[value_type=int64, shape=[1,1]]>"; got != want {
		t.Fatalf("schema:\n%s\nwant\n%s", got, want)
	}
	oa := tensor.Values[int16](column(t, out, "OutputA").(*tensor.FixedShapeArray))
	ob := tensor.Values[int64](column(t, out, "OutputB").(*tensor.FixedShapeArray))
	for r := range 3 {
		bare := bareRun(t, path, []string{"InputA", "InputB"}, []string{"OutputA", "OutputB"}, []ort.Value{
			mustTensor(t, ort.NewShape(1, 1, 1), []uint8{a[r]}),
			mustTensor(t, ort.NewShape(1, 2, 2), slices.Clone(b[r*4:(r+1)*4])),
		})
		if want := bare[0].(*ort.Tensor[int16]).GetData(); !slices.Equal(oa[r*4:(r+1)*4], want) {
			t.Fatalf("row %d OutputA %v, bare %v", r, oa[r*4:(r+1)*4], want)
		}
		if want := bare[1].(*ort.Tensor[int64]).GetData(); ob[r] != want[0] {
			t.Fatalf("row %d OutputB %v, bare %v", r, ob[r], want)
		}
	}
}

// example_float16.onnx: InputA float16 [1,2,2,2] -> OutputA bfloat16
// [1,2,2,2], which becomes float32 exactly.
func TestFloat16InBFloat16Out(t *testing.T) {
	path := ortModel(t, "example_float16.onnx")
	mem := checkedMem(t)
	p := load(t, path, WithAllocator(mem))
	const rows = 2
	in16 := make([]float16.Num, rows*8)
	for i := range in16 {
		in16[i] = float16.New(float32(i)*0.75 - 3)
	}
	in := record(t, []string{"InputA"}, tensorColumn(t, mem, arrow.FixedWidthTypes.Float16, []int{2, 2, 2}, in16))
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	col := column(t, out, "OutputA").(*tensor.FixedShapeArray)
	if got := col.DataType().String(); got != "extension<arrow.fixed_shape_tensor[value_type=float32, shape=[2,2,2]]>" {
		t.Fatalf("type %s", got)
	}
	got := tensor.Values[float32](col)
	for r := range rows {
		raw := make([]byte, 16)
		for i := range 8 {
			u := in16[r*8+i].Uint16()
			raw[2*i], raw[2*i+1] = byte(u), byte(u>>8)
		}
		x, err := ort.NewCustomDataTensor(ort.NewShape(1, 2, 2, 2), raw, ort.TensorElementDataTypeFloat16)
		if err != nil {
			t.Fatal(err)
		}
		outRaw := make([]byte, 16)
		y, err := ort.NewCustomDataTensor(ort.NewShape(1, 2, 2, 2), outRaw, ort.TensorElementDataTypeBFloat16)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ort.NewDynamicAdvancedSession(path, []string{"InputA"}, []string{"OutputA"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Run([]ort.Value{x}, []ort.Value{y}); err != nil {
			t.Fatal(err)
		}
		_, _, _ = s.Destroy(), x.Destroy(), y.Destroy()
		for i := range 8 {
			want := math.Float32frombits(uint32(outRaw[2*i])<<16 | uint32(outRaw[2*i+1])<<24)
			if got[r*8+i] != want {
				t.Fatalf("row %d element %d: %v, bare %v", r, i, got[r*8+i], want)
			}
		}
	}
}

// example_strings.onnx: input string [?] -> output_lower, output_upper.
func TestStrings(t *testing.T) {
	path := ortModel(t, "example_strings.onnx")
	mem := checkedMem(t)
	p := load(t, path, WithAllocator(mem))
	words := []string{"Hello", "WORLD", "ÄÖü", ""}
	sb := array.NewStringBuilder(mem)
	sb.AppendValues(words, nil)
	in := record(t, []string{"input"}, sb.NewArray())
	sb.Release()
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()

	st, err := ort.NewStringTensor(ort.NewShape(int64(len(words))))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetContents(words); err != nil {
		t.Fatal(err)
	}
	bare := bareRun(t, path, []string{"input"}, []string{"output_lower", "output_upper"}, []ort.Value{st})
	for i, name := range []string{"output_lower", "output_upper"} {
		want, err := bare[i].(*ort.StringTensor).GetContents()
		if err != nil {
			t.Fatal(err)
		}
		col := column(t, out, name).(*array.String)
		for r := range words {
			if col.Value(r) != want[r] {
				t.Fatalf("%s row %d: %q, bare %q", name, r, col.Value(r), want[r])
			}
		}
	}
}

// The file name has non-ASCII characters; int32 [1,2] -> int32 [1].
func TestOddNameInt32(t *testing.T) {
	path := ortModel(t, "example ż 大 김.onnx")
	mem := checkedMem(t)
	p := load(t, path, WithAllocator(mem))
	if p.Name() != "example ż 大 김" {
		t.Fatalf("name %q", p.Name())
	}
	in := record(t, []string{"in"}, tensorColumn(t, mem, arrow.PrimitiveTypes.Int32, []int{2}, []int32{1, 2, 30, 40}))
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	got := column(t, out, "out").(*array.Int32).Int32Values()
	for r, pair := range [][]int32{{1, 2}, {30, 40}} {
		want := bareRun(t, path, []string{"in"}, []string{"out"}, []ort.Value{mustTensor(t, ort.NewShape(1, 2), pair)})[0].(*ort.Tensor[int32]).GetData()
		if got[r] != want[0] {
			t.Fatalf("row %d: %d, bare %d", r, got[r], want[0])
		}
	}
}

// sklearn_randomforest.onnx has a sequence<map> output, which cannot be a
// column: selecting only the label works.
func TestSelectOutputs(t *testing.T) {
	path := ortModel(t, "sklearn_randomforest.onnx")
	needLibrary(t)
	_, err := Load(context.Background(), path)
	wantErr(t, err, `model stage "sklearn_randomforest": gpu: model refused: `+path+`: model output "output_probability" is a sequence; a model stage makes tensor columns only: select the others with WithOutputs / outputs`)

	mem := checkedMem(t)
	p := load(t, path, WithOutputs(map[string]string{"output_label": "label"}), WithAllocator(mem))
	x := []float32{5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3, 5.9, 3.0, 4.2, 1.5}
	in := record(t, []string{"X"}, tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, []int{4}, x))
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	got := column(t, out, "label").(*array.Int64).Int64Values()
	want := bareRun(t, path, []string{"X"}, []string{"output_label"}, []ort.Value{mustTensor(t, ort.NewShape(3, 4), slices.Clone(x))})[0].(*ort.Tensor[int64]).GetData()
	if !slices.Equal(got, want) {
		t.Fatalf("labels %v, bare %v", got, want)
	}
}

// float16_scale.onnx (gen_models.py): Y = X*2, Z = X+X, float16 [N,3].
func TestFloat16Outputs(t *testing.T) {
	mem := checkedMem(t)
	p := load(t, "testdata/float16_scale.onnx", WithAllocator(mem), WithOutputs(map[string]string{"Y": "twice", "Z": ""}))
	x := []float16.Num{float16.New(1), float16.New(-0.5), float16.New(1000), float16.New(0.1), float16.New(3), float16.New(-7)}
	in := record(t, []string{"X"}, tensorColumn(t, mem, arrow.FixedWidthTypes.Float16, []int{3}, x))
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	for _, name := range []string{"twice", "Z"} {
		col := column(t, out, name).(*tensor.FixedShapeArray)
		if col.DataType().String() != "extension<arrow.fixed_shape_tensor[value_type=float16, shape=[3]]>" {
			t.Fatalf("%s: type %s", name, col.DataType())
		}
		got := tensor.Values[float16.Num](col)
		for i, v := range x {
			if want := float16.New(v.Float32() * 2); got[i] != want {
				t.Fatalf("%s[%d] = %v, want %v", name, i, got[i], want)
			}
		}
	}
}

// ints.onnx: C = int64(A) + B[:,None] (int64 [N,4]), D = A*A (int32 [N,4]);
// B is a primitive int64 column bound to a [N] input.
func TestIntInputsAndOutputs(t *testing.T) {
	mem := checkedMem(t)
	p := load(t, "testdata/ints.onnx", WithAllocator(mem))
	a := []int32{1, -2, 3, 40000, 5, 6, 7, 8}
	bb := array.NewInt64Builder(mem)
	bb.AppendValues([]int64{1 << 40, -3}, nil)
	in := record(t, []string{"A", "B"}, tensorColumn(t, mem, arrow.PrimitiveTypes.Int32, []int{4}, a), bb.NewArray())
	bb.Release()
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	c := tensor.Values[int64](column(t, out, "C").(*tensor.FixedShapeArray))
	d := tensor.Values[int32](column(t, out, "D").(*tensor.FixedShapeArray))
	b := []int64{1 << 40, -3}
	for i, v := range a {
		if c[i] != int64(v)+b[i/4] || d[i] != v*v {
			t.Fatalf("element %d: C %d D %d; want %d %d", i, c[i], d[i], int64(v)+b[i/4], v*v)
		}
	}
}

// dynamic_len.onnx: X float32 [N,len]; list columns feed it when every row of
// the batch has one length, and the length may change between batches.
func TestDynamicSequenceLength(t *testing.T) {
	mem := checkedMem(t)
	p := load(t, "testdata/dynamic_len.onnx", WithAllocator(mem), WithKeep())
	for seq, n := range []int{3, 5} {
		lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Float32)
		vb := lb.ValueBuilder().(*array.Float32Builder)
		for r := range 2 {
			lb.Append(true)
			for k := range n {
				vb.Append(float32(r*10 + k))
			}
		}
		in := record(t, []string{"X"}, lb.NewArray())
		lb.Release()
		out := transform(t, p, int64(seq), in)
		y := column(t, out, "Y").(*tensor.FixedShapeArray)
		if got := y.TensorType().Shape(); !slices.Equal(got, []int{n}) {
			t.Fatalf("len %d: Y rows of shape %v", n, got)
		}
		s := column(t, out, "S").(*array.Float32).Float32Values()
		for r := range 2 {
			sum := float32(0)
			for k := range n {
				sum += float32(r*10 + k)
				if got := tensor.Row[float32](y, r)[k]; got != 3*float32(r*10+k) {
					t.Fatalf("Y[%d][%d] = %v", r, k, got)
				}
			}
			if s[r] != sum {
				t.Fatalf("S[%d] = %v, want %v", r, s[r], sum)
			}
		}
		if out.NumCols() != 2 {
			t.Fatalf("WithKeep(): %d columns, want Y and S only", out.NumCols())
		}
		in.Release()
		out.Release()
	}
}

// bools.onnx: P = X > 0 (bool [N]), Q = Not(B) (bool [N,2]).
func TestBools(t *testing.T) {
	mem := checkedMem(t)
	p := load(t, "testdata/bools.onnx", WithAllocator(mem))
	xb := array.NewFloat32Builder(mem)
	xb.AppendValues([]float32{-1, 2, 0, 5}, nil)
	bt, err := tensor.NewFixedShapeType(arrow.FixedWidthTypes.Boolean, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	eb := array.NewExtensionBuilder(mem, bt)
	sb := eb.StorageBuilder().(*array.FixedSizeListBuilder)
	vb := sb.ValueBuilder().(*array.BooleanBuilder)
	bvals := []bool{true, false, false, false, true, true, false, true}
	for r := range 4 {
		sb.Append(true)
		vb.AppendValues(bvals[2*r:2*r+2], nil)
	}
	in := record(t, []string{"X", "B"}, xb.NewArray(), eb.NewArray())
	xb.Release()
	eb.Release()
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	pc := column(t, out, "P").(*array.Boolean)
	for i, want := range []bool{false, true, false, true} {
		if pc.Value(i) != want {
			t.Fatalf("P[%d] = %v", i, pc.Value(i))
		}
	}
	q := column(t, out, "Q").(*tensor.FixedShapeArray).ListValues().(*array.Boolean)
	for i, v := range bvals {
		if q.Value(i) == v {
			t.Fatalf("Q[%d] = %v, want %v", i, q.Value(i), !v)
		}
	}
}

// external.onnx reads its weight from external.bin beside it: Y = X + W.
func TestExternalData(t *testing.T) {
	mem := checkedMem(t)
	p := load(t, "testdata/external.onnx", WithAllocator(mem))
	if got := p.Model().ExternalData; !slices.Equal(got, []string{"external.bin"}) {
		t.Fatalf("external data %v", got)
	}
	in := record(t, []string{"X"}, tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, []int{4}, []float32{10, 20, 30, 40}))
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	if got := tensor.Values[float32](column(t, out, "Y").(*tensor.FixedShapeArray)); !slices.Equal(got, []float32{11, 22, 33, 44}) {
		t.Fatalf("Y %v", got)
	}
}

// Many callers, three actors: every batch's output is its own (rows tagged
// by an id column) and equals the bare session's.
func TestConcurrentTransforms(t *testing.T) {
	path := ortModel(t, "example_dynamic_axes.onnx")
	mem := checkedMem(t)
	p := load(t, path, WithActors(3), WithAllocator(mem))
	if p.Concurrency() != 3 || len(p.Startup().Actors) != 3 {
		t.Fatalf("concurrency %d, startup %+v", p.Concurrency(), p.Startup())
	}
	const batches, rows = 24, 5
	want := make([][]float32, batches)
	ins := make([]arrow.RecordBatch, batches)
	for i := range batches {
		vals := make([]float32, rows*10)
		for k := range vals {
			vals[k] = float32(i*1000 + k)
		}
		want[i] = bareRun(t, path, []string{"input_vectors"}, []string{"output_scalars"},
			[]ort.Value{mustTensor(t, ort.NewShape(rows, 10), slices.Clone(vals))})[0].(*ort.Tensor[float32]).GetData()
		ins[i] = record(t, []string{"input_vectors"}, tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, []int{10}, vals))
	}
	var wg sync.WaitGroup
	errs := make([]error, batches)
	for i := range batches {
		wg.Go(func() {
			out, err := p.Transform(context.Background(), int64(i), ins[i])
			if err != nil {
				errs[i] = err
				return
			}
			defer out.Release()
			if got := out.Column(0).(*array.Float32).Float32Values(); !slices.Equal(got, want[i]) {
				errs[i] = fmt.Errorf("batch %d: %v, want %v", i, got, want[i])
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Error(err)
		}
		ins[i].Release()
	}
}

// An empty batch (whose output shapes the column types fix) gives empty columns without a run.
func TestEmptyBatch(t *testing.T) {
	mem := checkedMem(t)
	p := load(t, "testdata/ints.onnx", WithAllocator(mem))
	bb := array.NewInt64Builder(mem)
	in := record(t, []string{"A", "B"}, tensorColumn(t, mem, arrow.PrimitiveTypes.Int32, []int{4}, []int32{}), bb.NewArray())
	bb.Release()
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	if out.NumRows() != 0 || out.NumCols() != 2 || out.Schema().Field(0).Type.String() != "extension<arrow.fixed_shape_tensor[value_type=int64, shape=[4]]>" {
		t.Fatalf("empty batch gave %s with %d rows", out.Schema(), out.NumRows())
	}
}
