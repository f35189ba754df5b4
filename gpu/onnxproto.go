package gpu

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file reads the few fields of an ONNX ModelProto (onnx/onnx.proto3)
// that admission and Inspect need, straight from the protobuf wire format:
// no generated code, no copy of the weights. The bytes are untrusted (a model
// file from anywhere): every length is checked by protowire, nesting is
// bounded, and an error names the message and field where the bytes stopped
// making sense. FuzzParseModel fuzzes it.

// Field numbers of onnx.proto3 (ONNX 1.12 and later; numbers never change).
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelDomain          = 4
	modelModelVersion    = 5
	modelDocString       = 6
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14
	modelTrainingInfo    = 20
	modelFunctions       = 25

	opsetDomain  = 1
	opsetVersion = 2

	graphNode              = 1
	graphName              = 2
	graphInitializer       = 5
	graphInput             = 11
	graphOutput            = 12
	graphSparseInitializer = 15

	nodeAttribute = 5

	attrT             = 5
	attrG             = 6
	attrTensors       = 10
	attrGraphs        = 11
	attrSparseTensor  = 22
	attrSparseTensors = 23

	functionNode = 7

	trainingInitialization = 1
	trainingAlgorithm      = 2

	sparseValues  = 1
	sparseIndices = 2

	tensorName         = 8
	tensorExternalData = 13

	entryKey   = 1
	entryValue = 2

	valueInfoName = 1
	valueInfoType = 2

	typeTensor       = 1
	typeSequence     = 4
	typeMap          = 5
	typeSparseTensor = 8
	typeOptional     = 9

	tensorTypeElemType = 1
	tensorTypeShape    = 2

	shapeDim = 1

	dimValue = 1
	dimParam = 2
)

// maxGraphDepth bounds the nesting of subgraphs (If, Loop, Scan bodies and
// functions) the reader follows. Real models nest a few levels.
const maxGraphDepth = 64

// errNotONNX is wrapped by every parse error.
var errNotONNX = errors.New("not a valid ONNX model")

// externalRef is one tensor whose data lives in a file next to the model.
type externalRef struct {
	Tensor   string // the tensor's name
	Location string // the "location" entry of its external_data, as written
}

// parsedModel is what parseModel reads.
type parsedModel struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	GraphName       string
	Opsets          []Opset
	Inputs          []ValueInfo // graph inputs that are not initializers
	Outputs         []ValueInfo
	Initializers    int
	Metadata        map[string]string
	External        []externalRef
	hasGraph        bool
}

// field is one decoded field: its number and wire type, and its value (v
// for varints and fixed-width values, b for length-delimited ones).
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// eachField calls f for every field of the message encoded in b, in order.
// what names the message in errors; byte offsets in them count from the
// start of that message.
func eachField(what string, b []byte, f func(field) error) error {
	for off := 0; off < len(b); {
		start := off
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return fmt.Errorf("%w: %s: bad field tag at byte %d: %s", errNotONNX, what, off, wireError(n))
		}
		off += n
		fl := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			fl.v, n = protowire.ConsumeVarint(b[off:])
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b[off:])
			fl.v = uint64(v)
		case protowire.Fixed64Type:
			fl.v, n = protowire.ConsumeFixed64(b[off:])
		case protowire.BytesType:
			fl.b, n = protowire.ConsumeBytes(b[off:])
		default:
			// Groups are not part of proto3; skip them like any parser would.
			n = protowire.ConsumeFieldValue(num, typ, b[off:])
		}
		if n < 0 {
			return fmt.Errorf("%w: %s: field %d at byte %d: %s", errNotONNX, what, num, start, wireError(n))
		}
		off += n
		if err := f(fl); err != nil {
			return err
		}
	}
	return nil
}

// wireError says what a negative protowire length means. (protowire's own
// errors read "proto: ..." with a space that is sometimes U+00A0, on purpose;
// users get plain words.)
func wireError(n int) string {
	switch n {
	case -1:
		return "the data ends in the middle of the field (truncated file?)"
	case -2:
		return "invalid field number"
	case -3:
		return "a variable-length integer overflows"
	case -4:
		return "reserved wire type"
	case -5:
		return "mismatched end-group marker"
	case -6:
		return "nested too deep"
	}
	return fmt.Sprintf("malformed protobuf (code %d)", n)
}

