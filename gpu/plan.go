//go:build cgo

package gpu

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/tensor"
)

// A plan binds one input schema to the model: which column feeds which
// model input, how a row's shape is found, which columns pass through and
// what the output columns are called. Plans are made once per schema and
// cached by the pool; they hold no batch data.

// colLayout is how a column holds the rows of a model input.
type colLayout int

const (
	layoutPrimitive  colLayout = iota + 1 // one element per row: a [batch] input
	layoutFixed                           // fixed_shape_tensor or fixed_size_list: rows of equal size
	layoutList                            // list / large_list: rows must agree on their length
	layoutStringList                      // fixed_size_list<utf8> of strings
)

type inputPlan struct {
	model    ValueInfo
	col      int    // index in the schema
	colName  string //
	colType  string // the column's type, for errors
	layout   colLayout
	valueID  arrow.Type // the Arrow type of the elements
	rowShape []int64    // per-row shape; entries -1 resolved per batch (list layout)
}

type outputPlan struct {
	model   ValueInfo
	colName string
}

type plan struct {
	inputs   []inputPlan
	outputs  []outputPlan
	keep     []int // schema indices of pass-through columns
	keepFlds []arrow.Field
	batchFix int64 // > 0: the model's fixed batch size, runs are made of this many rows
}

// elemOfArrow returns the ONNX element type that an Arrow value type holds
// as is (no conversion), or ElemUndefined.
func elemOfArrow(id arrow.Type) ElementType {
	switch id {
	case arrow.FLOAT32:
		return ElemFloat32
	case arrow.FLOAT64:
		return ElemFloat64
	case arrow.FLOAT16:
		return ElemFloat16
	case arrow.INT8:
		return ElemInt8
	case arrow.INT16:
		return ElemInt16
	case arrow.INT32:
		return ElemInt32
	case arrow.INT64:
		return ElemInt64
	case arrow.UINT8:
		return ElemUint8
	case arrow.UINT16:
		return ElemUint16
	case arrow.UINT32:
		return ElemUint32
	case arrow.UINT64:
		return ElemUint64
	case arrow.BOOL:
		return ElemBool
	case arrow.STRING, arrow.LARGE_STRING:
		return ElemString
	}
	return ElemUndefined
}

// arrowOfElem returns the Arrow type an output of element type e becomes:
// bfloat16 becomes float32 (exact), the others their own type.
func arrowOfElem(e ElementType) (arrow.DataType, bool) {
	switch e {
	case ElemFloat32, ElemBFloat16:
		return arrow.PrimitiveTypes.Float32, true
	case ElemFloat64:
		return arrow.PrimitiveTypes.Float64, true
	case ElemFloat16:
		return arrow.FixedWidthTypes.Float16, true
	case ElemInt8:
		return arrow.PrimitiveTypes.Int8, true
	case ElemInt16:
		return arrow.PrimitiveTypes.Int16, true
	case ElemInt32:
		return arrow.PrimitiveTypes.Int32, true
	case ElemInt64:
		return arrow.PrimitiveTypes.Int64, true
	case ElemUint8:
		return arrow.PrimitiveTypes.Uint8, true
	case ElemUint16:
		return arrow.PrimitiveTypes.Uint16, true
	case ElemUint32:
		return arrow.PrimitiveTypes.Uint32, true
	case ElemUint64:
		return arrow.PrimitiveTypes.Uint64, true
	case ElemBool:
		return arrow.FixedWidthTypes.Boolean, true
	case ElemString:
		return arrow.BinaryTypes.String, true
	}
	return nil, false
}

// supportedElem reports whether a model stage can bind tensors of e.
func supportedElem(e ElementType) bool {
	_, ok := arrowOfElem(e)
	return ok
}

// elemAccepts reports whether a column of Arrow element type id can feed a
// model input of element type e: the same type, or float32 for bfloat16
// (rounded to nearest even while copying).
func elemAccepts(e ElementType, id arrow.Type) bool {
	if e == ElemBFloat16 {
		return id == arrow.FLOAT32
	}
	return elemOfArrow(id) == e
}

