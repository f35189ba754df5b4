// Command normalize is the shared wasinfer example transform: it turns an
// image column, uint8 HWC (arrow.fixed_shape_tensor of shape [H, W, C]), into
// a normalized float32 CHW tensor column, the usual model preprocessing:
//
//	out[r][c*H*W + y*W + x] = float32(in[r][y*W*C + x*C + c]) * scale[c] + bias[c]
//	scale[c] = float32(1 / (255 * std[c])), bias[c] = float32(-mean[c] / std[c])
//
// with a float32 multiply and a float32 add, each rounded (no fused
// multiply-add), so that every language's module gives the same bits.
//
// Configuration (a JSON object, all keys optional): "column" (input column,
// default "image"), "output" (output column, default "tensor"), "mean" and
// "std" (1 to 4 numbers; channel c uses element c, or the last one; defaults
// are ImageNet's). The other input columns pass through without a copy, in
// order, and the tensor column comes last.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	wasinfer "github.com/wasinfer/wasinfer/sdk/go"
)

// udf is the UDF this module registers; tests run it through a Harness.
var udf = wasinfer.UDF{
	Name:        "normalize",
	Version:     "1.0.0",
	Description: "uint8 HWC image tensor to normalized float32 CHW tensor",
	Input:       []wasinfer.Column{{Name: "image", Type: "arrow.fixed_shape_tensor<uint8>[H,W,C]"}},
	Output:      []wasinfer.Column{{Name: "tensor", Type: "arrow.fixed_shape_tensor<float32>[C,H,W]"}},
	Init:        configure,
	Transform:   normalize,
}

func init() { wasinfer.Register(udf) }

func main() {}

const tensorName = "arrow.fixed_shape_tensor"

// config is the parsed configuration of the stage.
type config struct {
	column, output string
	mean, std      []float64
}

func defaults() config {
	return config{
		column: "image",
		output: "tensor",
		mean:   []float64{0.485, 0.456, 0.406},
		std:    []float64{0.229, 0.224, 0.225},
	}
}

var cfg = defaults()

// values backs the output tensor, reused from batch to batch: when
// Transform runs, the host has copied the previous output and the SDK has
// released it. Reuse saves allocating and zeroing the largest buffer of the
// transform on every batch.
var values []float32

// configure parses the stage configuration (spec §9).
func configure(text []byte) error {
	c := defaults()
	if len(bytes.TrimSpace(text)) > 0 {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(text, &raw); err != nil {
			return fmt.Errorf("configuration is not a JSON object: %w", err)
		}
		keys := make([]string, 0, len(raw))
		for k := range raw {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			var err error
			switch k {
			case "column":
				c.column, err = nonEmptyString(raw[k])
			case "output":
				c.output, err = nonEmptyString(raw[k])
			case "mean":
				c.mean, err = channelValues(raw[k])
			case "std":
				c.std, err = channelValues(raw[k])
			default:
				return fmt.Errorf("unknown configuration key %q (known: column, output, mean, std)", k)
			}
			if err != nil {
				return fmt.Errorf("configuration key %q: %w", k, err)
			}
		}
	}
	for i, s := range c.std {
		if !(s > 0) {
			return fmt.Errorf("configuration key \"std\": element %d is %v, must be > 0", i, s)
		}
	}
	cfg = c
	return nil
}

func nonEmptyString(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || s == "" {
		return "", fmt.Errorf("want a non-empty string, got %s", raw)
	}
	return s, nil
}

// channelValues parses 1 to 4 numbers (encoding/json parses them with
// strconv.ParseFloat, which rounds correctly).
func channelValues(raw json.RawMessage) ([]float64, error) {
	var v []float64
	if err := json.Unmarshal(raw, &v); err != nil || len(v) < 1 || len(v) > 4 {
		return nil, fmt.Errorf("want an array of 1 to 4 numbers, got %s", raw)
	}
	return v, nil
}

// channel is the value of a per-channel setting for channel c.
func channel(v []float64, c int) float64 { return v[min(c, len(v)-1)] }

