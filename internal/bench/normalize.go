package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/tensor"
)

// The transform every SDK's normalize example implements: uint8 HWC image
// → float32 CHW, (x/255 − mean)/std per channel, with ImageNet's mean and
// std by default. normalizeNative is its native Go definition, the same as
// host/normalize_test.go's normalizeRef, which the guests match bit for bit.
var (
	imagenetMean = []float64{0.485, 0.456, 0.406}
	imagenetStd  = []float64{0.229, 0.224, 0.225}
)

func normalizeNative(img []uint8, out []float32, h, w, c int, mean, std []float64) {
	scale, bias := make([]float32, c), make([]float32, c)
	for ch := range c {
		m, s := mean[min(ch, len(mean)-1)], std[min(ch, len(std)-1)]
		scale[ch] = float32(1.0 / (255.0 * s))
		bias[ch] = float32(-m / s)
	}
	plane := h * w
	for ch := range c {
		sc, b := scale[ch], bias[ch]
		dst := out[ch*plane : (ch+1)*plane]
		for p := range plane {
			dst[p] = float32(float32(img[p*c+ch])*sc) + b
		}
	}
}

// imageBatch is rows random h×w×3 images and a path column, the batch of
// host's BenchmarkNormalize.
func imageBatch(rows, h, w int) (arrow.RecordBatch, error) {
	const c = 3
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Uint8, []int{h, w, c})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(h), c))
	vals := make([]uint8, rows*h*w*c)
	for i := range vals {
		vals[i] = uint8(rng.UintN(256))
	}
	img, err := tensor.NewArray(memory.DefaultAllocator, typ, vals, nil)
	if err != nil {
		return nil, err
	}
	defer img.Release()
	pb := array.NewStringBuilder(memory.DefaultAllocator)
	defer pb.Release()
	for i := range rows {
		pb.Append(fmt.Sprintf("img/%04d.png", i))
	}
	paths := pb.NewArray()
	defer paths.Release()
	s := arrow.NewSchema([]arrow.Field{
		{Name: "path", Type: arrow.BinaryTypes.String},
		{Name: "image", Type: typ},
	}, nil)
	return array.NewRecordBatch(s, []arrow.Array{paths, img}, int64(rows)), nil
}

func normalizeBenchmark(lang, key string) benchmark {
	names := map[string]string{"c": "C (clang -O2 -msimd128)", "rust": "Rust (rustc 1.63 -O)", "go": "Go (GOOS=wasip1)", "assemblyscript": "AssemblyScript"}
	k := keyInfo{
		key: key, title: "Image normalization in " + names[lang] + " ÷ native Go", unit: "x",
		measures: "throughput of host.UDF.Transform through " + normalizeWasm(lang) +
			" (uint8 HWC → float32 CHW, ImageNet mean/std; copies in and out included) ÷ throughput of the same " +
			"transform in native Go on the same batch, interleaved; the guest's output is checked bit for bit against native Go first",
	}
	if lang == "c" {
		k.target = atLeast(0.7, "≥ 0.7 (C with SIMD)")
		k.explain = func(r *Result) string {
			return fmt.Sprintf("missed: %s× native Go. The guest side also copies the uint8 input into guest memory and "+
				"the 4× larger float32 output out of it, which native Go does not; see guest_mb_per_s and native_mb_per_s.",
				formatValue(*r.Value))
		}
	}
	return benchmark{keys: []keyInfo{k}, run: func(ctx context.Context, e *env, rs []*Result) error {
		return runNormalize(ctx, e, rs[0], lang)
	}}
}

func runNormalize(ctx context.Context, e *env, r *Result, lang string) error {
	rows, side := e.p.normRows, e.p.normSide
	rec, err := imageBatch(rows, side, side)
	if err != nil {
		return err
	}
	defer rec.Release()
	wasm, err := e.read(normalizeWasm(lang))
	if err != nil {
		return err
	}
	u, err := host.Load(ctx, wasm, host.WithName(lang+"-normalize"), host.WithPoolSize(1), host.WithLogger(quietLogger))
	if err != nil {
		return err
	}
	defer u.Close(ctx)
	img := rec.Column(1).(*tensor.FixedShapeArray)
	per := side * side * 3
	out := make([]float32, rows*per)
	native := func() {
		for i := range rows {
			normalizeNative(tensor.Row[uint8](img, i), out[i*per:(i+1)*per], side, side, 3, imagenetMean, imagenetStd)
		}
	}
	// The guest computes what native Go computes, bit for bit.
	native()
	got, err := u.Transform(ctx, 0, rec)
	if err != nil {
		return err
	}
	gt, ok := got.Column(int(got.NumCols() - 1)).(*tensor.FixedShapeArray)
	if !ok {
		got.Release()
		return fmt.Errorf("%s normalize: last output column is %s, want a float32 tensor", lang, got.Column(int(got.NumCols()-1)).DataType())
	}
	vals := tensor.Values[float32](gt)
	for i := range out {
		if math.Float32bits(vals[i]) != math.Float32bits(out[i]) {
			got.Release()
			return fmt.Errorf("%s normalize: value %d is %v, native Go %v: the guests no longer compute the same transform", lang, i, vals[i], out[i])
		}
	}
	got.Release()
	sides, err := interleaveMin(ctx, e.p.reps, e.p.inner,
		func() (float64, error) { return timed(func() error { native(); return nil }) },
		func() (float64, error) { return timed(func() error { return transformN(ctx, u, rec, 1) }) })
	if err != nil {
		return err
	}
	r.setSamples(ratios(sides[0], sides[1]))
	mb := float64(rows*per) / 1e6
	r.Details = map[string]any{
		"images": rows, "height": side, "width": side, "channels": 3,
		"native_mb_per_s": mb / median(sides[0]), "guest_mb_per_s": mb / median(sides[1]),
		"input_bytes": rows * per,
	}
	return nil
}
