//go:build cgo

package gpu

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wasinfer/wasinfer/tensor"
)

// Batches that do not fit the model: each a KindBind error naming the model
// input, the column, the expected and the actual.
func TestBindingErrors(t *testing.T) {
	mem := checkedMem(t)
	dyn := load(t, ortModel(t, "example_dynamic_axes.onnx"), WithAllocator(mem))
	ints := load(t, "testdata/ints.onnx", WithAllocator(mem))
	seqm := load(t, "testdata/dynamic_len.onnx", WithAllocator(mem))
	multi := load(t, ortModel(t, "example_multitype.onnx"), WithAllocator(mem))
	renamed := load(t, "testdata/dynamic_len.onnx", WithAllocator(mem), WithOutputs(map[string]string{"Y": "id"}))

	f32 := func(shape []int, rows int) arrow.Array {
		n := rows
		for _, d := range shape {
			n *= d
		}
		return tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, shape, make([]float32, n))
	}
	i64 := func(vals ...int64) arrow.Array {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.AppendValues(vals, nil)
		return b.NewArray()
	}
	lists := func(lens ...int) arrow.Array {
		b := array.NewListBuilder(mem, arrow.PrimitiveTypes.Float32)
		defer b.Release()
		vb := b.ValueBuilder().(*array.Float32Builder)
		for _, n := range lens {
			b.Append(true)
			for range n {
				vb.Append(1)
			}
		}
		return b.NewArray()
	}
	withNull := func() arrow.Array {
		typ, _ := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Float32, []int{10})
		a, err := tensor.NewArray(mem, typ, make([]float32, 30), []bool{true, true, false})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []struct {
		name  string
		pool  *Pool
		names []string
		cols  func() []arrow.Array
		want  string
	}{
		{"missing column", dyn, []string{"x"}, func() []arrow.Array { return []arrow.Array{f32([]int{10}, 2)} },
			`model stage "example_dynamic_axes": batch 4: gpu: binding: model input "input_vectors" (float32[input_vectors_dynamic_axes_1,10]) reads column "input_vectors", which the batch does not have (columns: "x"); map it with WithInputs / inputs: {input_vectors: COLUMN}`},
		{"element type", dyn, []string{"input_vectors"}, func() []arrow.Array {
			return []arrow.Array{tensorColumn(t, mem, arrow.PrimitiveTypes.Float64, []int{10}, make([]float64, 20))}
		},
			`model stage "example_dynamic_axes": batch 4: gpu: binding: model input "input_vectors" wants float32[input_vectors_dynamic_axes_1,10]; column "input_vectors" is extension<arrow.fixed_shape_tensor[value_type=float64, shape=[10]]>: its elements are float64, the model's are float32; convert them in a UDF stage before the model`},
		{"row shape", dyn, []string{"input_vectors"}, func() []arrow.Array { return []arrow.Array{f32([]int{12}, 2)} },
			`model stage "example_dynamic_axes": batch 4: gpu: binding: model input "input_vectors" wants float32[input_vectors_dynamic_axes_1,10]; column "input_vectors" is extension<arrow.fixed_shape_tensor[value_type=float32, shape=[12]]>: its rows are [12], the model wants [10]: dimension 1 is 12, want 10`},
		{"rank", dyn, []string{"input_vectors"}, func() []arrow.Array { return []arrow.Array{f32([]int{2, 5}, 2)} },
			`model stage "example_dynamic_axes": batch 4: gpu: binding: model input "input_vectors" wants float32[input_vectors_dynamic_axes_1,10]; column "input_vectors" is extension<arrow.fixed_shape_tensor[value_type=float32, shape=[2,5]]>: its rows are [2,5] (2 dimensions), the model wants 1 dimensions per row [10]`},
		{"primitive for a tensor", dyn, []string{"input_vectors"}, func() []arrow.Array {
			b := array.NewFloat32Builder(mem)
			defer b.Release()
			b.AppendValues([]float32{1, 2}, nil)
			return []arrow.Array{b.NewArray()}
		},
			`model stage "example_dynamic_axes": batch 4: gpu: binding: model input "input_vectors" wants float32[input_vectors_dynamic_axes_1,10]; column "input_vectors" is float32: a column of one float32 per row feeds a [batch] input; the model wants 1 more dimension(s): use a fixed_shape_tensor column`},
		{"null row", dyn, []string{"input_vectors"}, func() []arrow.Array { return []arrow.Array{withNull()} },
			`model stage "example_dynamic_axes": batch 4: actor 0: gpu: binding: model input "input_vectors" (float32[input_vectors_dynamic_axes_1,10]), column "input_vectors": row 2 is null; a model input cannot hold nulls: filter or fill them in a UDF stage first`},
		{"tensor for a [batch] input", ints, []string{"A", "B"}, func() []arrow.Array {
			return []arrow.Array{tensorColumn(t, mem, arrow.PrimitiveTypes.Int32, []int{4}, make([]int32, 8)), tensorColumn(t, mem, arrow.PrimitiveTypes.Int64, []int{1}, make([]int64, 2))}
		},
			`model stage "ints": batch 4: gpu: binding: model input "B" wants int64[N]; column "B" is extension<arrow.fixed_shape_tensor[value_type=int64, shape=[1]]>: the model wants one value per row: use a primitive column`},
		{"list lengths disagree", seqm, []string{"X"}, func() []arrow.Array { return []arrow.Array{lists(3, 3, 4)} },
			`model stage "dynamic_len": batch 4: actor 0: gpu: binding: model input "X" (float32[N,len]), column "X": rows have different lengths (row 0: 3, row 2: 4); the model's dimension len is dynamic, but one batch must agree on it: group rows of one length into a batch, or pad them in a UDF stage`},
		{"output collides with a kept column", renamed, []string{"X", "id"}, func() []arrow.Array { return []arrow.Array{lists(2), i64(7)} },
			`model stage "dynamic_len": batch 4: gpu: binding: model output "Y" would be column "id", but the output already has an input column of that name; rename it with WithOutputs / outputs: {Y: NEW_NAME} or drop the input column with keep`},
		{"fixed batch size", multi, []string{"InputA", "InputB"}, func() []arrow.Array {
			return []arrow.Array{tensorColumn(t, mem, arrow.PrimitiveTypes.Uint8, []int{1, 1}, []uint8{1, 2}), tensorColumn(t, mem, arrow.PrimitiveTypes.Float64, []int{2, 2}, make([]float64, 8))}
		}, ``},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := record(t, c.names, c.cols()...)
			defer in.Release()
			out, err := c.pool.Transform(context.Background(), 4, in)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				out.Release()
				return
			}
			wantErr(t, err, c.want)
			var me *ModelError
			if !asModelError(err, &me) || me.Kind != KindBind || me.Transient() {
				t.Fatalf("error %#v: want a non-transient KindBind *ModelError", err)
			}
		})
	}
}

