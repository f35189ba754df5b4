package main

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	wasinfer "github.com/wasinfer/wasinfer/sdk/go"
)

// pixels returns rows images of n bytes with a deterministic pattern.
func pixels(rows, n int) [][]uint8 {
	out := make([][]uint8, rows)
	for r := range out {
		out[r] = make([]uint8, n)
		for i := range out[r] {
			out[r][i] = uint8((r*131 + i*17 + i*i) % 256)
		}
	}
	return out
}

// imageColumn builds a fixed_size_list<uint8>[n] column holding imgs, with
// the given rows null, its values at child offset childOff and the list at
// offset listOff (junk before both).
func imageColumn(imgs [][]uint8, n int, nulls map[int]bool, listOff, childOff int) arrow.Array {
	rows := len(imgs)
	vals := make([]byte, childOff+(listOff+rows)*n)
	for i := range vals {
		vals[i] = 0xEE // junk, visible if offsets are ignored
	}
	for r, img := range imgs {
		copy(vals[childOff+(listOff+r)*n:], img)
	}
	child := array.NewData(arrow.PrimitiveTypes.Uint8, (listOff+rows)*n, []*memory.Buffer{nil, memory.NewBufferBytes(vals)}, nil, 0, childOff)
	bits := make([]byte, bitutil.BytesForBits(int64(listOff+rows)))
	bitutil.SetBitsTo(bits, 0, int64(listOff+rows), true)
	for r := range nulls {
		bitutil.ClearBit(bits, listOff+r)
	}
	d := array.NewData(arrow.FixedSizeListOf(int32(n), arrow.PrimitiveTypes.Uint8), rows, []*memory.Buffer{memory.NewBufferBytes(bits)}, []arrow.ArrayData{child}, array.UnknownNullCount, listOff)
	child.Release()
	a := array.MakeFromData(d)
	d.Release()
	return a
}

func tensorField(name string, shape string, n int) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.FixedSizeListOf(int32(n), arrow.PrimitiveTypes.Uint8), Nullable: true,
		Metadata: arrow.NewMetadata([]string{wasinfer.ExtensionNameKey, wasinfer.ExtensionMetadataKey}, []string{tensorName, shape})}
}