// modelShape returns the model's shape as wasinfer writes it in errors.
func modelShape(v ValueInfo) string { return v.Type() }

func ints64(v []int64) string {
	parts := make([]string, len(v))
	for i, d := range v {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// makePlan binds schema to the model's inputs (ins, in model order) and the
// selected outputs (outs, each with its column name).
func makePlan(schema *arrow.Schema, ins []ValueInfo, outs []outputPlan, inputMap map[string]string, keep []string, keepSet bool) (*plan, error) {
	p := &plan{outputs: outs}
	consumed := map[int]bool{}
	for _, in := range ins {
		colName := in.Name
		if c, ok := inputMap[in.Name]; ok && c != "" {
			colName = c
		}
		idx := schema.FieldIndices(colName)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%w: model input %q (%s) reads column %q, which the batch does not have (columns: %s); map it with WithInputs / inputs: {%s: COLUMN}",
				ErrBinding, in.Name, modelShape(in), colName, columnList(schema), in.Name)
		}
		if len(idx) > 1 {
			return nil, fmt.Errorf("%w: model input %q reads column %q, which the batch has %d times", ErrBinding, in.Name, colName, len(idx))
		}
		ip, err := planInput(in, schema.Field(idx[0]))
		if err != nil {
			return nil, err
		}
		ip.col = idx[0]
		p.inputs = append(p.inputs, ip)
		consumed[idx[0]] = true
	}
	if err := p.checkBatchAxis(); err != nil {
		return nil, err
	}
	if keepSet {
		for _, k := range keep {
			idx := schema.FieldIndices(k)
			if len(idx) != 1 {
				return nil, fmt.Errorf("%w: keep column %q: the batch has %d columns of that name (columns: %s)", ErrBinding, k, len(idx), columnList(schema))
			}
			p.keep = append(p.keep, idx[0])
		}
	} else {
		for i := range schema.NumFields() {
			if !consumed[i] {
				p.keep = append(p.keep, i)
			}
		}
	}
	names := map[string]string{}
	for _, i := range p.keep {
		f := schema.Field(i)
		p.keepFlds = append(p.keepFlds, f)
		names[f.Name] = "input column"
	}
	for _, o := range outs {
		if what, dup := names[o.colName]; dup {
			return nil, fmt.Errorf("%w: model output %q would be column %q, but the output already has a%s %s of that name; rename it with WithOutputs / outputs: {%s: NEW_NAME} or drop the input column with keep",
				ErrBinding, o.model.Name, o.colName, map[bool]string{true: "n", false: ""}[strings.HasPrefix(what, "i")], what, o.model.Name)
		}
		names[o.colName] = "model output"
	}
	return p, nil
}

