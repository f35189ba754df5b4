package tensor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// ExtensionName is the canonical name of the fixed shape tensor extension,
// stored under the field metadata key ARROW:extension:name.
const ExtensionName = "arrow.fixed_shape_tensor"

// ErrInvalidType is wrapped by every error that reports an invalid type
// definition: from [NewFixedShapeType], and from [FixedShapeType.Deserialize]
// when the serialized metadata or the storage type is not acceptable.
var ErrInvalidType = errors.New("tensor: invalid " + ExtensionName)

// FixedShapeType is the Arrow canonical extension type arrow.fixed_shape_tensor:
// every row holds one tensor of the same shape, stored as a
// fixed_size_list<value_type>[product(shape)] in row-major (C) order.
//
// A FixedShapeType is immutable and safe for concurrent use. Its accessors
// return copies, so callers may modify what they get.
type FixedShapeType struct {
	arrow.ExtensionBase

	valueType   arrow.DataType
	shape       []int
	dimNames    []string // nil when absent
	permutation []int    // nil when absent
	size        int
}

// Option configures the optional parameters of a [FixedShapeType].
type Option func(*config)

type config struct {
	dimNames    []string
	permutation []int
}

// WithDimNames names the dimensions of the physical (row-major) layout, one
// name per dimension, for example "H", "W", "C" for an image. Default: no
// names (the "dim_names" key is absent from the metadata).
func WithDimNames(names ...string) Option {
	return func(c *config) { c.dimNames = slices.Clone(names) }
}

// WithPermutation sets the permutation from the physical to the logical
// layout: logical dimension i is physical dimension p[i]. p must be a
// permutation of 0..ndim-1. Default: none (the "permutation" key is absent; the
// logical layout is the physical one).
func WithPermutation(p ...int) Option {
	return func(c *config) { c.permutation = slices.Clone(p) }
}

// NewFixedShapeType returns the tensor type whose rows are tensors of the
// given physical shape (row-major) with elements of valueType. The storage
// type is fixed_size_list<item: valueType>[product(shape)].
//
// valueType must be a fixed-width type such as uint8, int64, float16 or
// float32 (not nested, not variable width, not a dictionary or extension).
// Every dimension must be at least 1; shape may be empty (one scalar per row).
//
// # Errors
//
// Every error wraps [ErrInvalidType]: a non fixed-width value type, a
// dimension below 1, a product of dimensions above math.MaxInt32, dim names
// whose count differs from the number of dimensions, or a permutation that is
// not one of 0..ndim-1.
func NewFixedShapeType(valueType arrow.DataType, shape []int, opts ...Option) (*FixedShapeType, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkValueType(valueType); err != nil {
		return nil, err
	}
	size, err := checkShape(shape)
	if err != nil {
		return nil, err
	}
	return newType(arrow.FixedSizeListOf(int32(size), valueType), valueType, slices.Clone(shape), size, cfg.dimNames, cfg.permutation)
}

// newType checks the optional parameters and assembles the type. shape and
// size have been checked; the slices are owned by the new type.
func newType(storage *arrow.FixedSizeListType, valueType arrow.DataType, shape []int, size int, dimNames []string, perm []int) (*FixedShapeType, error) {
	if dimNames != nil {
		if len(dimNames) != len(shape) {
			return nil, fmt.Errorf("%w: %d dim_names for %d dimensions %s", ErrInvalidType, len(dimNames), len(shape), formatInts(shape))
		}
		if len(dimNames) == 0 {
			dimNames = nil
		}
	}
	if perm != nil {
		if err := checkPermutation(perm, len(shape)); err != nil {
			return nil, err
		}
		if len(perm) == 0 {
			perm = nil
		}
	}
	if shape == nil {
		shape = []int{}
	}
	return &FixedShapeType{
		ExtensionBase: arrow.ExtensionBase{Storage: storage},
		valueType:     valueType,
		shape:         shape,
		dimNames:      dimNames,
		permutation:   perm,
		size:          size,
	}, nil
}

func checkValueType(dt arrow.DataType) error {
	if dt == nil {
		return fmt.Errorf("%w: value type is nil", ErrInvalidType)
	}
	switch dt.ID() {
	case arrow.EXTENSION, arrow.DICTIONARY:
		return fmt.Errorf("%w: value type %s is not a fixed-width type", ErrInvalidType, dt)
	}
	if _, ok := dt.(arrow.FixedWidthDataType); !ok {
		return fmt.Errorf("%w: value type %s is not a fixed-width type", ErrInvalidType, dt)
	}
	return nil
}

func checkShape(shape []int) (int, error) {
	size := 1
	for i, d := range shape {
		if d < 1 {
			return 0, fmt.Errorf("%w: shape %s: dimension %d is %d; every dimension must be at least 1", ErrInvalidType, formatInts(shape), i, d)
		}
		if size > math.MaxInt32/d {
			return 0, fmt.Errorf("%w: shape %s holds more than %d values per row", ErrInvalidType, formatInts(shape), math.MaxInt32)
		}
		size *= d
	}
	return size, nil
}

