package udfs

import (
	"math"
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["ocr_crop"] = ocrCropVectors }

type ocrCropConfig struct {
	height, width int
	rotate        float64
	mean, std     []float64
	rng, pad      float64
	bgr           bool
}

func ocrDist(ax, ay, bx, by float64) float64 {
	return math.Sqrt(float64((ax-bx)*(ax-bx)) + float64((ay-by)*(ay-by)))
}

// ocrCropRef is the reference: the crop (CHW, height × width) of box b in the
// h×w×c image, and its valid width.
func ocrCropRef(img []uint8, h, w, c int, b [8]float32, cfg ocrCropConfig) ([]float32, int32) {
	OH, OW := cfg.height, cfg.width
	out := make([]float32, 3*OH*OW)
	for i := range out {
		out[i] = float32(cfg.pad)
	}
	var q [4][2]float64
	for k := range 4 {
		x, y := float64(b[2*k]), float64(b[2*k+1])
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			return out, 0
		}
		q[k] = [2]float64{x, y}
	}
	bw := math.Max(ocrDist(q[0][0], q[0][1], q[1][0], q[1][1]), ocrDist(q[3][0], q[3][1], q[2][0], q[2][1]))
	bh := math.Max(ocrDist(q[0][0], q[0][1], q[3][0], q[3][1]), ocrDist(q[1][0], q[1][1], q[2][0], q[2][1]))
	if cfg.rotate > 0 && bh >= float64(cfg.rotate*bw) {
		q = [4][2]float64{q[1], q[2], q[3], q[0]}
		bw, bh = bh, bw
	}
	if !(bw >= 1 && bh >= 1) || math.IsInf(bw, 0) || math.IsInf(bh, 0) {
		return out, 0
	}
	want := math.Ceil(float64(float64(OH)*bw) / bh)
	ow := OW
	if want < 1 {
		ow = 1
	} else if want <= float64(OW) {
		ow = int(want)
	}
	clampc := func(s float64, n int) float64 {
		if s > 0 {
			return math.Min(s, float64(n-1))
		}
		return 0
	}
	var scale, bias [3]float32
	var from [3]int
	for k := range 3 {
		scale[k] = float32(1 / (cfg.rng * ocrAt(cfg.std, k)))
		bias[k] = float32(-ocrAt(cfg.mean, k) / ocrAt(cfg.std, k))
		from[k] = k
		if cfg.bgr {
			from[k] = 2 - k
		}
		if c == 1 {
			from[k] = 0
		}
	}
	for y := range OH {
		bb := (float64(y) + 0.5) / float64(OH)
		for x := range ow {
			a := (float64(x) + 0.5) / float64(ow)
			w0, w1, w2, w3 := float64((1-a)*(1-bb)), float64(a*(1-bb)), float64(a*bb), float64((1-a)*bb)
			px := float64(float64(float64(float64(w0*q[0][0])+float64(w1*q[1][0]))+float64(w2*q[2][0]))+float64(w3*q[3][0])) - 0.5
			py := float64(float64(float64(float64(w0*q[0][1])+float64(w1*q[1][1]))+float64(w2*q[2][1]))+float64(w3*q[3][1])) - 0.5
			px, py = clampc(px, w), clampc(py, h)
			x0, y0 := int(px), int(py)
			x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
			fx, fy := float32(px-float64(x0)), float32(py-float64(y0))
			at := func(yy, xx, ch int) float32 { return float32(img[(yy*w+xx)*c+ch]) }
			for k := range 3 {
				ch := from[k]
				top := ocrMul(at(y0, x0, ch), 1-fx) + ocrMul(at(y0, x1, ch), fx)
				bot := ocrMul(at(y1, x0, ch), 1-fx) + ocrMul(at(y1, x1, ch), fx)
				v := ocrMul(top, 1-fy) + ocrMul(bot, fy)
				out[k*OH*OW+y*OW+x] = ocrMul(v, scale[k]) + bias[k]
			}
		}
	}
	return out, int32(ow)
}