// reference computes one output image straight from the definition.
func reference(img []uint8, h, w, c int, mean, std []float64) []float32 {
	out := make([]float32, c*h*w)
	for y := range h {
		for x := range w {
			for ch := range c {
				s := float32(1.0 / (255.0 * channel(std, ch)))
				b := float32(-channel(mean, ch) / channel(std, ch))
				prod := float32(float32(img[y*w*c+x*c+ch]) * s) // rounded: no fusion with the add
				out[ch*h*w+y*w+x] = prod + b
			}
		}
	}
	return out
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name              string
		h, w, c           int
		config            string
		mean, std         []float64
		nulls             map[int]bool
		listOff, childOff int
		slice             [2]int64 // rows of the batch passed, [0, 0] for all
	}{
		{name: "rgb-default", h: 4, w: 5, c: 3},
		{name: "rgb-offsets", h: 3, w: 2, c: 3, nulls: map[int]bool{1: true}, listOff: 1, childOff: 3, slice: [2]int64{1, 4}},
		{name: "gray", h: 2, w: 7, c: 1, config: `{"mean": [0.5], "std": [0.25]}`, mean: []float64{0.5}, std: []float64{0.25}},
		{name: "rgba-last-rule", h: 3, w: 3, c: 4, config: `{"mean": [0.1, 0.2], "std": [0.3, 0.7]}`, mean: []float64{0.1, 0.2}, std: []float64{0.3, 0.7}, nulls: map[int]bool{0: true, 4: true}},
		{name: "two-channels", h: 1, w: 9, c: 2, config: ` {"std": [1e-3, 2], "column": "img", "output": "x"} `, std: []float64{1e-3, 2}},
		{name: "empty", h: 2, w: 2, c: 3, slice: [2]int64{2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			d := defaults()
			mean, std, column, output := d.mean, d.std, d.column, d.output
			if tc.mean != nil {
				mean = tc.mean
			}
			if tc.std != nil {
				std = tc.std
			}
			if tc.name == "two-channels" {
				column, output = "img", "x"
			}
			h, err := wasinfer.NewHarness(udf, []byte(tc.config))
			if err != nil {
				t.Fatal(err)
			}
			n, rows := tc.h*tc.w*tc.c, 5
			imgs := pixels(rows, n)
			img := imageColumn(imgs, n, tc.nulls, tc.listOff, tc.childOff)
			defer img.Release()
			ib := array.NewInt64Builder(mem)
			ib.AppendValues([]int64{10, 11, 12, 13, 14}, nil)
			ids := ib.NewArray()
			ib.Release()
			defer ids.Release()
			md := arrow.NewMetadata([]string{"k"}, []string{"v"})
			schema := arrow.NewSchema([]arrow.Field{
				{Name: "id", Type: arrow.PrimitiveTypes.Int64},
				tensorField(column, fmt.Sprintf(`{"shape": [ %d, %d, %d ], "dim_names": ["H", "W", "C"]}`, tc.h, tc.w, tc.c), n),
			}, &md)
			rec := array.NewRecordBatch(schema, []arrow.Array{ids, img}, int64(rows))
			defer rec.Release()
			lo, hi := int64(0), int64(rows)
			if tc.slice != [2]int64{} {
				lo, hi = tc.slice[0], tc.slice[1]
				rec = rec.NewSlice(lo, hi)
				defer rec.Release()
			}

			out, err := h.Transform(rec)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			wantShape := fmt.Sprintf(`{"shape":[%d,%d,%d]}`, tc.c, tc.h, tc.w)
			wantSchema := arrow.NewSchema([]arrow.Field{
				{Name: "id", Type: arrow.PrimitiveTypes.Int64},
				{Name: output, Type: arrow.FixedSizeListOfField(int32(n), arrow.Field{Name: "item", Type: arrow.PrimitiveTypes.Float32}), Nullable: true,
					Metadata: arrow.NewMetadata([]string{"ARROW:extension:name", "ARROW:extension:metadata"}, []string{"arrow.fixed_shape_tensor", wantShape})},
			}, &md)
			if !out.Schema().Equal(wantSchema) || !out.Schema().Metadata().Equal(md) {
				t.Fatalf("schema\n%s\nwant\n%s", out.Schema(), wantSchema)
			}
			if !array.Equal(out.Column(0), rec.Column(0)) {
				t.Errorf("id column changed: %v", out.Column(0))
			}
			got := out.Column(1).(*array.FixedSizeList)
			if got.Len() != int(hi-lo) {
				t.Fatalf("%d rows, want %d", got.Len(), hi-lo)
			}
			vals := got.ListValues().(*array.Float32).Float32Values()
			for i := range got.Len() {
				r := int(lo) + i
				want := make([]float32, n)
				if tc.nulls[r] {
					if got.IsValid(i) {
						t.Errorf("row %d is valid, want null", r)
					}
				} else {
					want = reference(imgs[r], tc.h, tc.w, tc.c, mean, std)
				}
				for j, v := range vals[i*n : (i+1)*n] {
					if math.Float32bits(v) != math.Float32bits(want[j]) {
						t.Fatalf("row %d value %d = %v (%#x), want %v (%#x)", r, j, v, math.Float32bits(v), want[j], math.Float32bits(want[j]))
					}
				}
			}
		})
	}
}

// TestKnownValue pins one value: pixel 255 of channel 0 with ImageNet's
// constants.
func TestKnownValue(t *testing.T) {
	s, b := float32(1.0/(255.0*0.229)), float32(-0.485/0.229)
	if got := math.Float32bits(float32(float32(255)*s) + b); got != 0x400fee1d { // 2.2489083, checked with Python's struct rounding
		t.Errorf("bits %#x, value %v", got, math.Float32frombits(got))
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ config, want string }{
		{`{"mode": 1}`, `unknown configuration key "mode" (known: column, output, mean, std)`},
		{`{"std": [0.2, 0]}`, `configuration key "std": element 1 is 0, must be > 0`},
		{`{"std": [-1]}`, `configuration key "std": element 0 is -1, must be > 0`},
		{`{"mean": []}`, `configuration key "mean": want an array of 1 to 4 numbers, got []`},
		{`{"mean": [1, 2, 3, 4, 5]}`, `configuration key "mean": want an array of 1 to 4 numbers, got [1, 2, 3, 4, 5]`},
		{`{"mean": ["a"]}`, `configuration key "mean": want an array of 1 to 4 numbers, got ["a"]`},
		{`{"column": ""}`, `configuration key "column": want a non-empty string, got ""`},
		{`[1]`, `configuration is not a JSON object: json: cannot unmarshal array into Go value of type map[string]json.RawMessage`},
	}
	for _, tc := range tests {
		t.Run(tc.config, func(t *testing.T) {
			_, err := wasinfer.NewHarness(udf, []byte(tc.config))
			var e *wasinfer.Error
			if !errors.As(err, &e) || e.Status != wasinfer.StatusInvalidConfig || e.Error() != tc.want {
				t.Fatalf("error %v, want INVALID_CONFIG %q", err, tc.want)
			}
		})
	}
}