// shapeOf checks that f is a uint8 arrow.fixed_shape_tensor of shape
// [H, W, C] and returns the shape.
func shapeOf(f arrow.Field) (h, w, c int, err error) {
	unsupported := func(format string, args ...any) error {
		return wasinfer.Errorf(wasinfer.StatusUnsupportedInput, "column %q: "+format, append([]any{f.Name}, args...)...)
	}
	fsl, ok := f.Type.(*arrow.FixedSizeListType)
	if !ok || fsl.Elem().ID() != arrow.UINT8 {
		return 0, 0, 0, unsupported("type %s, want %s with uint8 values (fixed_size_list<uint8>)", f.Type, tensorName)
	}
	if name, ok := f.Metadata.GetValue(wasinfer.ExtensionNameKey); !ok {
		return 0, 0, 0, unsupported("no %s metadata, want %s", wasinfer.ExtensionNameKey, tensorName)
	} else if name != tensorName {
		return 0, 0, 0, unsupported("extension type %q, want %s", name, tensorName)
	}
	meta, ok := f.Metadata.GetValue(wasinfer.ExtensionMetadataKey)
	if !ok {
		return 0, 0, 0, unsupported("no %s metadata (want {\"shape\": [H, W, C]})", wasinfer.ExtensionMetadataKey)
	}
	var m struct {
		Shape []json.Number `json:"shape"`
	}
	d := json.NewDecoder(bytes.NewReader([]byte(meta)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil || len(m.Shape) != 3 {
		return 0, 0, 0, unsupported("tensor metadata %s has no shape [H, W, C]", meta)
	}
	n := int64(fsl.Len())
	var dims [3]int64
	for i, s := range m.Shape {
		v, err := strconv.ParseInt(s.String(), 10, 64)
		if err != nil || v <= 0 || v > n {
			return 0, 0, 0, unsupported("tensor shape %s: dimension %d is not a positive integer ≤ %d", meta, i, n)
		}
		dims[i] = v
	}
	if dims[2] > 4 {
		return 0, 0, 0, unsupported("tensor shape %s: %d channels, want 1 to 4", meta, dims[2])
	}
	if dims[0]*dims[1] > n || dims[0]*dims[1]*dims[2] != n {
		return 0, 0, 0, unsupported("tensor shape %s does not match the list size %d", meta, n)
	}
	return int(dims[0]), int(dims[1]), int(dims[2]), nil
}

// normalize is the Transform of this UDF.
func normalize(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	schema := rec.Schema()
	idx := schema.FieldIndices(cfg.column)
	if len(idx) == 0 {
		return nil, wasinfer.Errorf(wasinfer.StatusUnsupportedInput, "column %q: not in the input", cfg.column)
	}
	field := schema.Field(idx[0])
	h, w, c, err := shapeOf(field)
	if err != nil {
		return nil, err
	}
	col := rec.Column(idx[0]).(*array.FixedSizeList)
	vals, ok := col.ListValues().(*array.Uint8)
	if !ok {
		return nil, wasinfer.Errorf(wasinfer.StatusUnsupportedInput, "column %q: values are %s, want uint8", cfg.column, col.ListValues().DataType())
	}

	var scale, bias [4]float32
	for i := range c {
		s, m := channel(cfg.std, i), channel(cfg.mean, i)
		scale[i] = float32(1.0 / (255.0 * s))
		bias[i] = float32(-m / s)
	}

	n, rows := h*w*c, col.Len()
	if cap(values) < rows*n {
		values = make([]float32, rows*n)
	}
	out := values[:rows*n]
	src := vals.Uint8Values()    // starts at the values' own offset
	first := col.Data().Offset() // the list's offset, in rows
	for r := range rows {
		if col.IsNull(r) {
			clear(out[r*n : (r+1)*n]) // a null row's values are 0.0
			continue
		}
		image(out[r*n:(r+1)*n], src[(first+r)*n:(first+r+1)*n], h*w, c, &scale, &bias)
	}

	var validity *memory.Buffer
	nulls := col.NullN()
	if nulls > 0 {
		bits := make([]byte, bitutil.BytesForBits(int64(rows)))
		for r := range rows {
			if col.IsValid(r) {
				bitutil.SetBit(bits, r)
			}
		}
		validity = memory.NewBufferBytes(bits)
	}
	item := arrow.Field{Name: "item", Type: arrow.PrimitiveTypes.Float32}
	items := array.NewData(item.Type, rows*n, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Float32Traits.CastToBytes(out))}, nil, 0, 0)
	data := array.NewData(arrow.FixedSizeListOfField(int32(n), item), rows, []*memory.Buffer{validity}, []arrow.ArrayData{items}, nulls, 0)
	items.Release()
	tensor := array.MakeFromData(data)
	data.Release()
	defer tensor.Release()

	fields := make([]arrow.Field, 0, schema.NumFields())
	cols := make([]arrow.Array, 0, schema.NumFields())
	for i, f := range schema.Fields() {
		if i != idx[0] {
			fields, cols = append(fields, f), append(cols, rec.Column(i))
		}
	}
	fields = append(fields, arrow.Field{
		Name:     cfg.output,
		Type:     tensor.DataType(),
		Nullable: true,
		Metadata: arrow.NewMetadata(
			[]string{wasinfer.ExtensionNameKey, wasinfer.ExtensionMetadataKey},
			[]string{tensorName, fmt.Sprintf(`{"shape":[%d,%d,%d]}`, c, h, w)}),
	})
	cols = append(cols, tensor)
	md := schema.Metadata()
	return array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, int64(rows)), nil
}