func checkPermutation(perm []int, ndim int) error {
	if len(perm) != ndim {
		return fmt.Errorf("%w: permutation %s has %d entries for %d dimensions", ErrInvalidType, formatInts(perm), len(perm), ndim)
	}
	seen := make([]bool, ndim)
	for _, p := range perm {
		if p < 0 || p >= ndim || seen[p] {
			return fmt.Errorf("%w: permutation %s is not a permutation of 0..%d", ErrInvalidType, formatInts(perm), ndim-1)
		}
		seen[p] = true
	}
	return nil
}

// ValueType returns the type of the tensor elements.
func (t *FixedShapeType) ValueType() arrow.DataType { return t.valueType }

// Shape returns a copy of the physical shape (row-major).
func (t *FixedShapeType) Shape() []int { return slices.Clone(t.shape) }

// NDim returns the number of dimensions.
func (t *FixedShapeType) NDim() int { return len(t.shape) }

// Size returns the number of elements in one tensor: the product of the shape
// (1 for an empty shape) and the list size of the storage type.
func (t *FixedShapeType) Size() int { return t.size }

// DimNames returns a copy of the dimension names, or nil when the type has
// none.
func (t *FixedShapeType) DimNames() []string { return slices.Clone(t.dimNames) }

// Permutation returns a copy of the permutation, or nil when the type has
// none (the logical layout is the physical one).
func (t *FixedShapeType) Permutation() []int { return slices.Clone(t.permutation) }

// LogicalShape returns the shape of the logical layout:
// LogicalShape()[i] == Shape()[Permutation()[i]]. Without a permutation it
// equals Shape().
func (t *FixedShapeType) LogicalShape() []int {
	if t.permutation == nil {
		return t.Shape()
	}
	out := make([]int, len(t.shape))
	for i, p := range t.permutation {
		out[i] = t.shape[p]
	}
	return out
}

// ArrayType returns the type of the arrays of this type, [FixedShapeArray].
func (*FixedShapeType) ArrayType() reflect.Type { return reflect.TypeOf(FixedShapeArray{}) }

// ExtensionName returns [ExtensionName].
func (*FixedShapeType) ExtensionName() string { return ExtensionName }

// String returns, for example,
// extension<arrow.fixed_shape_tensor[value_type=float32, shape=[2,3], dim_names=[x,y]]>.
func (t *FixedShapeType) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "extension<%s[value_type=%s, shape=%s", ExtensionName, t.valueType, formatInts(t.shape))
	if t.dimNames != nil {
		fmt.Fprintf(&b, ", dim_names=[%s]", strings.Join(t.dimNames, ","))
	}
	if t.permutation != nil {
		fmt.Fprintf(&b, ", permutation=%s", formatInts(t.permutation))
	}
	b.WriteString("]>")
	return b.String()
}

// Fingerprint returns a string that identifies the type, shape and options
// included (arrow.ExtensionBase's fingerprint only covers the storage type).
func (t *FixedShapeType) Fingerprint() string {
	return t.ExtensionBase.Fingerprint() + "[" + ExtensionName + t.serialize(false) + "]"
}

// ExtensionEquals reports whether other is a fixed shape tensor type with an
// equal storage type, shape and dim names, and an equivalent permutation
// (an absent permutation equals the identity permutation).
func (t *FixedShapeType) ExtensionEquals(other arrow.ExtensionType) bool {
	o, ok := other.(*FixedShapeType)
	if !ok {
		return false
	}
	if t == o {
		return true
	}
	return arrow.TypeEqual(t.Storage, o.Storage) &&
		slices.Equal(t.shape, o.shape) &&
		slices.Equal(t.dimNames, o.dimNames) &&
		slices.Equal(t.normalPermutation(), o.normalPermutation())
}

// normalPermutation returns the permutation, or nil when it is absent or the
// identity.
func (t *FixedShapeType) normalPermutation() []int {
	for i, p := range t.permutation {
		if p != i {
			return t.permutation
		}
	}
	return nil
}

// metadataJSON is the serialized form. Slices that are nil are left out.
type metadataJSON struct {
	Shape       []int    `json:"shape"`
	DimNames    []string `json:"dim_names,omitempty"`
	Permutation []int    `json:"permutation,omitempty"`
}

// Serialize returns the metadata JSON stored under ARROW:extension:metadata,
// for example {"shape":[2,3],"dim_names":["x","y"]}. Optional keys are left
// out when absent.
func (t *FixedShapeType) Serialize() string { return t.serialize(true) }

