package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

const digitsModel = "../../examples/digits/train/digits.onnx"

func TestModelInspect(t *testing.T) {
	st, err := os.Stat(digitsModel)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "model", "inspect", digitsModel)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "model:         " + digitsModel + "\n" +
		"size:          " + strconv.FormatInt(st.Size(), 10) + " bytes\n" +
		"ir version:    7\n" +
		"opsets:        ai.onnx 13\n" +
		"producer:      wasinfer examples/digits/train/train.py 1.13.0\n" +
		"graph:         torch_jit\n" +
		"doc:           CNN trained on scikit-learn digits; input pixels/16 as float32 [N,1,8,8]; output logits [N,10]\n" +
		"initializers:  8\n" +
		"inputs:\n" +
		"  pixels  float32[N,1,8,8]\n" +
		"outputs:\n" +
		"  logits  float32[N,10]\n"
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}
}

func TestModelInspectJSON(t *testing.T) {
	code, out, errs := runCLI(t, "model", "inspect", "--json", "../../gpu/testdata/external.onnx")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Opset        int64    `json:"opset"`
		ExternalData []string `json:"external_data"`
		Inputs       []struct {
			Name  string   `json:"name"`
			Elem  string   `json:"elem_type"`
			Shape []string `json:"shape"`
			Type  string   `json:"type"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Opset != 17 || len(got.ExternalData) != 1 || got.ExternalData[0] != "external.bin" || len(got.Inputs) != 1 ||
		got.Inputs[0].Name != "X" || got.Inputs[0].Elem != "float32" || got.Inputs[0].Type != "float32[N,4]" || len(got.Inputs[0].Shape) != 2 || got.Inputs[0].Shape[0] != "N" {
		t.Fatalf("JSON:\n%s", out)
	}
}

func TestModelInspectErrors(t *testing.T) {
	notONNX := filepath.Join(t.TempDir(), "hello.onnx")
	if err := os.WriteFile(notONNX, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"model", "inspect"}, exitUsage, "wasinfer: model inspect: want exactly one MODEL.onnx argument, got 0\n"},
		{[]string{"model", "inspect", "../../gpu/testdata/escape_dotdot.onnx"}, exitFail,
			"wasinfer: gpu: model refused: external data outside the model's directory: ../../gpu/testdata/escape_dotdot.onnx: tensor \"W\": external data location \"../outside.bin\" leads out of the model's directory; external data must be a relative path inside ../../gpu/testdata\n"},
		{[]string{"model", "inspect", notONNX}, exitFail,
			"wasinfer: gpu: model refused: " + notONNX + ": not a valid ONNX model: ModelProto: field 13 at byte 2: mismatched end-group marker\n"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, c.args...)
		if code != c.code || out != "" || errs != c.want {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit %d, stderr:\n%s", c.args, code, out, errs, c.code, c.want)
		}
	}
}