func TestUnsupportedInput(t *testing.T) {
	str := arrow.Field{Name: "image", Type: arrow.BinaryTypes.String}
	noName := tensorField("image", `{"shape":[1,1,3]}`, 3)
	noName.Metadata = arrow.NewMetadata([]string{wasinfer.ExtensionMetadataKey}, []string{`{"shape":[1,1,3]}`})
	other := tensorField("image", `{"shape":[1,1,3]}`, 3)
	other.Metadata = arrow.NewMetadata([]string{wasinfer.ExtensionNameKey, wasinfer.ExtensionMetadataKey}, []string{"my.tensor", `{}`})
	noMeta := tensorField("image", ``, 3)
	noMeta.Metadata = arrow.NewMetadata([]string{wasinfer.ExtensionNameKey}, []string{tensorName})
	tests := []struct {
		name  string
		field arrow.Field
		want  string
	}{
		{"missing", arrow.Field{Name: "photo", Type: arrow.BinaryTypes.String}, `column "image": not in the input`},
		{"type", str, `column "image": type utf8, want arrow.fixed_shape_tensor with uint8 values (fixed_size_list<uint8>)`},
		{"float-values", arrow.Field{Name: "image", Type: arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Float32)}, `column "image": type fixed_size_list<item: float32, nullable>[3], want arrow.fixed_shape_tensor with uint8 values (fixed_size_list<uint8>)`},
		{"no-extension", noName, `column "image": no ARROW:extension:name metadata, want arrow.fixed_shape_tensor`},
		{"other-extension", other, `column "image": extension type "my.tensor", want arrow.fixed_shape_tensor`},
		{"no-metadata", noMeta, `column "image": no ARROW:extension:metadata metadata (want {"shape": [H, W, C]})`},
		{"no-shape", tensorField("image", `{"dims":[1,1,3]}`, 3), `column "image": tensor metadata {"dims":[1,1,3]} has no shape [H, W, C]`},
		{"bad-json", tensorField("image", `{"shape":[1,1,`, 3), `column "image": tensor metadata {"shape":[1,1, has no shape [H, W, C]`},
		{"rank", tensorField("image", `{"shape":[3]}`, 3), `column "image": tensor metadata {"shape":[3]} has no shape [H, W, C]`},
		{"fraction", tensorField("image", `{"shape":[1,1.5,2]}`, 3), `column "image": tensor shape {"shape":[1,1.5,2]}: dimension 1 is not a positive integer ≤ 3`},
		{"zero", tensorField("image", `{"shape":[0,1,3]}`, 3), `column "image": tensor shape {"shape":[0,1,3]}: dimension 0 is not a positive integer ≤ 3`},
		{"channels", tensorField("image", `{"shape":[1,1,5]}`, 5), `column "image": tensor shape {"shape":[1,1,5]}: 5 channels, want 1 to 4`},
		{"size", tensorField("image", `{"shape":[4,1,3]}`, 3), `column "image": tensor shape {"shape":[4,1,3]}: dimension 0 is not a positive integer ≤ 3`},
		{"product", tensorField("image", `{"shape":[2,2,3]}`, 8), `column "image": tensor shape {"shape":[2,2,3]} does not match the list size 8`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := wasinfer.NewHarness(udf, nil)
			if err != nil {
				t.Fatal(err)
			}
			col := array.MakeArrayOfNull(memory.DefaultAllocator, tc.field.Type, 2)
			defer col.Release()
			rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{tc.field}, nil), []arrow.Array{col}, 2)
			defer rec.Release()
			_, err = h.Transform(rec)
			var e *wasinfer.Error
			if !errors.As(err, &e) || e.Status != wasinfer.StatusUnsupportedInput || e.Error() != tc.want {
				t.Fatalf("error %v, want UNSUPPORTED_INPUT %q", err, tc.want)
			}
		})
	}
}

// TestReusedBufferNullRows checks that a null row is zero even when the
// reused output buffer held values from the previous batch.
func TestReusedBufferNullRows(t *testing.T) {
	h, err := wasinfer.NewHarness(udf, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2 * 2 * 3
	field := tensorField("image", `{"shape":[2,2,3]}`, n)
	for _, nulls := range []map[int]bool{nil, {0: true, 2: true}} {
		img := imageColumn(pixels(3, n), n, nulls, 0, 0)
		rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{field}, nil), []arrow.Array{img}, 3)
		img.Release()
		out, err := h.Transform(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		vals := out.Column(0).(*array.FixedSizeList).ListValues().(*array.Float32).Float32Values()
		for r := range nulls {
			for j, v := range vals[r*n : (r+1)*n] {
				if math.Float32bits(v) != 0 {
					t.Errorf("null row %d value %d = %v, want +0", r, j, v)
				}
			}
		}
		out.Release()
	}
}