// Models that admission refuses before ONNX Runtime sees them.
func TestAdmissionErrors(t *testing.T) {
	needLibrary(t)
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.onnx")
	if err := os.WriteFile(corrupt, []byte("this is not an onnx model\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.onnx")
	raw, err := os.ReadFile(digitsModel)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	// A symbolic link inside the model's directory that points out of it.
	linkDir := filepath.Join(dir, "link")
	if err := os.Mkdir(linkDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ext, err := os.ReadFile("testdata/external.onnx")
	if err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(linkDir, "external.onnx")
	if err := os.WriteFile(linked, ext, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("testdata/external.bin")
	if err := os.Symlink(abs, filepath.Join(linkDir, "external.bin")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		opts       []Option
		want       string
	}{
		{"missing", filepath.Join(dir, "nope.onnx"), nil, `model stage "nope": gpu: model refused: open DIR/nope.onnx: no such file or directory`},
		{"directory", dir, nil, `model stage "DIRBASE": gpu: model refused: DIR is a directory, not a .onnx file`},
		{"corrupt", corrupt, nil, `model stage "corrupt": gpu: model refused: DIR/corrupt.onnx: not a valid ONNX model: ModelProto: field 14 at byte 0: mismatched end-group marker`},
		{"truncated", truncated, nil, `model stage "truncated": gpu: model refused: DIR/truncated.onnx: not a valid ONNX model: ModelProto: field 7 at byte 147: the data ends in the middle of the field (truncated file?)`},
		{"external ..", "testdata/escape_dotdot.onnx", nil, `model stage "escape_dotdot": gpu: model refused: external data outside the model's directory: testdata/escape_dotdot.onnx: tensor "W": external data location "../outside.bin" leads out of the model's directory; external data must be a relative path inside testdata`},
		{"external absolute", "testdata/escape_absolute.onnx", nil, `model stage "escape_absolute": gpu: model refused: external data outside the model's directory: testdata/escape_absolute.onnx: tensor "W": external data location "/etc/hostname" is absolute; external data must be a relative path inside testdata`},
		{"external missing", "testdata/external_missing.onnx", nil, `model stage "external_missing": gpu: model refused: testdata/external_missing.onnx: tensor "W": external data file "missing.bin" does not exist in testdata`},
		{"external symlink", linked, nil, `model stage "external": gpu: model refused: external data outside the model's directory: DIR/link/external.onnx: tensor "W": external data location "external.bin" cannot be opened inside the model's directory (openat external.bin: path escapes from parent); external data must be a relative path inside DIR/link`},
		{"unknown input", digitsModel, []Option{WithInputs(map[string]string{"image": "pixels"})}, `model stage "digits": gpu: model refused: ../examples/digits/train/digits.onnx: inputs maps "image", which is not an input of the model (inputs: "pixels" float32[N,1,8,8])`},
		{"unknown output", digitsModel, []Option{WithOutputs(map[string]string{"probs": ""})}, `model stage "digits": gpu: model refused: ../examples/digits/train/digits.onnx: outputs maps "probs", which is not an output of the model (outputs: "logits" float32[N,10])`},
		{"actors", digitsModel, []Option{WithActors(0)}, `model stage "digits": gpu: option: 0 actors: want at least 1`},
		{"device", digitsModel, []Option{WithDevice("tpu:0")}, `model stage "digits": gpu: device: "tpu:0": want cpu, cuda or cuda:N`},
		{"gpus", digitsModel, []Option{WithDevice("cuda"), WithActors(2), withGPUCount(1)}, `model stage "digits": gpu: device: 2 actors × 1 GPUs per actor need 2 GPUs, but this machine has 1 GPU; run fewer actors, fewer GPUs per actor, device cpu, or allow the CPU fallback (WithCPUFallback, --cpu-fallback)`},
		{"library", digitsModel, []Option{WithLibrary(filepath.Join(dir, "libonnxruntime.so.1"))}, `model stage "digits": gpu: ONNX Runtime library: the library option (--ort-lib) names DIR/libonnxruntime.so.1, which does not exist (no such file or directory); fetch ONNX Runtime 1.30.0 with ` + "`make deps`" + `, or run: ` + FetchCommand()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(context.Background(), c.path, c.opts...)
			var me *ModelError
			if !asModelError(err, &me) || me.Kind != KindLoad {
				t.Fatalf("error %#v: want a KindLoad *ModelError", err)
			}
			want := strings.ReplaceAll(c.want, "DIRBASE", filepath.Base(dir))
			wantErr(t, err, strings.ReplaceAll(want, "DIR", dir))
		})
	}
}

// Check binds a schema without running: the scheduler's pre-run admission.
func TestCheckSchema(t *testing.T) {
	p := load(t, digitsModel, WithInputs(map[string]string{"pixels": "image"}))
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Float32, []int{1, 8, 8})
	if err != nil {
		t.Fatal(err)
	}
	ok := arrow.NewSchema([]arrow.Field{{Name: "image", Type: typ}, {Name: "label", Type: arrow.PrimitiveTypes.Int64}}, nil)
	if err := p.Check(ok); err != nil {
		t.Fatal(err)
	}
	bad := arrow.NewSchema([]arrow.Field{{Name: "pixels", Type: typ}}, nil)
	wantErr(t, p.Check(bad), `model stage "digits": gpu: binding: model input "pixels" (float32[N,1,8,8]) reads column "image", which the batch does not have (columns: "pixels"); map it with WithInputs / inputs: {pixels: COLUMN}`)
}