// image normalizes one HWC image of hw pixels and c channels from src into
// the CHW planes of dst. Each product is converted to float32 explicitly,
// which rounds it and so keeps the compiler from fusing the multiply and the
// add (the Go spec allows fusion otherwise).
//
// The loops handle several pixels per iteration: Go's wasm backend sends
// every loop back-edge through a br_table dispatch, and unrolling made this
// loop about five times faster under wazero. The pixels the unrolled loop
// leaves (fewer than one iteration's worth) go through the plain loop.
func image(dst []float32, src []uint8, hw, c int, scale, bias *[4]float32) {
	dst, src = dst[:c*hw], src[:c*hw]
	done := 0
	switch c {
	case 1:
		done = image1(dst, src, hw, scale, bias)
	case 2:
		done = image2(dst, src, hw, scale, bias)
	case 3:
		done = image3(dst, src, hw, scale, bias)
	case 4:
		done = image4(dst, src, hw, scale, bias)
	}
	for ch := range c {
		s, b := scale[ch], bias[ch]
		d := dst[ch*hw : (ch+1)*hw]
		for p := done; p < hw; p++ {
			d[p] = float32(float32(src[p*c+ch])*s) + b
		}
	}
}

// image1 to image4 normalize the first pixels of an image of 1 to 4
// channels, 8 (or 4) pixels at a time, and return how many they did.
func image1(dst []float32, src []uint8, hw int, scale, bias *[4]float32) int {
	s0 := scale[0]
	b0 := bias[0]
	d0 := dst[:hw]
	p := 0
	for ; p+8 <= hw; p += 8 {
		px := (*[8]uint8)(src[p:])
		o0 := (*[8]float32)(d0[p:])
		o0[0] = float32(float32(px[0])*s0) + b0
		o0[1] = float32(float32(px[1])*s0) + b0
		o0[2] = float32(float32(px[2])*s0) + b0
		o0[3] = float32(float32(px[3])*s0) + b0
		o0[4] = float32(float32(px[4])*s0) + b0
		o0[5] = float32(float32(px[5])*s0) + b0
		o0[6] = float32(float32(px[6])*s0) + b0
		o0[7] = float32(float32(px[7])*s0) + b0
	}
	return p
}

func image2(dst []float32, src []uint8, hw int, scale, bias *[4]float32) int {
	s0, s1 := scale[0], scale[1]
	b0, b1 := bias[0], bias[1]
	d0, d1 := dst[:hw], dst[hw:2*hw]
	p := 0
	for ; p+4 <= hw; p += 4 {
		px := (*[8]uint8)(src[2*p:])
		o0 := (*[4]float32)(d0[p:])
		o1 := (*[4]float32)(d1[p:])
		o0[0] = float32(float32(px[0])*s0) + b0
		o1[0] = float32(float32(px[1])*s1) + b1
		o0[1] = float32(float32(px[2])*s0) + b0
		o1[1] = float32(float32(px[3])*s1) + b1
		o0[2] = float32(float32(px[4])*s0) + b0
		o1[2] = float32(float32(px[5])*s1) + b1
		o0[3] = float32(float32(px[6])*s0) + b0
		o1[3] = float32(float32(px[7])*s1) + b1
	}
	return p
}