func (t *FixedShapeType) serialize(keepIdentity bool) string {
	m := metadataJSON{Shape: t.shape, DimNames: t.dimNames, Permutation: t.permutation}
	if !keepIdentity {
		m.Permutation = t.normalPermutation()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		panic(err) // ints and strings always encode
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// maxQuoted bounds how much of a bad metadata string an error message quotes.
const maxQuoted = 120

// Deserialize builds the type from its storage type and the metadata JSON
// stored under ARROW:extension:metadata. The IPC and Parquet readers call it
// through the extension registry. Unknown JSON keys are ignored, so that
// metadata written by a newer version of the specification still loads; a
// key whose value is null counts as absent.
//
// # Errors
//
// Every error wraps [ErrInvalidType] and says what was wrong: a storage type
// that is not a fixed_size_list of a fixed-width type, metadata that is not a
// JSON object, a missing or malformed "shape", "dim_names" or "permutation",
// or a shape whose product differs from the storage list size.
func (*FixedShapeType) Deserialize(storage arrow.DataType, data string) (arrow.ExtensionType, error) {
	fsl, ok := storage.(*arrow.FixedSizeListType)
	if !ok {
		return nil, fmt.Errorf("%w: storage type %s is not a fixed_size_list", ErrInvalidType, storage)
	}
	if err := checkValueType(fsl.Elem()); err != nil {
		return nil, err
	}
	m, err := parseMetadata(data)
	if err != nil {
		return nil, err
	}
	size, err := checkShape(m.Shape)
	if err != nil {
		return nil, err
	}
	if size != int(fsl.Len()) {
		return nil, fmt.Errorf("%w: shape %s holds %d values per row but the storage type %s holds %d", ErrInvalidType, formatInts(m.Shape), size, storage, fsl.Len())
	}
	return newType(fsl, fsl.Elem(), m.Shape, size, m.DimNames, m.Permutation)
}

func parseMetadata(data string) (metadataJSON, error) {
	var m metadataJSON
	if strings.TrimSpace(data) == "" {
		return m, fmt.Errorf(`%w: metadata is empty; want a JSON object such as {"shape":[2,3]}`, ErrInvalidType)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &obj); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return m, fmt.Errorf("%w: metadata %s is not a JSON object", ErrInvalidType, quote(data))
		}
		return m, fmt.Errorf("%w: metadata %s is not valid JSON: %w", ErrInvalidType, quote(data), err)
	}
	if obj == nil {
		return m, fmt.Errorf("%w: metadata %s is not a JSON object", ErrInvalidType, quote(data))
	}
	raw, ok := obj["shape"]
	if !ok || isNull(raw) {
		return m, fmt.Errorf(`%w: metadata %s has no "shape"`, ErrInvalidType, quote(data))
	}
	var err error
	if m.Shape, err = parseInts("shape", raw); err != nil {
		return m, err
	}
	if raw, ok := obj["dim_names"]; ok && !isNull(raw) {
		if m.DimNames, err = parseStrings("dim_names", raw); err != nil {
			return m, err
		}
	}
	if raw, ok := obj["permutation"]; ok && !isNull(raw) {
		if m.Permutation, err = parseInts("permutation", raw); err != nil {
			return m, err
		}
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// parseInts decodes a JSON array of integers (which may be written as 3 or
// 3.0, as some JSON writers do) into a non-nil slice.
func parseInts(key string, raw json.RawMessage) ([]int, error) {
	var nums []json.RawMessage
	if err := json.Unmarshal(raw, &nums); err != nil {
		return nil, fmt.Errorf("%w: %q is %s; want an array of integers", ErrInvalidType, key, quote(string(raw)))
	}
	out := make([]int, len(nums))
	for i, n := range nums {
		s := string(bytes.TrimSpace(n))
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
				return nil, fmt.Errorf("%w: %q[%d] is %s; want a 32-bit integer", ErrInvalidType, key, i, quote(s))
			}
			v = int64(f)
		}
		out[i] = int(v)
	}
	return out, nil
}

func parseStrings(key string, raw json.RawMessage) ([]string, error) {
	var ptrs []*string
	if err := json.Unmarshal(raw, &ptrs); err != nil {
		return nil, fmt.Errorf("%w: %q is %s; want an array of strings", ErrInvalidType, key, quote(string(raw)))
	}
	out := make([]string, len(ptrs))
	for i, p := range ptrs {
		if p == nil {
			return nil, fmt.Errorf("%w: %q[%d] is null; want a string", ErrInvalidType, key, i)
		}
		out[i] = *p
	}
	return out, nil
}

// quote returns s as a Go string literal, cut to maxQuoted bytes.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "..."
	}
	return strconv.Quote(s)
}

func formatInts(v []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x))
	}
	b.WriteByte(']')
	return b.String()
}

var _ arrow.ExtensionType = (*FixedShapeType)(nil)
