package udfs

import (
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["image_normalize"] = imageNormalizeVectors }

type normalizeConfig struct {
	mean, std []float64
	rng       float64
	hwc, bgr  bool
}

func at(v []float64, i int) float64 { return v[min(i, len(v)-1)] }

// normalizeRef is the reference: out = float32(x)*scale[c] + bias[c], each
// operation rounded to float32.
func normalizeRef(img []uint8, h, w, c int, cfg normalizeConfig) []float32 {
	out := make([]float32, h*w*c)
	for ch := range c {
		scale := float32(1 / (cfg.rng * at(cfg.std, ch)))
		bias := float32(-at(cfg.mean, ch) / at(cfg.std, ch))
		from := ch
		if cfg.bgr {
			from = c - 1 - ch
		}
		for p := range h * w {
			x := float32(float32(img[p*c+from]) * scale)
			v := x + bias
			if cfg.hwc {
				out[p*c+ch] = v
			} else {
				out[ch*h*w+p] = v
			}
		}
	}
	return out
}

var imagenet = normalizeConfig{mean: []float64{0.485, 0.456, 0.406}, std: []float64{0.229, 0.224, 0.225}, rng: 255}

// normalizeVector builds rows images of h×w×c (nil valid: no nulls) and the
// expected output under cfg.
func normalizeVector(mem memory.Allocator, rng *rand.Rand, rows, h, w, c int, valid []bool, column string, cfg normalizeConfig) (in, out arrow.RecordBatch) {
	var img []uint8
	var want []float32
	for r := range rows {
		one := randomImage(rng, h, w, c)
		img = append(img, one...)
		if len(valid) > r && !valid[r] {
			want = append(want, make([]float32, h*w*c)...)
			continue
		}
		want = append(want, normalizeRef(one, h, w, c, cfg)...)
	}
	ids := make([]int64, rows)
	for i := range ids {
		ids[i] = int64(100 + i)
	}
	shape := []int{c, h, w}
	if cfg.hwc {
		shape = []int{h, w, c}
	}
	in = batch(col{name: "id", arr: int64Col(mem, ids...)},
		col{name: column, arr: tensorCol(mem, arrow.PrimitiveTypes.Uint8, []int{h, w, c}, img, valid), nullable: true})
	out = batch(col{name: "id", arr: int64Col(mem, ids...)},
		col{name: column, arr: tensorCol(mem, arrow.PrimitiveTypes.Uint8, []int{h, w, c}, img, valid), nullable: true},
		col{name: "tensor", arr: tensorCol(mem, arrow.PrimitiveTypes.Float32, shape, want, valid), nullable: true})
	return in, out
}

func imageNormalizeVectors(mem memory.Allocator) []vector {
	rng := rand.New(rand.NewPCG(1, 2))
	in1, out1 := normalizeVector(mem, rng, 3, 4, 5, 3, []bool{true, false, true}, "image", imagenet)
	custom := normalizeConfig{mean: []float64{0.5}, std: []float64{0.5}, rng: 255, hwc: true, bgr: true}
	in2, out2 := normalizeVector(mem, rng, 2, 3, 2, 3, nil, "image", custom)
	rgba := normalizeConfig{mean: []float64{0, 0, 0, 0.5}, std: []float64{1, 1, 1, 0.25}, rng: 1}
	in3, out3 := normalizeVector(mem, rng, 2, 2, 2, 4, nil, "photo", rgba)
	in4, out4 := normalizeVector(mem, rng, 1, 2, 2, 3, nil, "image", imagenet)
	out4.Release()
	return []vector{
		{file: "01", in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"layout":"HWC","bgr":true,"mean":[0.5],"std":[0.5]}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", config: `{"column":"photo","mean":[0,0,0,0.5],"std":[1,1,1,0.25],"range":1}`, in: []arrow.RecordBatch{in3}, out: []arrow.RecordBatch{out3}},
		{file: "04", config: `{"column":"photo"}`, in: []arrow.RecordBatch{in4}, errorText: `column "photo": not in the input batch`},
	}
}
