package udfs

import (
	"math"
	"math/rand/v2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The Go reference of udfs/include/udfs_image.h: the same float64
// operations in the same order; explicit conversions keep Go from fusing a
// multiply and an add.

type axis struct {
	i0, i1 []int
	f      []float64
}

func newAxis(n, m int, nearest bool) axis {
	a := axis{make([]int, m), make([]int, m), make([]float64, m)}
	scale := float64(n) / float64(m)
	for x := range m {
		sx := float64((float64(x) + 0.5) * scale)
		if nearest {
			i := min(int(math.Floor(sx)), n-1)
			a.i0[x], a.i1[x] = i, i
			continue
		}
		sx -= 0.5
		sx = min(max(sx, 0), float64(n-1))
		i := int(math.Floor(sx))
		a.i0[x], a.i1[x], a.f[x] = i, min(i+1, n-1), sx-float64(i)
	}
	return a
}

func roundU8(v float64) uint8 {
	v = math.Floor(v + 0.5)
	return uint8(min(max(v, 0), 255))
}

// resizeRef resamples src (h×w×c) into dst's oh×ow block whose rows are
// stride pixels apart.
func resizeRef(src []uint8, h, w, c int, dst []uint8, oh, ow, stride int, nearest bool) {
	ax, ay := newAxis(w, ow, nearest), newAxis(h, oh, nearest)
	for y := range oh {
		r0, r1 := src[ay.i0[y]*w*c:], src[ay.i1[y]*w*c:]
		fy, gy := ay.f[y], 1-ay.f[y]
		for x := range ow {
			a0, a1 := ax.i0[x]*c, ax.i1[x]*c
			fx, gx := ax.f[x], 1-ax.f[x]
			for k := range c {
				top := float64(gx * float64(r0[a0+k]))
				top = top + float64(fx*float64(r0[a1+k]))
				bot := float64(gx * float64(r1[a0+k]))
				bot = bot + float64(fx*float64(r1[a1+k]))
				v := float64(gy * top)
				v = v + float64(fy*bot)
				dst[(y*stride+x)*c+k] = roundU8(v)
			}
		}
	}
}

func init() { generators["image_resize"] = imageResizeVectors }

// images makes rows random h×w×c images (null rows by valid).
func images(rng *rand.Rand, rows, h, w, c int) []uint8 {
	var out []uint8
	for range rows {
		out = append(out, randomImage(rng, h, w, c)...)
	}
	return out
}

func resizeRows(img []uint8, rows, h, w, c, oh, ow int, valid []bool, nearest bool) []uint8 {
	out := make([]uint8, rows*oh*ow*c)
	for r := range rows {
		if len(valid) > r && !valid[r] {
			continue
		}
		resizeRef(img[r*h*w*c:(r+1)*h*w*c], h, w, c, out[r*oh*ow*c:], oh, ow, ow, nearest)
	}
	return out
}

func imageResizeVectors(mem memory.Allocator) []vector {
	rng := rand.New(rand.NewPCG(3, 4))
	u8 := arrow.PrimitiveTypes.Uint8
	img1 := images(rng, 3, 3, 4, 3)
	v1 := []bool{true, false, true}
	in1 := batch(col{name: "id", arr: int64Col(mem, 1, 2, 3)}, col{name: "image", arr: tensorCol(mem, u8, []int{3, 4, 3}, img1, v1), nullable: true})
	out1 := batch(col{name: "id", arr: int64Col(mem, 1, 2, 3)},
		col{name: "image", arr: tensorCol(mem, u8, []int{6, 8, 3}, resizeRows(img1, 3, 3, 4, 3, 6, 8, v1, false), v1), nullable: true})

	img2 := images(rng, 2, 9, 7, 1)
	in2 := batch(col{name: "gray", arr: tensorCol(mem, u8, []int{9, 7, 1}, img2, nil), nullable: true})
	out2 := batch(col{name: "gray", arr: tensorCol(mem, u8, []int{9, 7, 1}, img2, nil), nullable: true},
		col{name: "small", arr: tensorCol(mem, u8, []int{3, 2, 1}, resizeRows(img2, 2, 9, 7, 1, 3, 2, nil, true), nil), nullable: true})

	img3 := images(rng, 1, 1, 1, 4)
	in3 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{1, 1, 4}, img3, nil), nullable: true})
	out3 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{2, 3, 4}, resizeRows(img3, 1, 1, 1, 4, 2, 3, nil, false), nil), nullable: true})

	img4 := images(rng, 2, 17, 13, 3)
	in4 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{17, 13, 3}, img4, nil), nullable: true})
	out4 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{5, 6, 3}, resizeRows(img4, 2, 17, 13, 3, 5, 6, nil, false), nil), nullable: true})
	return []vector{
		{file: "01", config: `{"width":8,"height":6}`, in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"column":"gray","output":"small","width":2,"height":3,"interpolation":"nearest"}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", config: `{"width":3,"height":2}`, in: []arrow.RecordBatch{in3}, out: []arrow.RecordBatch{out3}},
		{file: "04", config: `{"width":6,"height":5}`, in: []arrow.RecordBatch{in4}, out: []arrow.RecordBatch{out4}},
	}
}

