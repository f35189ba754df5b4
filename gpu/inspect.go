package gpu

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ElementType is an ONNX tensor element type; the values are those of
// onnx.TensorProto.DataType (and of ONNX Runtime's
// ONNXTensorElementDataType).
type ElementType int32

// The ONNX element types.
const (
	ElemUndefined  ElementType = 0
	ElemFloat32    ElementType = 1
	ElemUint8      ElementType = 2
	ElemInt8       ElementType = 3
	ElemUint16     ElementType = 4
	ElemInt16      ElementType = 5
	ElemInt32      ElementType = 6
	ElemInt64      ElementType = 7
	ElemString     ElementType = 8
	ElemBool       ElementType = 9
	ElemFloat16    ElementType = 10
	ElemFloat64    ElementType = 11
	ElemUint32     ElementType = 12
	ElemUint64     ElementType = 13
	ElemComplex64  ElementType = 14
	ElemComplex128 ElementType = 15
	ElemBFloat16   ElementType = 16
)

var elemNames = map[ElementType]string{
	ElemUndefined: "undefined", ElemFloat32: "float32", ElemUint8: "uint8", ElemInt8: "int8",
	ElemUint16: "uint16", ElemInt16: "int16", ElemInt32: "int32", ElemInt64: "int64",
	ElemString: "string", ElemBool: "bool", ElemFloat16: "float16", ElemFloat64: "float64",
	ElemUint32: "uint32", ElemUint64: "uint64", ElemComplex64: "complex64",
	ElemComplex128: "complex128", ElemBFloat16: "bfloat16",
	17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz",
	21: "uint4", 22: "int4", 23: "float4e2m1",
}

// String returns the type's name as Arrow spells it where Arrow has the type
// ("float32", "int64", "float16"), else ONNX's name in lower case
// ("bfloat16", "string").
func (t ElementType) String() string {
	if s, ok := elemNames[t]; ok {
		return s
	}
	return "elem_type(" + strconv.Itoa(int(t)) + ")"
}

// Size returns the size of one element in bytes, or 0 for types that are not
// fixed-width bytes (string, bool is 1, sub-byte types 0).
func (t ElementType) Size() int {
	switch t {
	case ElemUint8, ElemInt8, ElemBool:
		return 1
	case ElemUint16, ElemInt16, ElemFloat16, ElemBFloat16:
		return 2
	case ElemFloat32, ElemInt32, ElemUint32:
		return 4
	case ElemFloat64, ElemInt64, ElemUint64, ElemComplex64:
		return 8
	case ElemComplex128:
		return 16
	}
	return 0
}

// Dim is one dimension of a tensor shape: a fixed size (Value >= 0), or a
// symbolic one (Value -1) with its name (Param, "" when the model gives
// none).
type Dim struct {
	Value int64  `json:"value"`
	Param string `json:"param,omitempty"`
}

// Fixed reports whether the dimension has a fixed size.
func (d Dim) Fixed() bool { return d.Value >= 0 }

// String returns the size, the symbol's name, or "?" for an unnamed
// symbolic dimension.
func (d Dim) String() string {
	switch {
	case d.Value >= 0:
		return strconv.FormatInt(d.Value, 10)
	case d.Param != "":
		return d.Param
	}
	return "?"
}

// Kind is the kind of value a model input or output holds.
type Kind string

// Value kinds. Model stages bind tensors only.
const (
	KindTensor       Kind = "tensor"
	KindSparseTensor Kind = "sparse_tensor"
	KindSequence     Kind = "sequence"
	KindMap          Kind = "map"
	KindOptional     Kind = "optional"
	KindUnknown      Kind = "unknown"
)

// ValueInfo describes one input or output of a model.
type ValueInfo struct {
	Name string      `json:"name"`
	Kind Kind        `json:"kind"`
	Elem ElementType `json:"-"`
	// Shape is nil when the model does not declare the rank.
	Shape []Dim `json:"shape"`
}

// Type returns the value's type as wasinfer writes it: "float32[N,1,8,8]",
// "string[?]", "int64" (a tensor of unknown rank), or the kind of a
// non-tensor value ("sequence").
func (v ValueInfo) Type() string {
	if v.Kind != KindTensor && v.Kind != KindSparseTensor {
		return string(v.Kind)
	}
	var b strings.Builder
	if v.Kind == KindSparseTensor {
		b.WriteString("sparse ")
	}
	b.WriteString(v.Elem.String())
	if v.Shape != nil {
		b.WriteString(formatDims(v.Shape))
	}
	return b.String()
}

func formatDims(dims []Dim) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Opset is one operator set a model imports. Domain "" is the default ONNX
// domain (ai.onnx).
type Opset struct {
	Domain  string `json:"domain"`
	Version int64  `json:"version"`
}

// ModelInfo is what Inspect reads from a model file.
type ModelInfo struct {
	Path            string            `json:"path"`
	Size            int64             `json:"size"` // bytes of the .onnx file, external data not included
	IRVersion       int64             `json:"ir_version"`
	Opsets          []Opset           `json:"opsets"`
	Producer        string            `json:"producer,omitempty"`
	ProducerVersion string            `json:"producer_version,omitempty"`
	Domain          string            `json:"domain,omitempty"`
	ModelVersion    int64             `json:"model_version,omitempty"`
	GraphName       string            `json:"graph_name,omitempty"`
	Doc             string            `json:"doc,omitempty"`
	Inputs          []ValueInfo       `json:"inputs"`
	Outputs         []ValueInfo       `json:"outputs"`
	Initializers    int               `json:"initializers"`
	ExternalData    []string          `json:"external_data,omitempty"` // locations, relative to the model's directory
	Metadata        map[string]string `json:"metadata,omitempty"`
}

