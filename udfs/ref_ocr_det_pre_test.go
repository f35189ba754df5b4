package udfs

import (
	"math"
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["ocr_det_pre"] = ocrDetPreVectors }

type ocrDetConfig struct {
	width, height int
	stretch, bgr  bool
	mean, std     []float64
	rng           float64
}

var ocrPaddleDet = ocrDetConfig{bgr: true, mean: []float64{0.485, 0.456, 0.406}, std: []float64{0.229, 0.224, 0.225}, rng: 255}

// ocrAt is v[i], or the last element when v is shorter.
func ocrAt(v []float64, i int) float64 { return v[min(i, len(v)-1)] }

// ocrMul is a float32 product rounded on its own (an explicit conversion
// keeps the compiler from fusing it into a multiply-add).
func ocrMul(a, b float32) float32 { return float32(a * b) }

// ocrTaps is ocr_det_pre's bilinear axis: for each of n outputs, the two
// source indices and the weight of the second, in float32.
func ocrTaps(n, size int, ratio float32) (i0, i1 []int, f []float32) {
	i0, i1, f = make([]int, n), make([]int, n), make([]float32, n)
	for i := range n {
		s := ocrMul(float32(i)+0.5, ratio) - 0.5
		if s < 0 {
			s = 0
		}
		a := min(int(s), size-1)
		w := s - float32(a)
		b := min(a+1, size-1)
		if b == a {
			w = 0
		}
		i0[i], i1[i], f[i] = a, b, w
	}
	return i0, i1, f
}

// ocrDetPreRef is the reference: the detector input (CHW, cfg.height ×
// cfg.width) and the frame of one h×w×c image.
func ocrDetPreRef(img []uint8, h, w, c int, cfg ocrDetConfig) ([]float32, [4]float32) {
	W, H := cfg.width, cfg.height
	nw, nh := W, H
	if !cfg.stretch {
		s := math.Min(float64(W)/float64(w), float64(H)/float64(h))
		nw = min(max(int(math.Floor(float64(w)*s+0.5)), 1), W)
		nh = min(max(int(math.Floor(float64(h)*s+0.5)), 1), H)
	}
	rx, ry := float32(float64(w)/float64(nw)), float32(float64(h)/float64(nh))
	x0, x1, fx := ocrTaps(nw, w, rx)
	y0, y1, fy := ocrTaps(nh, h, ry)
	out := make([]float32, 3*H*W)
	for k := range 3 {
		scale := float32(1 / (cfg.rng * ocrAt(cfg.std, k)))
		bias := float32(-ocrAt(cfg.mean, k) / ocrAt(cfg.std, k))
		from := k
		if cfg.bgr {
			from = 2 - k
		}
		if c == 1 {
			from = 0
		}
		px := func(y, x int) float32 { return float32(img[(y*w+x)*c+from]) }
		for y := range nh {
			for x := range nw {
				gx, gy := 1-fx[x], 1-fy[y]
				top := ocrMul(px(y0[y], x0[x]), gx) + ocrMul(px(y0[y], x1[x]), fx[x])
				bot := ocrMul(px(y1[y], x0[x]), gx) + ocrMul(px(y1[y], x1[x]), fx[x])
				v := ocrMul(top, gy) + ocrMul(bot, fy[y])
				out[k*H*W+y*W+x] = ocrMul(v, scale) + bias
			}
		}
	}
	return out, [4]float32{rx, ry, float32(w), float32(h)}
}

// ocrDetPreVector builds rows images of h×w×c (valid nil: no nulls) in column
// column, and the expected output under cfg with output names out, frame.
func ocrDetPreVector(mem memory.Allocator, rng *rand.Rand, rows, h, w, c int, valid []bool, column, out, frame string, cfg ocrDetConfig) (in, want arrow.RecordBatch) {
	var img []uint8
	var x, f []float32
	for r := range rows {
		one := randomImage(rng, h, w, c)
		img = append(img, one...)
		if len(valid) > 0 && !valid[r] {
			x = append(x, make([]float32, 3*cfg.height*cfg.width)...)
			f = append(f, 0, 0, 0, 0)
			continue
		}
		o, fr := ocrDetPreRef(one, h, w, c, cfg)
		x = append(x, o...)
		f = append(f, fr[:]...)
	}
	ids := make([]int64, rows)
	for i := range ids {
		ids[i] = int64(7 + i)
	}
	u8, f32 := arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Float32
	in = batch(col{name: "id", arr: int64Col(mem, ids...)},
		col{name: column, arr: tensorCol(mem, u8, []int{h, w, c}, img, valid), nullable: true})
	want = batch(col{name: "id", arr: int64Col(mem, ids...)},
		col{name: column, arr: tensorCol(mem, u8, []int{h, w, c}, img, valid), nullable: true},
		col{name: out, arr: tensorCol(mem, f32, []int{3, cfg.height, cfg.width}, x, valid), nullable: true},
		col{name: frame, arr: tensorCol(mem, f32, []int{4}, f, valid), nullable: true})
	return in, want
}

func ocrDetPreVectors(mem memory.Allocator) []vector {
	rng := rand.New(rand.NewPCG(31, 4))
	c1 := ocrPaddleDet
	c1.width, c1.height = 16, 16
	in1, out1 := ocrDetPreVector(mem, rng, 3, 6, 9, 3, []bool{true, false, true}, "image", "det_input", "det_frame", c1)
	c2 := ocrDetConfig{width: 8, height: 12, stretch: true, mean: []float64{0.5}, std: []float64{0.25}, rng: 255}
	in2, out2 := ocrDetPreVector(mem, rng, 2, 5, 4, 1, nil, "image", "x", "f", c2)
	c3 := ocrPaddleDet
	c3.width, c3.height = 8, 8
	in3, out3 := ocrDetPreVector(mem, rng, 2, 20, 12, 4, nil, "photo", "det_input", "det_frame", c3)
	in4, out4 := ocrDetPreVector(mem, rng, 1, 4, 4, 3, nil, "image", "det_input", "det_frame", c1)
	out4.Release()
	in5, out5 := ocrDetPreVector(mem, rng, 1, 4, 4, 3, nil, "image", "det_input", "det_frame", c1)
	out5.Release()
	return []vector{
		{file: "01", config: `{"width":16,"height":16,"stride":8}`, in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"width":8,"height":12,"stride":4,"resize":"stretch","bgr":false,"mean":[0.5],"std":[0.25],"output":"x","frame":"f"}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", config: `{"column":"photo","width":8,"height":8,"stride":8}`, in: []arrow.RecordBatch{in3}, out: []arrow.RecordBatch{out3}},
		{file: "04", config: `{"width":20}`, in: []arrow.RecordBatch{in4}, errorText: "must be multiples of stride 32"},
		{file: "05", config: `{"column":"photo"}`, in: []arrow.RecordBatch{in5}, errorText: `column "photo": not in the input batch`},
	}
}