// wantBytes checks that fl is length-delimited, as the field must be.
func (fl field) wantBytes(what string) error {
	if fl.typ != protowire.BytesType {
		return fmt.Errorf("%w: %s: field %d has wire type %d, want length-delimited", errNotONNX, what, fl.num, fl.typ)
	}
	return nil
}

func (fl field) wantVarint(what string) error {
	if fl.typ != protowire.VarintType {
		return fmt.Errorf("%w: %s: field %d has wire type %d, want varint", errNotONNX, what, fl.num, fl.typ)
	}
	return nil
}

func (fl field) str(what string) (string, error) {
	if err := fl.wantBytes(what); err != nil {
		return "", err
	}
	if !utf8.Valid(fl.b) {
		return "", fmt.Errorf("%w: %s: field %d is not valid UTF-8", errNotONNX, what, fl.num)
	}
	return string(fl.b), nil
}

// parseModel reads a serialized ModelProto.
func parseModel(b []byte) (*parsedModel, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", errNotONNX)
	}
	m := &parsedModel{}
	var graph []byte
	err := eachField("ModelProto", b, func(fl field) error {
		var err error
		switch fl.num {
		case modelIRVersion:
			if err = fl.wantVarint("ModelProto.ir_version"); err == nil {
				m.IRVersion = int64(fl.v)
			}
		case modelProducerName:
			m.ProducerName, err = fl.str("ModelProto.producer_name")
		case modelProducerVersion:
			m.ProducerVersion, err = fl.str("ModelProto.producer_version")
		case modelDomain:
			m.Domain, err = fl.str("ModelProto.domain")
		case modelModelVersion:
			if err = fl.wantVarint("ModelProto.model_version"); err == nil {
				m.ModelVersion = int64(fl.v)
			}
		case modelDocString:
			m.DocString, err = fl.str("ModelProto.doc_string")
		case modelGraph:
			if err = fl.wantBytes("ModelProto.graph"); err == nil {
				graph = fl.b // the last one wins, as in protobuf
				m.hasGraph = true
			}
		case modelOpsetImport:
			var o Opset
			if o, err = parseOpset(fl); err == nil {
				m.Opsets = append(m.Opsets, o)
			}
		case modelMetadataProps:
			var k, v string
			if k, v, err = parseEntry("ModelProto.metadata_props", fl); err == nil {
				if m.Metadata == nil {
					m.Metadata = map[string]string{}
				}
				m.Metadata[k] = v
			}
		case modelTrainingInfo:
			if err = fl.wantBytes("ModelProto.training_info"); err == nil {
				err = m.walkTrainingInfo(fl.b)
			}
		case modelFunctions:
			if err = fl.wantBytes("ModelProto.functions"); err == nil {
				err = m.walkFunction(fl.b, 1)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !m.hasGraph {
		return nil, fmt.Errorf("%w: ModelProto has no graph", errNotONNX)
	}
	if m.IRVersion <= 0 {
		return nil, fmt.Errorf("%w: ModelProto has no ir_version", errNotONNX)
	}
	if len(m.Opsets) == 0 {
		return nil, fmt.Errorf("%w: ModelProto has no opset_import", errNotONNX)
	}
	if err := m.walkMainGraph(graph); err != nil {
		return nil, err
	}
	return m, nil
}

func parseOpset(fl field) (Opset, error) {
	var o Opset
	if err := fl.wantBytes("ModelProto.opset_import"); err != nil {
		return o, err
	}
	err := eachField("OperatorSetIdProto", fl.b, func(f field) error {
		var err error
		switch f.num {
		case opsetDomain:
			o.Domain, err = f.str("OperatorSetIdProto.domain")
		case opsetVersion:
			if err = f.wantVarint("OperatorSetIdProto.version"); err == nil {
				o.Version = int64(f.v)
			}
		}
		return err
	})
	return o, err
}

func parseEntry(what string, fl field) (key, value string, err error) {
	if werr := fl.wantBytes(what); werr != nil {
		return "", "", werr
	}
	err = eachField("StringStringEntryProto", fl.b, func(f field) error {
		var err error
		switch f.num {
		case entryKey:
			key, err = f.str(what + ".key")
		case entryValue:
			value, err = f.str(what + ".value")
		}
		return err
	})
	return key, value, err
}

// walkMainGraph reads the top-level graph: its name, inputs, outputs and
// initializers, and every tensor in it for external data.
func (m *parsedModel) walkMainGraph(b []byte) error {
	var inputs []ValueInfo
	inits := map[string]bool{}
	err := eachField("GraphProto", b, func(fl field) error {
		var err error
		switch fl.num {
		case graphName:
			m.GraphName, err = fl.str("GraphProto.name")
		case graphInput, graphOutput:
			if werr := fl.wantBytes("GraphProto.input"); werr != nil {
				return werr
			}
			vi, verr := parseValueInfo(fl.b)
			if verr != nil {
				return verr
			}
			if fl.num == graphInput {
				inputs = append(inputs, vi)
			} else {
				m.Outputs = append(m.Outputs, vi)
			}
		case graphInitializer:
			if werr := fl.wantBytes("GraphProto.initializer"); werr != nil {
				return werr
			}
			var name string
			if name, err = m.walkTensor(fl.b); err == nil {
				inits[name] = true
				m.Initializers++
			}
		case graphSparseInitializer:
			if err = fl.wantBytes("GraphProto.sparse_initializer"); err == nil {
				err = m.walkSparse(fl.b)
				m.Initializers++
			}
		case graphNode:
			if err = fl.wantBytes("GraphProto.node"); err == nil {
				err = m.walkNode(fl.b, 1)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	// Before IR version 4 initializers were also listed as inputs; they are
	// not inputs a caller must feed (an input with an initializer of the same
	// name has a default, and is left out here too).
	for _, in := range inputs {
		if !inits[in.Name] {
			m.Inputs = append(m.Inputs, in)
		}
	}
	return nil
}

// walkGraph visits a subgraph's tensors only.
func (m *parsedModel) walkGraph(b []byte, depth int) error {
	if depth > maxGraphDepth {
		return fmt.Errorf("%w: subgraphs nested more than %d deep", errNotONNX, maxGraphDepth)
	}
	return eachField("GraphProto", b, func(fl field) error {
		var err error
		switch fl.num {
		case graphInitializer:
			if err = fl.wantBytes("GraphProto.initializer"); err == nil {
				_, err = m.walkTensor(fl.b)
			}
		case graphSparseInitializer:
			if err = fl.wantBytes("GraphProto.sparse_initializer"); err == nil {
				err = m.walkSparse(fl.b)
			}
		case graphNode:
			if err = fl.wantBytes("GraphProto.node"); err == nil {
				err = m.walkNode(fl.b, depth)
			}
		}
		return err
	})
}

func (m *parsedModel) walkNode(b []byte, depth int) error {
	return eachField("NodeProto", b, func(fl field) error {
		if fl.num != nodeAttribute {
			return nil
		}
		if err := fl.wantBytes("NodeProto.attribute"); err != nil {
			return err
		}
		return eachField("AttributeProto", fl.b, func(a field) error {
			var err error
			switch a.num {
			case attrT, attrTensors:
				if err = a.wantBytes("AttributeProto.t"); err == nil {
					_, err = m.walkTensor(a.b)
				}
			case attrSparseTensor, attrSparseTensors:
				if err = a.wantBytes("AttributeProto.sparse_tensor"); err == nil {
					err = m.walkSparse(a.b)
				}
			case attrG, attrGraphs:
				if err = a.wantBytes("AttributeProto.g"); err == nil {
					err = m.walkGraph(a.b, depth+1)
				}
			}
			return err
		})
	})
}

func (m *parsedModel) walkFunction(b []byte, depth int) error {
	return eachField("FunctionProto", b, func(fl field) error {
		if fl.num != functionNode {
			return nil
		}
		if err := fl.wantBytes("FunctionProto.node"); err != nil {
			return err
		}
		return m.walkNode(fl.b, depth)
	})
}

func (m *parsedModel) walkTrainingInfo(b []byte) error {
	return eachField("TrainingInfoProto", b, func(fl field) error {
		if fl.num != trainingInitialization && fl.num != trainingAlgorithm {
			return nil
		}
		if err := fl.wantBytes("TrainingInfoProto.algorithm"); err != nil {
			return err
		}
		return m.walkGraph(fl.b, 1)
	})
}

func (m *parsedModel) walkSparse(b []byte) error {
	return eachField("SparseTensorProto", b, func(fl field) error {
		if fl.num != sparseValues && fl.num != sparseIndices {
			return nil
		}
		if err := fl.wantBytes("SparseTensorProto.values"); err != nil {
			return err
		}
		_, err := m.walkTensor(fl.b)
		return err
	})
}

// walkTensor reads a TensorProto's name and records its external data
// location, if it has one.
func (m *parsedModel) walkTensor(b []byte) (string, error) {
	var name string
	var locs []string
	err := eachField("TensorProto", b, func(fl field) error {
		var err error
		switch fl.num {
		case tensorName:
			name, err = fl.str("TensorProto.name")
		case tensorExternalData:
			var k, v string
			if k, v, err = parseEntry("TensorProto.external_data", fl); err == nil && k == "location" {
				locs = append(locs, v)
			}
		}
		return err
	})
	for _, l := range locs {
		m.External = append(m.External, externalRef{Tensor: name, Location: l})
	}
	return name, err
}

func parseValueInfo(b []byte) (ValueInfo, error) {
	vi := ValueInfo{Kind: KindUnknown}
	err := eachField("ValueInfoProto", b, func(fl field) error {
		var err error
		switch fl.num {
		case valueInfoName:
			vi.Name, err = fl.str("ValueInfoProto.name")
		case valueInfoType:
			if err = fl.wantBytes("ValueInfoProto.type"); err == nil {
				err = parseType(fl.b, &vi)
			}
		}
		return err
	})
	return vi, err
}

func parseType(b []byte, vi *ValueInfo) error {
	return eachField("TypeProto", b, func(fl field) error {
		switch fl.num {
		case typeTensor, typeSparseTensor:
			if err := fl.wantBytes("TypeProto.tensor_type"); err != nil {
				return err
			}
			vi.Kind = KindTensor
			if fl.num == typeSparseTensor {
				vi.Kind = KindSparseTensor
			}
			return parseTensorType(fl.b, vi)
		case typeSequence:
			vi.Kind = KindSequence
		case typeMap:
			vi.Kind = KindMap
		case typeOptional:
			vi.Kind = KindOptional
		}
		return nil
	})
}

func parseTensorType(b []byte, vi *ValueInfo) error {
	return eachField("TypeProto.Tensor", b, func(fl field) error {
		switch fl.num {
		case tensorTypeElemType:
			if err := fl.wantVarint("TypeProto.Tensor.elem_type"); err != nil {
				return err
			}
			vi.Elem = ElementType(int32(fl.v))
		case tensorTypeShape:
			if err := fl.wantBytes("TypeProto.Tensor.shape"); err != nil {
				return err
			}
			vi.Shape = []Dim{}
			return eachField("TensorShapeProto", fl.b, func(d field) error {
				if d.num != shapeDim {
					return nil
				}
				if err := d.wantBytes("TensorShapeProto.dim"); err != nil {
					return err
				}
				dim := Dim{Value: -1}
				err := eachField("TensorShapeProto.Dimension", d.b, func(x field) error {
					var err error
					switch x.num {
					case dimValue:
						if err = x.wantVarint("Dimension.dim_value"); err == nil {
							dim.Value = int64(x.v)
						}
					case dimParam:
						dim.Param, err = x.str("Dimension.dim_param")
					}
					return err
				})
				vi.Shape = append(vi.Shape, dim)
				return err
			})
		}
		return nil
	})
}
