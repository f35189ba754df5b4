package gpu

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

const digitsOnnx = "../examples/digits/train/digits.onnx"

func TestInspectDigits(t *testing.T) {
	m, err := Inspect(digitsOnnx)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(digitsOnnx)
	got, _ := json.Marshal(m)
	want := `{"path":"../examples/digits/train/digits.onnx","size":` + itoa(st.Size()) + `,"ir_version":7,"opsets":[{"domain":"","version":13}],` +
		`"producer":"wasinfer examples/digits/train/train.py","producer_version":"1.13.0","graph_name":"torch_jit",` +
		`"doc":"CNN trained on scikit-learn digits; input pixels/16 as float32 [N,1,8,8]; output logits [N,10]",` +
		`"inputs":[{"name":"pixels","kind":"tensor","shape":[{"value":-1,"param":"N"},{"value":1},{"value":8},{"value":8}]}],` +
		`"outputs":[{"name":"logits","kind":"tensor","shape":[{"value":-1,"param":"N"},{"value":10}]}],"initializers":8}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if m.Inputs[0].Type() != "float32[N,1,8,8]" || m.Outputs[0].Type() != "float32[N,10]" || m.Opset() != 13 {
		t.Fatalf("types %s %s opset %d", m.Inputs[0].Type(), m.Outputs[0].Type(), m.Opset())
	}
}

func TestInspectTestModels(t *testing.T) {
	cases := []struct {
		path, inputs, outputs string
		external              []string
	}{
		{"testdata/external.onnx", "X float32[N,4]", "Y float32[N,4]", []string{"external.bin"}},
		{"testdata/bools.onnx", "X float32[N]; B bool[N,2]", "P bool[N]; Q bool[N,2]", nil},
		{"testdata/float16_scale.onnx", "X float16[N,3]", "Y float16[N,3]; Z float16[N,3]", nil},
		{"testdata/ints.onnx", "A int32[N,4]; B int64[N]", "C int64[N,4]; D int32[N,4]", nil},
		{"testdata/dynamic_len.onnx", "X float32[N,len]", "Y float32[N,len]; S float32[N]", nil},
	}
	list := func(vs []ValueInfo) string {
		var s []string
		for _, v := range vs {
			s = append(s, v.Name+" "+v.Type())
		}
		return strings.Join(s, "; ")
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			m, err := Inspect(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if list(m.Inputs) != c.inputs || list(m.Outputs) != c.outputs || strings.Join(m.ExternalData, ",") != strings.Join(c.external, ",") || m.Opset() != 17 {
				t.Fatalf("inputs %q outputs %q external %v opset %d", list(m.Inputs), list(m.Outputs), m.ExternalData, m.Opset())
			}
		})
	}
}

// Hand-encoded models: an initializer listed as an input (IR < 4) is not an
// input; dimensions without value or name are "?"; non-tensor kinds.
func TestInspectHandEncoded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(path, handModel(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].Type() != "float32[?,3]" || m.Initializers != 1 {
		t.Fatalf("inputs %+v, %d initializers", m.Inputs, m.Initializers)
	}
	if len(m.Outputs) != 2 || m.Outputs[0].Type() != "string" || m.Outputs[1].Type() != "sequence" {
		t.Fatalf("outputs %+v", m.Outputs)
	}
	if m.Metadata["author"] != "wasinfer" || m.Opset() != 0 || len(m.Opsets) != 1 || m.Opsets[0].Domain != "ai.onnx.ml" {
		t.Fatalf("metadata %v opsets %v", m.Metadata, m.Opsets)
	}
}

func TestInspectErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noGraph := protowire.AppendTag(nil, 1, protowire.VarintType)
	noGraph = protowire.AppendVarint(noGraph, 8)
	badUTF8 := protowire.AppendTag(nil, 2, protowire.BytesType)
	badUTF8 = protowire.AppendBytes(badUTF8, []byte{0xff, 0xfe})
	wrongType := protowire.AppendTag(nil, 7, protowire.VarintType)
	wrongType = protowire.AppendVarint(wrongType, 1)
	cases := map[string]string{
		write("empty.onnx", nil):              "gpu: model refused: DIR/empty.onnx: not a valid ONNX model: the file is empty",
		write("text.onnx", []byte("hello\n")): "gpu: model refused: DIR/text.onnx: not a valid ONNX model: ModelProto: field 13 at byte 2: mismatched end-group marker",
		write("nograph.onnx", noGraph):        "gpu: model refused: DIR/nograph.onnx: not a valid ONNX model: ModelProto has no graph",
		write("utf8.onnx", badUTF8):           "gpu: model refused: DIR/utf8.onnx: not a valid ONNX model: ModelProto.producer_name: field 2 is not valid UTF-8",
		write("wire.onnx", wrongType):         "gpu: model refused: DIR/wire.onnx: not a valid ONNX model: ModelProto.graph: field 7 has wire type 0, want length-delimited",
	}
	for path, want := range cases {
		_, err := Inspect(path)
		want = strings.ReplaceAll(want, "DIR", dir)
		if err == nil || err.Error() != want || !errors.Is(err, ErrModel) {
			t.Errorf("Inspect(%s):\n got %v\nwant %s", filepath.Base(path), err, want)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// handModel encodes a ModelProto by hand: IR version 3, opset ai.onnx.ml 1,
// graph inputs X float32 [?,3] and W (also an initializer), outputs a
// string tensor of unknown rank and a sequence, metadata author=wasinfer.
func handModel() []byte {
	msg := func(fields ...[]byte) []byte { return concatBytes(fields...) }
	bytesField := func(num protowire.Number, b []byte) []byte {
		out := protowire.AppendTag(nil, num, protowire.BytesType)
		return protowire.AppendBytes(out, b)
	}
	varint := func(num protowire.Number, v uint64) []byte {
		out := protowire.AppendTag(nil, num, protowire.VarintType)
		return protowire.AppendVarint(out, v)
	}
	str := func(num protowire.Number, s string) []byte { return bytesField(num, []byte(s)) }
	dim := func(fields ...[]byte) []byte { return bytesField(shapeDim, msg(fields...)) }
	tensorType := func(elem uint64, dims ...[]byte) []byte {
		tt := varint(tensorTypeElemType, elem)
		if dims != nil {
			tt = append(tt, bytesField(tensorTypeShape, msg(dims...))...)
		}
		return bytesField(typeTensor, tt)
	}
	value := func(name string, typ []byte) []byte {
		return msg(str(valueInfoName, name), bytesField(valueInfoType, typ))
	}
	graph := msg(
		bytesField(graphInput, value("X", tensorType(1, dim(), dim(varint(dimValue, 3))))),
		bytesField(graphInput, value("W", tensorType(1, dim(varint(dimValue, 3))))),
		bytesField(graphInitializer, msg(varint(1, 3), varint(2, 1), str(tensorName, "W"))),
		bytesField(graphOutput, value("S", tensorType(8))),
		bytesField(graphOutput, value("Q", bytesField(typeSequence, nil))),
		str(graphName, "hand"),
	)
	return msg(
		varint(modelIRVersion, 3),
		bytesField(modelOpsetImport, msg(str(opsetDomain, "ai.onnx.ml"), varint(opsetVersion, 1))),
		bytesField(modelMetadataProps, msg(str(entryKey, "author"), str(entryValue, "wasinfer"))),
		bytesField(modelGraph, graph),
	)
}

func concatBytes(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}
