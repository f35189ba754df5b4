package tensor

import (
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func mustType(t *testing.T, vt arrow.DataType, shape []int, opts ...Option) *FixedShapeType {
	t.Helper()
	typ, err := NewFixedShapeType(vt, shape, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

func TestNewFixedShapeType(t *testing.T) {
	tests := []struct {
		name      string
		vt        arrow.DataType
		shape     []int
		opts      []Option
		size      int
		logical   []int
		str       string
		serialize string
	}{
		{"image", arrow.PrimitiveTypes.Uint8, []int{4, 4, 3}, []Option{WithDimNames("H", "W", "C")}, 48, []int{4, 4, 3},
			"extension<arrow.fixed_shape_tensor[value_type=uint8, shape=[4,4,3], dim_names=[H,W,C]]>",
			`{"shape":[4,4,3],"dim_names":["H","W","C"]}`},
		{"permuted", arrow.PrimitiveTypes.Float32, []int{100, 200, 500}, []Option{WithPermutation(2, 0, 1)}, 10000000, []int{500, 100, 200},
			"extension<arrow.fixed_shape_tensor[value_type=float32, shape=[100,200,500], permutation=[2,0,1]]>",
			`{"shape":[100,200,500],"permutation":[2,0,1]}`},
		{"scalar", arrow.PrimitiveTypes.Int64, nil, nil, 1, []int{},
			"extension<arrow.fixed_shape_tensor[value_type=int64, shape=[]]>",
			`{"shape":[]}`},
		{"html in names", arrow.FixedWidthTypes.Float16, []int{2}, []Option{WithDimNames("<a&b>")}, 2, []int{2},
			"extension<arrow.fixed_shape_tensor[value_type=float16, shape=[2], dim_names=[<a&b>]]>",
			`{"shape":[2],"dim_names":["<a&b>"]}`},
		{"decimal", &arrow.Decimal128Type{Precision: 10, Scale: 2}, []int{3}, nil, 3, []int{3},
			"extension<arrow.fixed_shape_tensor[value_type=decimal(10, 2), shape=[3]]>",
			`{"shape":[3]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := mustType(t, tt.vt, tt.shape, tt.opts...)
			if got := typ.Size(); got != tt.size {
				t.Errorf("Size() = %d, want %d", got, tt.size)
			}
			if got := typ.LogicalShape(); !slices.Equal(got, tt.logical) {
				t.Errorf("LogicalShape() = %v, want %v", got, tt.logical)
			}
			if got := typ.String(); got != tt.str {
				t.Errorf("String() = %s, want %s", got, tt.str)
			}
			if got := typ.Serialize(); got != tt.serialize {
				t.Errorf("Serialize() = %s, want %s", got, tt.serialize)
			}
			if !arrow.TypeEqual(typ.ValueType(), tt.vt) {
				t.Errorf("ValueType() = %s, want %s", typ.ValueType(), tt.vt)
			}
			want := arrow.FixedSizeListOf(int32(tt.size), tt.vt)
			if !arrow.TypeEqual(typ.StorageType(), want) {
				t.Errorf("StorageType() = %s, want %s", typ.StorageType(), want)
			}
			if typ.ExtensionName() != "arrow.fixed_shape_tensor" {
				t.Errorf("ExtensionName() = %s", typ.ExtensionName())
			}
			back, err := typ.Deserialize(typ.StorageType(), typ.Serialize())
			if err != nil {
				t.Fatal(err)
			}
			if !arrow.TypeEqual(typ, back) || back.(*FixedShapeType).Serialize() != tt.serialize {
				t.Errorf("Deserialize(Serialize()) = %s, want %s", back, typ)
			}
		})
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	typ := mustType(t, arrow.PrimitiveTypes.Uint8, []int{2, 3}, WithDimNames("a", "b"), WithPermutation(1, 0))
	typ.Shape()[0] = 9
	typ.DimNames()[0] = "z"
	typ.Permutation()[0] = 7
	if got := typ.Serialize(); got != `{"shape":[2,3],"dim_names":["a","b"],"permutation":[1,0]}` {
		t.Errorf("type changed through an accessor: %s", got)
	}
	if typ.NDim() != 2 {
		t.Errorf("NDim() = %d", typ.NDim())
	}
	plain := mustType(t, arrow.PrimitiveTypes.Uint8, []int{2, 3})
	if plain.DimNames() != nil || plain.Permutation() != nil {
		t.Errorf("absent options: DimNames() = %#v, Permutation() = %#v, want nil", plain.DimNames(), plain.Permutation())
	}
}

func TestNewFixedShapeTypeErrors(t *testing.T) {
	tests := []struct {
		name  string
		vt    arrow.DataType
		shape []int
		opts  []Option
		want  string
	}{
		{"nil value type", nil, []int{2}, nil, "tensor: invalid arrow.fixed_shape_tensor: value type is nil"},
		{"utf8", arrow.BinaryTypes.String, []int{2}, nil, "tensor: invalid arrow.fixed_shape_tensor: value type utf8 is not a fixed-width type"},
		{"list", arrow.ListOf(arrow.PrimitiveTypes.Int8), []int{2}, nil, "tensor: invalid arrow.fixed_shape_tensor: value type list<item: int8, nullable> is not a fixed-width type"},
		{"zero dim", arrow.PrimitiveTypes.Int8, []int{2, 0}, nil, "tensor: invalid arrow.fixed_shape_tensor: shape [2,0]: dimension 1 is 0; every dimension must be at least 1"},
		{"negative dim", arrow.PrimitiveTypes.Int8, []int{-1}, nil, "tensor: invalid arrow.fixed_shape_tensor: shape [-1]: dimension 0 is -1; every dimension must be at least 1"},
		{"too big", arrow.PrimitiveTypes.Int8, []int{65536, 65536}, nil, "tensor: invalid arrow.fixed_shape_tensor: shape [65536,65536] holds more than 2147483647 values per row"},
		{"dim names count", arrow.PrimitiveTypes.Int8, []int{2, 3}, []Option{WithDimNames("x")}, "tensor: invalid arrow.fixed_shape_tensor: 1 dim_names for 2 dimensions [2,3]"},
		{"permutation count", arrow.PrimitiveTypes.Int8, []int{2, 3}, []Option{WithPermutation(0)}, "tensor: invalid arrow.fixed_shape_tensor: permutation [0] has 1 entries for 2 dimensions"},
		{"permutation repeat", arrow.PrimitiveTypes.Int8, []int{2, 3}, []Option{WithPermutation(1, 1)}, "tensor: invalid arrow.fixed_shape_tensor: permutation [1,1] is not a permutation of 0..1"},
		{"permutation range", arrow.PrimitiveTypes.Int8, []int{2, 3}, []Option{WithPermutation(0, 2)}, "tensor: invalid arrow.fixed_shape_tensor: permutation [0,2] is not a permutation of 0..1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewFixedShapeType(tt.vt, tt.shape, tt.opts...)
			if err == nil {
				t.Fatalf("NewFixedShapeType succeeded, want error %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
		})
	}
}

func TestDeserialize(t *testing.T) {
	storage := arrow.FixedSizeListOf(6, arrow.PrimitiveTypes.Float32)
	tests := []struct {
		name string
		meta string
		want string // Serialize() of the result
	}{
		{"shape only", `{"shape":[2,3]}`, `{"shape":[2,3]}`},
		{"spaces", " { \"shape\" : [ 2 , 3 ] } ", `{"shape":[2,3]}`},
		{"float dims", `{"shape":[2.0,3e0]}`, `{"shape":[2,3]}`},
		{"all keys", `{"shape":[2,3],"permutation":[1,0],"dim_names":["r","c"]}`, `{"shape":[2,3],"dim_names":["r","c"],"permutation":[1,0]}`},
		{"null options", `{"shape":[2,3],"dim_names":null,"permutation":null}`, `{"shape":[2,3]}`},
		{"unknown key", `{"shape":[2,3],"strides":[12,4]}`, `{"shape":[2,3]}`},
		{"flat", `{"shape":[6]}`, `{"shape":[6]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := prototype.Deserialize(storage, tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			typ := got.(*FixedShapeType)
			if s := typ.Serialize(); s != tt.want {
				t.Errorf("Serialize() = %s, want %s", s, tt.want)
			}
			if !arrow.TypeEqual(typ.StorageType(), storage) {
				t.Errorf("StorageType() = %s, want %s", typ.StorageType(), storage)
			}
		})
	}
}

func TestDeserializeKeepsStorageField(t *testing.T) {
	storage := arrow.FixedSizeListOfField(4, arrow.Field{Name: "element", Type: arrow.PrimitiveTypes.Int16})
	got, err := prototype.Deserialize(storage, `{"shape":[2,2]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got.StorageType() != arrow.DataType(storage) {
		t.Errorf("StorageType() = %s, want the given %s", got.StorageType(), storage)
	}
}

func TestDeserializeErrors(t *testing.T) {
	f32x6 := arrow.FixedSizeListOf(6, arrow.PrimitiveTypes.Float32)
	tests := []struct {
		name    string
		storage arrow.DataType
		meta    string
		want    string
	}{
		{"storage list", arrow.ListOf(arrow.PrimitiveTypes.Float32), `{"shape":[6]}`,
			"tensor: invalid arrow.fixed_shape_tensor: storage type list<item: float32, nullable> is not a fixed_size_list"},
		{"storage of strings", arrow.FixedSizeListOf(2, arrow.BinaryTypes.String), `{"shape":[2]}`,
			"tensor: invalid arrow.fixed_shape_tensor: value type utf8 is not a fixed-width type"},
		{"empty", f32x6, ``,
			`tensor: invalid arrow.fixed_shape_tensor: metadata is empty; want a JSON object such as {"shape":[2,3]}`},
		{"truncated", f32x6, `{"shape":[2,`,
			`tensor: invalid arrow.fixed_shape_tensor: metadata "{\"shape\":[2," is not valid JSON: unexpected end of JSON input`},
		{"bad syntax", f32x6, `{shape:[2,3]}`,
			`tensor: invalid arrow.fixed_shape_tensor: metadata "{shape:[2,3]}" is not valid JSON: invalid character 's' looking for beginning of object key string`},
		{"trailing", f32x6, `{"shape":[2,3]} x`,
			`tensor: invalid arrow.fixed_shape_tensor: metadata "{\"shape\":[2,3]} x" is not valid JSON: invalid character 'x' after top-level value`},
		{"array", f32x6, `[2,3]`,
			`tensor: invalid arrow.fixed_shape_tensor: metadata "[2,3]" is not a JSON object`},
		{"null", f32x6, `null`,
			`tensor: invalid arrow.fixed_shape_tensor: metadata "null" is not a JSON object`},
		{"no shape", f32x6, `{"dim_names":["a"]}`,
			`tensor: invalid arrow.fixed_shape_tensor: metadata "{\"dim_names\":[\"a\"]}" has no "shape"`},
		{"null shape", f32x6, `{"shape":null}`,
			`tensor: invalid arrow.fixed_shape_tensor: metadata "{\"shape\":null}" has no "shape"`},
		{"shape string", f32x6, `{"shape":"2x3"}`,
			`tensor: invalid arrow.fixed_shape_tensor: "shape" is "\"2x3\""; want an array of integers`},
		{"shape fraction", f32x6, `{"shape":[2,3.5]}`,
			`tensor: invalid arrow.fixed_shape_tensor: "shape"[1] is "3.5"; want a 32-bit integer`},
		{"shape huge", f32x6, `{"shape":[99999999999]}`,
			`tensor: invalid arrow.fixed_shape_tensor: "shape"[0] is "99999999999"; want a 32-bit integer`},
		{"shape element string", f32x6, `{"shape":["2",3]}`,
			`tensor: invalid arrow.fixed_shape_tensor: "shape"[0] is "\"2\""; want a 32-bit integer`},
		{"shape zero", f32x6, `{"shape":[0,3]}`,
			`tensor: invalid arrow.fixed_shape_tensor: shape [0,3]: dimension 0 is 0; every dimension must be at least 1`},
		{"shape product", f32x6, `{"shape":[2,4]}`,
			`tensor: invalid arrow.fixed_shape_tensor: shape [2,4] holds 8 values per row but the storage type fixed_size_list<item: float32, nullable>[6] holds 6`},
		{"dim_names object", f32x6, `{"shape":[2,3],"dim_names":{"a":1}}`,
			`tensor: invalid arrow.fixed_shape_tensor: "dim_names" is "{\"a\":1}"; want an array of strings`},
		{"dim_names null entry", f32x6, `{"shape":[2,3],"dim_names":["a",null]}`,
			`tensor: invalid arrow.fixed_shape_tensor: "dim_names"[1] is null; want a string`},
		{"dim_names count", f32x6, `{"shape":[2,3],"dim_names":["a","b","c"]}`,
			`tensor: invalid arrow.fixed_shape_tensor: 3 dim_names for 2 dimensions [2,3]`},
		{"permutation not array", f32x6, `{"shape":[2,3],"permutation":1}`,
			`tensor: invalid arrow.fixed_shape_tensor: "permutation" is "1"; want an array of integers`},
		{"permutation count", f32x6, `{"shape":[2,3],"permutation":[0,1,2]}`,
			`tensor: invalid arrow.fixed_shape_tensor: permutation [0,1,2] has 3 entries for 2 dimensions`},
		{"permutation repeat", f32x6, `{"shape":[2,3],"permutation":[0,0]}`,
			`tensor: invalid arrow.fixed_shape_tensor: permutation [0,0] is not a permutation of 0..1`},
		{"permutation negative", f32x6, `{"shape":[2,3],"permutation":[-1,0]}`,
			`tensor: invalid arrow.fixed_shape_tensor: permutation [-1,0] is not a permutation of 0..1`},
		{"long metadata quoted short", f32x6, `{"shape":[2,` + strings.Repeat("x", 200),
			`tensor: invalid arrow.fixed_shape_tensor: metadata "{\"shape\":[2,` + strings.Repeat("x", 108) + `"... is not valid JSON: invalid character 'x' looking for beginning of value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := prototype.Deserialize(tt.storage, tt.meta)
			if err == nil {
				t.Fatalf("Deserialize succeeded with %s, want error %q", got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
		})
	}
}

func TestExtensionEquals(t *testing.T) {
	base := mustType(t, arrow.PrimitiveTypes.Float32, []int{2, 3})
	tests := []struct {
		name  string
		other arrow.ExtensionType
		equal bool
	}{
		{"same params", mustType(t, arrow.PrimitiveTypes.Float32, []int{2, 3}), true},
		{"identity permutation", mustType(t, arrow.PrimitiveTypes.Float32, []int{2, 3}, WithPermutation(0, 1)), true},
		{"other permutation", mustType(t, arrow.PrimitiveTypes.Float32, []int{2, 3}, WithPermutation(1, 0)), false},
		{"dim names", mustType(t, arrow.PrimitiveTypes.Float32, []int{2, 3}, WithDimNames("a", "b")), false},
		{"transposed shape", mustType(t, arrow.PrimitiveTypes.Float32, []int{3, 2}), false},
		{"flat shape", mustType(t, arrow.PrimitiveTypes.Float32, []int{6}), false},
		{"value type", mustType(t, arrow.PrimitiveTypes.Float64, []int{2, 3}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := base.ExtensionEquals(tt.other); got != tt.equal {
				t.Errorf("ExtensionEquals(%s) = %v, want %v", tt.other, got, tt.equal)
			}
			if got := arrow.TypeEqual(base, tt.other); got != tt.equal {
				t.Errorf("arrow.TypeEqual(%s) = %v, want %v", tt.other, got, tt.equal)
			}
			if got := base.Fingerprint() == tt.other.Fingerprint(); got != tt.equal {
				t.Errorf("fingerprints equal = %v, want %v (%q, %q)", got, tt.equal, base.Fingerprint(), tt.other.Fingerprint())
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	if !Registered() {
		t.Fatal("Registered() = false after init")
	}
	if got := arrow.GetExtensionType(ExtensionName); got != arrow.ExtensionType(prototype) {
		t.Fatalf("registry holds %v", got)
	}
	// A foreign registration under the same name wins and is reported.
	if err := arrow.UnregisterExtensionType(ExtensionName); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = arrow.UnregisterExtensionType(ExtensionName)
		if err := arrow.RegisterExtensionType(prototype); err != nil {
			t.Fatal(err)
		}
	}()
	if Registered() {
		t.Error("Registered() = true with nothing registered")
	}
}
