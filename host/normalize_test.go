package host

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/tensor"
)

// The example transform every SDK implements (uint8 HWC image → float32 CHW,
// normalised per channel). Its definition, which the guests follow
// bit-exactly, is normalizeRef below.
var normalizers = []struct{ lang, path string }{
	{"c", "../sdk/c/examples/normalize/normalize.wasm"},
	{"rust", "../sdk/rust/examples/normalize/normalize.wasm"},
	{"go", "../sdk/go/examples/normalize/normalize.wasm"},
	{"assemblyscript", "../sdk/assemblyscript/examples/normalize/normalize.wasm"},
}

// normalizeRef is the native Go definition: scale and bias computed in
// float64 then rounded to float32; each value a float32 multiply then add.
func normalizeRef(img []uint8, out []float32, h, w, c int, mean, std []float64) {
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

var (
	imagenetMean = []float64{0.485, 0.456, 0.406}
	imagenetStd  = []float64{0.229, 0.224, 0.225}
)

// imageBatch makes rows random h×w×c images (every 5th row null when
// nulls) and a path column.
func imageBatch(t testing.TB, mem memory.Allocator, rows, h, w, c int, nulls bool) arrow.RecordBatch {
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Uint8, []int{h, w, c})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(h), uint64(c)))
	vals := make([]uint8, rows*h*w*c)
	for i := range vals {
		vals[i] = uint8(rng.UintN(256))
	}
	var valid []bool
	if nulls {
		valid = make([]bool, rows)
		for i := range valid {
			valid[i] = i%5 != 2
		}
	}
	img, err := tensor.NewArray(mem, typ, vals, valid)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Release()
	pb := array.NewStringBuilder(mem)
	defer pb.Release()
	for i := range rows {
		pb.Append(fmt.Sprintf("img/%04d.png", i))
	}
	paths := pb.NewArray()
	defer paths.Release()
	s := arrow.NewSchema([]arrow.Field{
		{Name: "path", Type: arrow.BinaryTypes.String},
		{Name: "image", Type: typ, Nullable: nulls},
	}, nil)
	return array.NewRecordBatch(s, []arrow.Array{paths, img}, int64(rows))
}

// TestNormalizeAllLanguages: the four guests give bit-identical results
// equal to the native Go definition, on sliced batches with nulls, for 1–4
// channels, with default and given configuration.
func TestNormalizeAllLanguages(t *testing.T) {
	ctx := context.Background()
	for _, n := range normalizers {
		t.Run(n.lang, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			for _, cfg := range []struct {
				json      string
				mean, std []float64
			}{
				{"", imagenetMean, imagenetStd},
				{`{"mean": [0.5], "std": [0.25, 0.5]}`, []float64{0.5}, []float64{0.25, 0.5}},
			} {
				opts := []Option{WithName(n.lang + "-normalize"), WithPoolSize(1), WithAllocator(mem), WithCacheDir(testCacheDir)}
				if cfg.json != "" {
					opts = append(opts, WithConfig([]byte(cfg.json)))
				}
				u, err := Load(ctx, readGuest(t, n.path), opts...)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []int{3, 1, 4, 2} {
					rec := imageBatch(t, mem, 23, 7, 5, c, true)
					sl := rec.NewSlice(3, 21)
					rec.Release()
					out, err := u.Transform(ctx, 0, sl)
					if err != nil {
						t.Fatalf("C=%d config %q: %v", c, cfg.json, err)
					}
					checkNormalized(t, sl, out, 7, 5, c, cfg.mean, cfg.std)
					out.Release()
					sl.Release()
					u.resetSchema()
				}
				u.Close(ctx)
			}
		})
	}
}

func checkNormalized(t *testing.T, in, out arrow.RecordBatch, h, w, c int, mean, std []float64) {
	t.Helper()
	if out.NumRows() != in.NumRows() || out.NumCols() != 2 || out.Schema().Field(0).Name != "path" || out.Schema().Field(1).Name != "tensor" {
		t.Fatalf("output schema %s, %d rows", out.Schema(), out.NumRows())
	}
	if !array.Equal(in.Column(0), out.Column(0)) {
		t.Fatal("path column not passed through")
	}
	got, ok := out.Column(1).(*tensor.FixedShapeArray)
	if !ok {
		t.Fatalf("tensor column is %T (%s), want a fixed_shape_tensor", out.Column(1), out.Column(1).DataType())
	}
	if shape := got.TensorType().Shape(); fmt.Sprint(shape) != fmt.Sprint([]int{c, h, w}) {
		t.Fatalf("tensor shape %v, want [%d %d %d]", shape, c, h, w)
	}
	img := in.Column(1).(*tensor.FixedShapeArray)
	want := make([]float32, c*h*w)
	for i := range int(in.NumRows()) {
		if img.IsNull(i) != got.IsNull(i) {
			t.Fatalf("row %d: null %t, want %t", i, got.IsNull(i), img.IsNull(i))
		}
		if img.IsNull(i) {
			continue
		}
		normalizeRef(tensor.Row[uint8](img, i), want, h, w, c, mean, std)
		for j, v := range tensor.Row[float32](got, i) {
			if math.Float32bits(v) != math.Float32bits(want[j]) {
				t.Fatalf("C=%d row %d value %d: %v, want %v", c, i, j, v, want[j])
			}
		}
	}
}

// BenchmarkNormalize: the same transform in each guest language and in
// native Go, on 32 images of 224×224×3 per batch. x_native is the guest's
// throughput (including the copies in and out) ÷ native Go's, measured in the
// same run: 1 means as fast.
func BenchmarkNormalize(b *testing.B) {
	ctx := context.Background()
	const rows, h, w, c = 32, 224, 224, 3
	rec := imageBatch(b, memory.DefaultAllocator, rows, h, w, c, false)
	defer rec.Release()
	img := rec.Column(1).(*tensor.FixedShapeArray)
	bytes := int64(rows * h * w * c)
	out := make([]float32, rows*h*w*c)
	nativeRate := float64(bytes) * perSecond(func() {
		for i := range rows {
			normalizeRef(tensor.Row[uint8](img, i), out[i*h*w*c:(i+1)*h*w*c], h, w, c, imagenetMean, imagenetStd)
		}
	})
	b.Run("lang=native-go", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			for i := range rows {
				normalizeRef(tensor.Row[uint8](img, i), out[i*h*w*c:(i+1)*h*w*c], h, w, c, imagenetMean, imagenetStd)
			}
		}
	})
	for _, n := range normalizers {
		b.Run("lang="+n.lang, func(b *testing.B) {
			u, err := Load(ctx, readGuest(b, n.path), WithPoolSize(1), WithCacheDir(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			defer u.Close(ctx)
			b.SetBytes(bytes)
			b.ResetTimer()
			for b.Loop() {
				out, err := u.Transform(ctx, 0, rec)
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
			rate := float64(bytes) * float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate/nativeRate, "x_native")
		})
	}
}