func columnList(schema *arrow.Schema) string {
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = strconv.Quote(f.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// planInput checks that column f can feed model input in, and works out
// its per-row shape.
func planInput(in ValueInfo, f arrow.Field) (inputPlan, error) {
	ip := inputPlan{model: in, colName: f.Name, colType: f.Type.String()}
	mismatch := func(why string) error {
		return fmt.Errorf("%w: model input %q wants %s; column %q is %s: %s",
			ErrBinding, in.Name, modelShape(in), f.Name, f.Type, why)
	}
	if in.Kind != KindTensor {
		return ip, fmt.Errorf("%w: model input %q is a %s; a model stage feeds tensors only", ErrBinding, in.Name, in.Kind)
	}
	rank := -1 // unknown
	if in.Shape != nil {
		rank = len(in.Shape)
	}
	if rank == 0 {
		return ip, fmt.Errorf("%w: model input %q is a scalar (rank 0); a model stage feeds inputs whose first dimension is the batch", ErrBinding, in.Name)
	}
	wantRow := rank - 1 // dimensions per row; -1 when unknown

	var valueType arrow.DataType
	switch t := f.Type.(type) {
	case *tensor.FixedShapeType:
		ip.layout = layoutFixed
		valueType = t.ValueType()
		for _, d := range t.Shape() {
			ip.rowShape = append(ip.rowShape, int64(d))
		}
		if t.Permutation() != nil && !isIdentity(t.Permutation()) {
			return ip, mismatch(fmt.Sprintf("its permutation %v is not the identity; the model reads the physical (row-major) layout: transpose it in a UDF first", t.Permutation()))
		}
	case *arrow.FixedSizeListType:
		ip.layout = layoutFixed
		valueType = t.Elem()
		n := int64(t.Len())
		switch wantRow {
		case 1, -1:
			ip.rowShape = []int64{n}
		case 0:
			ip.rowShape = []int64{n} // refused below: a list column for a [batch] input
		default:
			shape, err := inferRowShape(in.Shape[1:], n)
			if err != nil {
				return ip, mismatch(err.Error())
			}
			ip.rowShape = shape
		}
	case *arrow.ListType, *arrow.LargeListType:
		ip.layout = layoutList
		valueType = t.(arrow.ListLikeType).Elem()
		if wantRow >= 2 {
			return ip, mismatch(fmt.Sprintf("a list column gives one dimension per row, the model wants %d; use a fixed_shape_tensor column", wantRow))
		}
		ip.rowShape = []int64{-1}
	default:
		ip.layout = layoutPrimitive
		valueType = f.Type
	}

	ip.valueID = valueType.ID()
	if in.Elem == ElemString && ip.layout == layoutFixed && ip.valueID != arrow.STRING && ip.valueID != arrow.LARGE_STRING {
		return ip, mismatch("the model wants strings")
	}
	if in.Elem == ElemString && ip.layout == layoutFixed {
		if _, ok := f.Type.(*arrow.FixedSizeListType); !ok {
			return ip, mismatch("strings come in a string column or a fixed_size_list<utf8> column")
		}
		ip.layout = layoutStringList
	}
	if in.Elem == ElemString && ip.layout == layoutList {
		return ip, mismatch("a list of strings per row must have one length: use fixed_size_list<utf8>")
	}
	if !supportedElem(in.Elem) {
		return ip, fmt.Errorf("%w: model input %q has element type %s, which a model stage cannot feed", ErrBinding, in.Name, in.Elem)
	}
	if !elemAccepts(in.Elem, ip.valueID) {
		want := in.Elem.String()
		if in.Elem == ElemBFloat16 {
			want = "float32 (converted to bfloat16)"
		}
		return ip, mismatch(fmt.Sprintf("its elements are %s, the model's are %s; convert them in a UDF stage before the model", valueType, want))
	}
	if ip.valueID == arrow.BOOL && ip.layout == layoutList {
		return ip, mismatch("lists of bool are not supported; use a fixed_shape_tensor<bool> or uint8 column")
	}

	// Shapes.
	if ip.layout == layoutPrimitive {
		if wantRow > 0 {
			return ip, mismatch(fmt.Sprintf("a column of one %s per row feeds a [batch] input; the model wants %d more dimension(s): use a fixed_shape_tensor column", valueType, wantRow))
		}
		ip.rowShape = nil
		return ip, nil
	}
	if wantRow == 0 {
		return ip, mismatch("the model wants one value per row: use a primitive column")
	}
	if wantRow > 0 && len(ip.rowShape) != wantRow {
		return ip, mismatch(fmt.Sprintf("its rows are %s (%d dimensions), the model wants %d dimensions per row %s",
			ints64(ip.rowShape), len(ip.rowShape), wantRow, formatDims(in.Shape[1:])))
	}
	if wantRow > 0 {
		for i, d := range in.Shape[1:] {
			if d.Fixed() && ip.rowShape[i] >= 0 && ip.rowShape[i] != d.Value {
				return ip, mismatch(fmt.Sprintf("its rows are %s, the model wants %s: dimension %d is %d, want %d",
					ints64(ip.rowShape), formatDims(in.Shape[1:]), i+1, ip.rowShape[i], d.Value))
			}
		}
	}
	return ip, nil
}

// inferRowShape fits n values per row to the model's per-row dims: fixed
// dims must multiply to n, and at most one symbolic dim is worked out.
func inferRowShape(dims []Dim, n int64) ([]int64, error) {
	shape := make([]int64, len(dims))
	prod, free := int64(1), -1
	for i, d := range dims {
		if d.Fixed() {
			shape[i] = d.Value
			prod *= d.Value
			continue
		}
		if free >= 0 {
			return nil, fmt.Errorf("its rows are %d values, and the model's row shape %s has more than one symbolic dimension: use a fixed_shape_tensor column to give the shape", n, formatDims(dims))
		}
		free = i
	}
	switch {
	case free < 0 && prod != n:
		return nil, fmt.Errorf("its rows are %d values, the model's row shape %s holds %d", n, formatDims(dims), prod)
	case free >= 0 && (prod == 0 || n%prod != 0):
		return nil, fmt.Errorf("its rows are %d values, which the model's row shape %s cannot hold", n, formatDims(dims))
	case free >= 0:
		shape[free] = n / prod
	}
	return shape, nil
}

func isIdentity(p []int) bool {
	for i, v := range p {
		if i != v {
			return false
		}
	}
	return true
}

// checkBatchAxis works out whether the model fixes its batch size (axis 0
// of the inputs is a number, as in models exported for one image at a time):
// then batches run in pieces of that many rows.
func (p *plan) checkBatchAxis() error {
	var first string
	for _, ip := range p.inputs {
		if len(ip.model.Shape) == 0 || !ip.model.Shape[0].Fixed() {
			continue
		}
		d := ip.model.Shape[0].Value
		if d < 1 {
			return fmt.Errorf("%w: model input %q has a batch dimension of %d", ErrBinding, ip.model.Name, d)
		}
		if p.batchFix == 0 {
			p.batchFix, first = d, ip.model.Name
		} else if p.batchFix != d {
			return fmt.Errorf("%w: model inputs %q and %q fix the batch dimension to %d and %d; a model stage needs one batch size", ErrBinding, first, ip.model.Name, p.batchFix, d)
		}
	}
	return nil
}

// outputSchema returns the output schema for the given output types.
func (p *plan) outputSchema(outTypes []arrow.DataType) *arrow.Schema {
	fields := slices.Clone(p.keepFlds)
	for i, o := range p.outputs {
		fields = append(fields, arrow.Field{Name: o.colName, Type: outTypes[i], Nullable: false})
	}
	return arrow.NewSchema(fields, nil)
}

// outputType returns the Arrow type of an output whose per-row shape is
// rowShape: a primitive for [batch] outputs, fixed_size_list<utf8> for string
// tensors, else a fixed_shape_tensor.
func outputType(e ElementType, rowShape []int64) (arrow.DataType, error) {
	vt, ok := arrowOfElem(e)
	if !ok {
		return nil, fmt.Errorf("element type %s is not supported", e)
	}
	if len(rowShape) == 0 {
		return vt, nil
	}
	size := int64(1)
	shape := make([]int, len(rowShape))
	for i, d := range rowShape {
		if d < 1 {
			return nil, fmt.Errorf("row shape %s has a dimension of %d; an Arrow tensor column needs every dimension at least 1", ints64(rowShape), d)
		}
		shape[i] = int(d)
		size *= d
	}
	if e == ElemString {
		if size > 1<<31-1 {
			return nil, fmt.Errorf("row shape %s is too large", ints64(rowShape))
		}
		return arrow.FixedSizeListOf(int32(size), vt), nil
	}
	return tensor.NewFixedShapeType(vt, shape)
}