// Opset returns the version of the default ONNX operator set (domain "" or
// "ai.onnx"), or 0 when the model does not import it.
func (m *ModelInfo) Opset() int64 {
	for _, o := range m.Opsets {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			return o.Version
		}
	}
	return 0
}

// Input returns the input named name.
func (m *ModelInfo) Input(name string) (ValueInfo, bool) { return findValue(m.Inputs, name) }

// Output returns the output named name.
func (m *ModelInfo) Output(name string) (ValueInfo, bool) { return findValue(m.Outputs, name) }

func findValue(vs []ValueInfo, name string) (ValueInfo, bool) {
	for _, v := range vs {
		if v.Name == name {
			return v, true
		}
	}
	return ValueInfo{}, false
}

// Inspect reads a model file and describes it: inputs and outputs (names,
// element types, shapes with symbolic dimensions), operator sets, producer,
// size. It reads the ModelProto itself and does not need ONNX Runtime, so it
// works in a build without cgo. Inputs that have an initializer (a default
// value) are not listed.
//
// Inspect is the admission check that Load runs too: it refuses a file that
// is not a readable ONNX model, and a model whose external data would be read
// from outside the model's directory.
//
// Cost: one read of the whole file; the weights are skipped, not decoded.
//
// # Errors
//
// Errors wrap [ErrModel] and name the file; a refused external-data path also
// wraps [ErrExternalData].
func Inspect(path string) (*ModelInfo, error) {
	b, size, err := readModel(path)
	if err != nil {
		return nil, err
	}
	p, err := parseModel(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrModel, path, err)
	}
	if err := checkExternalData(path, p.External); err != nil {
		return nil, err
	}
	info := &ModelInfo{
		Path:            path,
		Size:            size,
		IRVersion:       p.IRVersion,
		Opsets:          p.Opsets,
		Producer:        p.ProducerName,
		ProducerVersion: p.ProducerVersion,
		Domain:          p.Domain,
		ModelVersion:    p.ModelVersion,
		GraphName:       p.GraphName,
		Doc:             p.DocString,
		Inputs:          p.Inputs,
		Outputs:         p.Outputs,
		Initializers:    p.Initializers,
		Metadata:        p.Metadata,
	}
	seen := map[string]bool{}
	for _, e := range p.External {
		if !seen[e.Location] {
			seen[e.Location] = true
			info.ExternalData = append(info.ExternalData, e.Location)
		}
	}
	if info.Inputs == nil {
		info.Inputs = []ValueInfo{}
	}
	if info.Outputs == nil {
		info.Outputs = []ValueInfo{}
	}
	if len(info.Outputs) == 0 {
		return nil, fmt.Errorf("%w: %s: the graph has no outputs", ErrModel, path)
	}
	return info, nil
}

// maxModelBytes is the largest .onnx file Inspect reads: protobuf cannot
// encode a message past 2 GiB (larger models keep their weights in external
// data files).
const maxModelBytes = 2 << 30

func readModel(path string) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrModel, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if st.IsDir() {
		return nil, 0, fmt.Errorf("%w: %s is a directory, not a .onnx file", ErrModel, path)
	}
	if st.Size() > maxModelBytes {
		return nil, 0, fmt.Errorf("%w: %s: %d bytes is more than a protobuf message can hold (2 GiB); keep the weights in external data", ErrModel, path, st.Size())
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, 0, fmt.Errorf("%w: reading %s: %w", ErrModel, path, err)
	}
	return b, st.Size(), nil
}

// checkExternalData refuses external-data locations that are absolute or
// lead out of the model's directory (by "..", or by a symbolic link inside
// it), and locations that do not exist, before ONNX Runtime opens any of
// them.
func checkExternalData(modelPath string, refs []externalRef) error {
	if len(refs) == 0 {
		return nil
	}
	dir := filepath.Dir(modelPath)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("%w: %s: opening the model's directory for its external data: %w", ErrModel, modelPath, err)
	}
	defer root.Close()
	checked := map[string]bool{}
	for _, r := range refs {
		if checked[r.Location] {
			continue
		}
		checked[r.Location] = true
		loc := r.Location
		refuse := func(why string) error {
			return fmt.Errorf("%w: %s: tensor %q: external data location %q %s; external data must be a relative path inside %s",
				ErrExternalData, modelPath, r.Tensor, loc, why, dir)
		}
		switch {
		case loc == "":
			return refuse("is empty")
		case filepath.IsAbs(loc) || strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`):
			return refuse("is absolute")
		case strings.ContainsRune(loc, 0):
			return refuse("holds a NUL byte")
		case !filepath.IsLocal(loc):
			return refuse("leads out of the model's directory")
		}
		// os.Root refuses paths that escape through symbolic links too.
		f, err := root.Open(loc)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%w: %s: tensor %q: external data file %q does not exist in %s", ErrModel, modelPath, r.Tensor, loc, dir)
		case err != nil:
			// Chiefly: a symbolic link that points out of the directory.
			return refuse(fmt.Sprintf("cannot be opened inside the model's directory (%v)", err))
		}
		st, err := f.Stat()
		f.Close()
		if err == nil && !st.Mode().IsRegular() {
			return refuse("is not a regular file")
		}
	}
	return nil
}