func init() {
	generators["image_crop"] = imageCropVectors
	generators["letterbox"] = letterboxVectors
}

// cropRef: the ow×oh window at (x0, y0) of src, pad outside.
func cropRef(src []uint8, h, w, c, x0, y0, ow, oh int, pad uint8) []uint8 {
	out := make([]uint8, oh*ow*c)
	for y := range oh {
		for x := range ow {
			for k := range c {
				sy, sx := y0+y, x0+x
				v := pad
				if sy >= 0 && sy < h && sx >= 0 && sx < w {
					v = src[(sy*w+sx)*c+k]
				}
				out[(y*ow+x)*c+k] = v
			}
		}
	}
	return out
}

func floorDiv2(d int) int {
	if d >= 0 {
		return d / 2
	}
	return -((-d + 1) / 2)
}

func cropRows(img []uint8, rows, h, w, c, x0, y0, ow, oh int, pad uint8, valid []bool) []uint8 {
	var out []uint8
	for r := range rows {
		if len(valid) > r && !valid[r] {
			out = append(out, make([]uint8, ow*oh*c)...)
			continue
		}
		out = append(out, cropRef(img[r*h*w*c:(r+1)*h*w*c], h, w, c, x0, y0, ow, oh, pad)...)
	}
	return out
}

func imageCropVectors(mem memory.Allocator) []vector {
	rng := rand.New(rand.NewPCG(5, 6))
	u8 := arrow.PrimitiveTypes.Uint8
	img1 := images(rng, 3, 5, 6, 3)
	v1 := []bool{true, true, false}
	in1 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{5, 6, 3}, img1, v1), nullable: true}, col{name: "id", arr: int64Col(mem, 1, 2, 3)})
	out1 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{3, 3, 3}, cropRows(img1, 3, 5, 6, 3, floorDiv2(6-3), floorDiv2(5-3), 3, 3, 0, v1), v1), nullable: true},
		col{name: "id", arr: int64Col(mem, 1, 2, 3)})
	// Centre crop larger than the image: padding on every side.
	img2 := images(rng, 1, 2, 3, 1)
	in2 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{2, 3, 1}, img2, nil), nullable: true})
	out2 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{5, 4, 1}, cropRows(img2, 1, 2, 3, 1, floorDiv2(3-4), floorDiv2(2-5), 4, 5, 7, nil), nil), nullable: true})
	// A window at (-1, 2), partly outside, as a new column.
	img3 := images(rng, 2, 4, 4, 4)
	in3 := batch(col{name: "photo", arr: tensorCol(mem, u8, []int{4, 4, 4}, img3, nil), nullable: true})
	out3 := batch(col{name: "photo", arr: tensorCol(mem, u8, []int{4, 4, 4}, img3, nil), nullable: true},
		col{name: "patch", arr: tensorCol(mem, u8, []int{3, 2, 4}, cropRows(img3, 2, 4, 4, 4, -1, 2, 2, 3, 255, nil), nil), nullable: true})
	return []vector{
		{file: "01", config: `{"width":3,"height":3}`, in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"width":4,"height":5,"pad":7}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", config: `{"column":"photo","output":"patch","mode":"at","x":-1,"y":2,"width":2,"height":3,"pad":255}`, in: []arrow.RecordBatch{in3}, out: []arrow.RecordBatch{out3}},
	}
}