// ocrCropVector crops boxes (one per row; bvalid nil: no nulls) out of one
// random h×w×c image repeated per row.
func ocrCropVector(mem memory.Allocator, rng *rand.Rand, h, w, c int, boxes [][8]float32, bvalid []bool, keep bool, names [2]string, cfg ocrCropConfig) (in, out arrow.RecordBatch) {
	one := randomImage(rng, h, w, c)
	var img []uint8
	var bx, crops []float32
	var widths []int32
	ids := make([]int64, len(boxes))
	for r, b := range boxes {
		ids[r] = int64(r)
		img = append(img, one...)
		bx = append(bx, b[:]...)
		if len(bvalid) > 0 && !bvalid[r] {
			cr := make([]float32, 3*cfg.height*cfg.width)
			for i := range cr {
				cr[i] = float32(cfg.pad)
			}
			crops = append(crops, cr...)
			widths = append(widths, 0)
			continue
		}
		cr, ow := ocrCropRef(one, h, w, c, b, cfg)
		crops = append(crops, cr...)
		widths = append(widths, ow)
	}
	u8, f32 := arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Float32
	in = batch(col{name: "id", arr: int64Col(mem, ids...)},
		col{name: "image", arr: tensorCol(mem, u8, []int{h, w, c}, img, nil), nullable: true},
		col{name: "box", arr: tensorCol(mem, f32, []int{4, 2}, bx, bvalid), nullable: true})
	cols := []col{{name: "id", arr: int64Col(mem, ids...)}}
	if keep {
		cols = append(cols, col{name: "image", arr: tensorCol(mem, u8, []int{h, w, c}, img, nil), nullable: true})
	}
	cols = append(cols,
		col{name: "box", arr: tensorCol(mem, f32, []int{4, 2}, bx, bvalid), nullable: true},
		col{name: names[0], arr: tensorCol(mem, f32, []int{3, cfg.height, cfg.width}, crops, bvalid), nullable: true},
		col{name: names[1], arr: int32Col(mem, widths, bvalid), nullable: true})
	return in, batch(cols...)
}

func ocrCropVectors(mem memory.Allocator) []vector {
	rng := rand.New(rand.NewPCG(5, 6))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	boxes := [][8]float32{
		{1, 2, 13, 2, 13, 7, 1, 7},             // level
		{2, 3.5, 14, 1.5, 14.5, 5.5, 2.5, 7.5}, // tilted
		{6, 0, 9, 0, 9, 9.5, 6, 9.5},           // tall: read turned
		{3, 3, 3, 3, 3, 3, 3, 3},               // degenerate
		{nan, 1, 5, 1, 5, 4, 1, 4},             // not finite
		{0, 0, inf, 0, 5, 5, 0, 5},             // not finite
		{1, 1, 5, 1, 5, 4, 1, 4},               // null
		{-4, -2, 20, -2, 20, 12, -4, 12},       // beyond the image: edges replicated
	}
	valid := []bool{true, true, true, true, true, true, false, true}
	c1 := ocrCropConfig{height: 4, width: 12, rotate: 1.5, mean: []float64{0.5}, std: []float64{0.5}, rng: 255, bgr: true}
	in1, out1 := ocrCropVector(mem, rng, 10, 16, 3, boxes, valid, false, [2]string{"crop", "crop_width"}, c1)
	c2 := ocrCropConfig{height: 6, width: 8, mean: []float64{0}, std: []float64{1}, rng: 1, pad: -1}
	in2, out2 := ocrCropVector(mem, rng, 8, 8, 1, [][8]float32{{0.5, 0.5, 7.5, 0.5, 7.5, 7.5, 0.5, 7.5}, {1, 1, 3, 1, 3, 7, 1, 7}}, nil, true, [2]string{"x", "w"}, c2)
	f32 := arrow.PrimitiveTypes.Float32
	in3 := batch(col{name: "image", arr: tensorCol(mem, arrow.PrimitiveTypes.Uint8, []int{2, 2, 3}, make([]uint8, 12), nil), nullable: true},
		col{name: "box", arr: tensorCol(mem, f32, []int{3, 2}, make([]float32, 6), nil), nullable: true})
	return []vector{
		{file: "01", config: `{"height":4,"width":12}`, in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"height":6,"width":8,"rotate":0,"bgr":false,"mean":[0],"std":[1],"range":1,"pad":-1,"keep_image":true,"output":"x","width_output":"w"}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", in: []arrow.RecordBatch{in3}, errorText: `column "box": a box of 4 corners (tensor [4, 2]) is required, not 6 values`},
	}
}