func image3(dst []float32, src []uint8, hw int, scale, bias *[4]float32) int {
	s0, s1, s2 := scale[0], scale[1], scale[2]
	b0, b1, b2 := bias[0], bias[1], bias[2]
	d0, d1, d2 := dst[:hw], dst[hw:2*hw], dst[2*hw:3*hw]
	p := 0
	for ; p+8 <= hw; p += 8 {
		px := (*[24]uint8)(src[3*p:])
		o0 := (*[8]float32)(d0[p:])
		o1 := (*[8]float32)(d1[p:])
		o2 := (*[8]float32)(d2[p:])
		o0[0] = float32(float32(px[0])*s0) + b0
		o1[0] = float32(float32(px[1])*s1) + b1
		o2[0] = float32(float32(px[2])*s2) + b2
		o0[1] = float32(float32(px[3])*s0) + b0
		o1[1] = float32(float32(px[4])*s1) + b1
		o2[1] = float32(float32(px[5])*s2) + b2
		o0[2] = float32(float32(px[6])*s0) + b0
		o1[2] = float32(float32(px[7])*s1) + b1
		o2[2] = float32(float32(px[8])*s2) + b2
		o0[3] = float32(float32(px[9])*s0) + b0
		o1[3] = float32(float32(px[10])*s1) + b1
		o2[3] = float32(float32(px[11])*s2) + b2
		o0[4] = float32(float32(px[12])*s0) + b0
		o1[4] = float32(float32(px[13])*s1) + b1
		o2[4] = float32(float32(px[14])*s2) + b2
		o0[5] = float32(float32(px[15])*s0) + b0
		o1[5] = float32(float32(px[16])*s1) + b1
		o2[5] = float32(float32(px[17])*s2) + b2
		o0[6] = float32(float32(px[18])*s0) + b0
		o1[6] = float32(float32(px[19])*s1) + b1
		o2[6] = float32(float32(px[20])*s2) + b2
		o0[7] = float32(float32(px[21])*s0) + b0
		o1[7] = float32(float32(px[22])*s1) + b1
		o2[7] = float32(float32(px[23])*s2) + b2
	}
	return p
}

func image4(dst []float32, src []uint8, hw int, scale, bias *[4]float32) int {
	s0, s1, s2, s3 := scale[0], scale[1], scale[2], scale[3]
	b0, b1, b2, b3 := bias[0], bias[1], bias[2], bias[3]
	d0, d1, d2, d3 := dst[:hw], dst[hw:2*hw], dst[2*hw:3*hw], dst[3*hw:4*hw]
	p := 0
	for ; p+4 <= hw; p += 4 {
		px := (*[16]uint8)(src[4*p:])
		o0 := (*[4]float32)(d0[p:])
		o1 := (*[4]float32)(d1[p:])
		o2 := (*[4]float32)(d2[p:])
		o3 := (*[4]float32)(d3[p:])
		o0[0] = float32(float32(px[0])*s0) + b0
		o1[0] = float32(float32(px[1])*s1) + b1
		o2[0] = float32(float32(px[2])*s2) + b2
		o3[0] = float32(float32(px[3])*s3) + b3
		o0[1] = float32(float32(px[4])*s0) + b0
		o1[1] = float32(float32(px[5])*s1) + b1
		o2[1] = float32(float32(px[6])*s2) + b2
		o3[1] = float32(float32(px[7])*s3) + b3
		o0[2] = float32(float32(px[8])*s0) + b0
		o1[2] = float32(float32(px[9])*s1) + b1
		o2[2] = float32(float32(px[10])*s2) + b2
		o3[2] = float32(float32(px[11])*s3) + b3
		o0[3] = float32(float32(px[12])*s0) + b0
		o1[3] = float32(float32(px[13])*s1) + b1
		o2[3] = float32(float32(px[14])*s2) + b2
		o3[3] = float32(float32(px[15])*s3) + b3
	}
	return p
}