// letterboxRef letterboxes one image; it returns the pixels and the frame.
func letterboxRef(src []uint8, h, w, c, ow, oh int, pad uint8, center, nearest bool) ([]uint8, [3]float32) {
	s := min(float64(ow)/float64(w), float64(oh)/float64(h))
	nw := min(max(int(math.Floor(float64(w)*s+0.5)), 1), ow)
	nh := min(max(int(math.Floor(float64(h)*s+0.5)), 1), oh)
	px, py := 0, 0
	if center {
		px, py = (ow-nw)/2, (oh-nh)/2
	}
	out := make([]uint8, oh*ow*c)
	for i := range out {
		out[i] = pad
	}
	resizeRef(src, h, w, c, out[(py*ow+px)*c:], nh, nw, ow, nearest)
	return out, [3]float32{float32(s), float32(px), float32(py)}
}

func letterboxVectors(mem memory.Allocator) []vector {
	rng := rand.New(rand.NewPCG(7, 8))
	u8, f32 := arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Float32
	build := func(rows, h, w, c, ow, oh int, pad uint8, center, nearest bool, valid []bool) (img, out []uint8, frames []float32) {
		img = images(rng, rows, h, w, c)
		for r := range rows {
			if len(valid) > r && !valid[r] {
				out = append(out, make([]uint8, ow*oh*c)...)
				frames = append(frames, 0, 0, 0)
				continue
			}
			o, f := letterboxRef(img[r*h*w*c:(r+1)*h*w*c], h, w, c, ow, oh, pad, center, nearest)
			out, frames = append(out, o...), append(frames, f[:]...)
		}
		return img, out, frames
	}
	v1 := []bool{true, false}
	img1, o1, f1 := build(2, 4, 8, 3, 6, 6, 114, true, false, v1)
	in1 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{4, 8, 3}, img1, v1), nullable: true})
	out1 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{6, 6, 3}, o1, v1), nullable: true},
		col{name: "letterbox", arr: tensorCol(mem, f32, []int{3}, f1, v1), nullable: true})
	img2, o2, f2 := build(1, 9, 3, 1, 5, 4, 0, false, true, nil)
	in2 := batch(col{name: "id", arr: int64Col(mem, 42)}, col{name: "image", arr: tensorCol(mem, u8, []int{9, 3, 1}, img2, nil), nullable: true})
	out2 := batch(col{name: "id", arr: int64Col(mem, 42)}, col{name: "image", arr: tensorCol(mem, u8, []int{9, 3, 1}, img2, nil), nullable: true},
		col{name: "boxed", arr: tensorCol(mem, u8, []int{4, 5, 1}, o2, nil), nullable: true},
		col{name: "frame", arr: tensorCol(mem, f32, []int{3}, f2, nil), nullable: true})
	img3, o3, f3 := build(2, 7, 5, 3, 16, 12, 114, true, false, nil)
	in3 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{7, 5, 3}, img3, nil), nullable: true})
	out3 := batch(col{name: "image", arr: tensorCol(mem, u8, []int{12, 16, 3}, o3, nil), nullable: true},
		col{name: "letterbox", arr: tensorCol(mem, f32, []int{3}, f3, nil), nullable: true})
	return []vector{
		{file: "01", config: `{"width":6,"height":6}`, in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"width":5,"height":4,"pad":0,"placement":"topleft","interpolation":"nearest","output":"boxed","frame":"frame"}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", config: `{"width":16,"height":12}`, in: []arrow.RecordBatch{in3}, out: []arrow.RecordBatch{out3}},
	}
}
