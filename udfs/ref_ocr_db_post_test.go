package udfs

import (
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["ocr_db_post"] = ocrDBPostVectors }

type ocrDBConfig struct {
	thresh, boxThresh, unclip, minSize float64
	maxBoxes                           int
}

var ocrDBDefault = ocrDBConfig{thresh: 0.3, boxThresh: 0.6, unclip: 1.5, minSize: 3, maxBoxes: 1000}

type ocrPt struct{ x, y float64 }

type ocrBox struct {
	p     [8]float32
	score float32
	row   int
}

func ocrCross(o, a, b ocrPt) float64 {
	return float64((a.x-o.x)*(b.y-o.y)) - float64((a.y-o.y)*(b.x-o.x))
}

// ocrHull is Andrew's monotone chain over points sorted by (x, y).
func ocrHull(p []ocrPt) []ocrPt {
	if len(p) < 3 {
		return p
	}
	h := make([]ocrPt, 0, 2*len(p)+1)
	for _, q := range p {
		for len(h) >= 2 && ocrCross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	t := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- {
		for len(h) >= t && ocrCross(h[len(h)-2], h[len(h)-1], p[i]) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p[i])
	}
	return h[:len(h)-1]
}

type ocrRect struct{ ux, uy, u0, u1, v0, v1 float64 }

// ocrMinRect is rotating calipers over the hull's edges; the first smallest
// area wins.
func ocrMinRect(h []ocrPt) ocrRect {
	best, bestArea := ocrRect{ux: 1}, -1.0
	for i := range h {
		a, b := h[i], h[(i+1)%len(h)]
		ex, ey := b.x-a.x, b.y-a.y
		l := math.Sqrt(float64(ex*ex) + float64(ey*ey))
		if !(l > 0) {
			continue
		}
		ux, uy := ex/l, ey/l
		u0, u1, v0, v1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, q := range h {
			du := float64(q.x*ux) + float64(q.y*uy)
			dv := float64(q.y*ux) - float64(q.x*uy)
			u0, u1, v0, v1 = min(u0, du), max(u1, du), min(v0, dv), max(v1, dv)
		}
		if area := float64((u1 - u0) * (v1 - v0)); bestArea < 0 || area < bestArea {
			best, bestArea = ocrRect{ux, uy, u0, u1, v0, v1}, area
		}
	}
	return best
}

func (r ocrRect) corner(u, v float64) ocrPt {
	return ocrPt{float64(u*r.ux) - float64(v*r.uy), float64(u*r.uy) + float64(v*r.ux)}
}

// miniBox orders the corners as PaddleOCR's get_mini_boxes: tl, tr, br, bl.
func (r ocrRect) miniBox() [4]ocrPt {
	c := []ocrPt{r.corner(r.u0, r.v0), r.corner(r.u1, r.v0), r.corner(r.u1, r.v1), r.corner(r.u0, r.v1)}
	sort.SliceStable(c, func(i, j int) bool { return c[i].x < c[j].x })
	var q [4]ocrPt
	if c[1].y > c[0].y {
		q[0], q[3] = c[0], c[1]
	} else {
		q[0], q[3] = c[1], c[0]
	}
	if c[3].y > c[2].y {
		q[1], q[2] = c[2], c[3]
	} else {
		q[1], q[2] = c[3], c[2]
	}
	return q
}

func ocrClamp01(v float32) float32 {
	if v > 0 {
		return min(v, 1)
	}
	return 0 // and NaN
}

func ocrQuadMean(P []float32, H, W int, q [4]ocrPt) float64 {
	minx, maxx, miny, maxy := q[0].x, q[0].x, q[0].y, q[0].y
	for _, p := range q[1:] {
		minx, maxx, miny, maxy = min(minx, p.x), max(maxx, p.x), min(miny, p.y), max(maxy, p.y)
	}
	x0, x1 := max(int(math.Floor(minx)), 0), min(int(math.Ceil(maxx)), W-1)
	y0, y1 := max(int(math.Floor(miny)), 0), min(int(math.Ceil(maxy)), H-1)
	o := -1.0
	if ocrCross(q[0], q[1], q[2]) >= 0 {
		o = 1
	}
	sum, n := 0.0, 0
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			p := ocrPt{float64(x), float64(y)}
			in := true
			for i := 0; i < 4 && in; i++ {
				in = o*ocrCross(q[i], q[(i+1)%4], p) >= -1e-9
			}
			if in {
				sum += float64(ocrClamp01(P[y*W+x]))
				n++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// ocrDBPostRef is the reference: the boxes of map P (H × W) in reading order.
func ocrDBPostRef(P []float32, H, W int, frame [4]float32, row int, cfg ocrDBConfig) []ocrBox {
	mark := make([]uint8, H*W)
	for i, v := range P {
		if v > float32(cfg.thresh) {
			mark[i] = 1
		}
	}
	sx, sy, iw, ih := float64(frame[0]), float64(frame[1]), float64(frame[2]), float64(frame[3])
	var out []ocrBox
	for start := 0; start < H*W && len(out) < cfg.maxBoxes; start++ {
		if mark[start] != 1 {
			continue
		}
		rowMin, rowMax := map[int]int{}, map[int]int{}
		stack := []int{start}
		mark[start] = 2
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			y, x := i/W, i%W
			if m, ok := rowMin[y]; !ok || x < m {
				rowMin[y] = x
			}
			if m, ok := rowMax[y]; !ok || x > m {
				rowMax[y] = x
			}
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					yy, xx := y+dy, x+dx
					if (dx == 0 && dy == 0) || yy < 0 || yy >= H || xx < 0 || xx >= W {
						continue
					}
					if k := yy*W + xx; mark[k] == 1 {
						mark[k] = 2
						stack = append(stack, k)
					}
				}
			}
		}
		var pts []ocrPt
		for y, a := range rowMin {
			pts = append(pts, ocrPt{float64(a), float64(y)})
			if b := rowMax[y]; b != a {
				pts = append(pts, ocrPt{float64(b), float64(y)})
			}
		}
		sort.Slice(pts, func(i, j int) bool {
			return pts[i].x < pts[j].x || pts[i].x == pts[j].x && pts[i].y < pts[j].y
		})
		h := ocrHull(pts)
		if len(h) < 3 {
			continue
		}
		r := ocrMinRect(h)
		if r.u1-r.u0 < cfg.minSize || r.v1-r.v0 < cfg.minSize {
			continue
		}
		score := ocrQuadMean(P, H, W, r.miniBox())
		if !(score >= cfg.boxThresh) {
			continue
		}
		bw, bh := r.u1-r.u0, r.v1-r.v0
		d := float64(float64(bw*bh)*cfg.unclip) / float64(2*(bw+bh))
		r.u0, r.u1, r.v0, r.v1 = r.u0-d, r.u1+d, r.v0-d, r.v1+d
		if r.u1-r.u0 < cfg.minSize+2 || r.v1-r.v0 < cfg.minSize+2 {
			continue
		}
		b := ocrBox{score: float32(score), row: row}
		for k, q := range r.miniBox() {
			b.p[2*k] = float32(min(max(float64(q.x*sx), 0), iw))
			b.p[2*k+1] = float32(min(max(float64(q.y*sy), 0), ih))
		}
		out = append(out, b)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].p[1] < out[j].p[1] || out[i].p[1] == out[j].p[1] && out[i].p[0] < out[j].p[0]
	})
	for i := 0; i+1 < len(out); i++ {
		for m := i; m >= 0; m-- {
			if ocrAbs32(out[m+1].p[1]-out[m].p[1]) < 10 && out[m+1].p[0] < out[m].p[0] {
				out[m], out[m+1] = out[m+1], out[m]
			} else {
				break
			}
		}
	}
	return out
}

func ocrAbs32(v float32) float32 { return float32(math.Abs(float64(v))) }

// ocrMap is a test map under construction.
type ocrMap struct {
	h, w int
	p    []float32
}

func newOCRMap(h, w int, bg float32) *ocrMap {
	m := &ocrMap{h, w, make([]float32, h*w)}
	for i := range m.p {
		m.p[i] = bg
	}
	return m
}

// rect fills [x0, x1] × [y0, y1] with v, plus a small gradient along x.
func (m *ocrMap) rect(x0, y0, x1, y1 int, v, slope float32) *ocrMap {
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			m.p[y*m.w+x] = v + slope*float32(x-x0)
		}
	}
	return m
}

// band fills the pixels within half of the line y = y0 + k (x - x0), x in [x0, x1].
func (m *ocrMap) band(x0, x1 int, y0, k, half float64, v float32) *ocrMap {
	for y := range m.h {
		for x := x0; x <= x1; x++ {
			if math.Abs(float64(y)-(y0+k*float64(x-x0))) <= half {
				m.p[y*m.w+x] = v
			}
		}
	}
	return m
}

func (m *ocrMap) set(x, y int, v float32) *ocrMap { m.p[y*m.w+x] = v; return m }

// ocrDBVector is one vector's rows: maps (nil: a null row), frames, and the
// other columns (id, path, a small image tensor) copied per box.
type ocrDBVector struct {
	maps   []*ocrMap
	frames [][4]float32
	paths  []string
	pvalid []bool
}

func (v ocrDBVector) build(mem memory.Allocator, column string, twoD bool, names [3]string, cfg ocrDBConfig) (in, out arrow.RecordBatch) {
	f32, u8 := arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Uint8
	n := len(v.maps)
	h, w := 0, 0
	for _, m := range v.maps {
		if m != nil {
			h, w = m.h, m.w
		}
	}
	var probs, frames []float32
	var imgs []uint8
	ids := make([]int64, n)
	pvalid := make([]bool, n)
	var boxes []ocrBox
	for r, m := range v.maps {
		ids[r] = int64(100 + r)
		pvalid[r] = m != nil
		for k := range 2 * 3 * 3 {
			imgs = append(imgs, uint8(r*18+k))
		}
		frames = append(frames, v.frames[r][:]...)
		if m == nil {
			probs = append(probs, make([]float32, h*w)...)
			continue
		}
		probs = append(probs, m.p...)
		boxes = append(boxes, ocrDBPostRef(m.p, h, w, v.frames[r], r, cfg)...)
	}
	shape := []int{1, h, w}
	if twoD {
		shape = []int{h, w}
	}
	in = batch(col{name: "id", arr: int64Col(mem, ids...)},
		col{name: "path", arr: utf8Col(mem, v.paths, v.pvalid), nullable: true},
		col{name: column, arr: tensorCol(mem, f32, shape, probs, pvalid), nullable: true},
		col{name: "img", arr: tensorCol(mem, u8, []int{2, 3, 3}, imgs, nil), nullable: true},
		col{name: "det_frame", arr: tensorCol(mem, f32, []int{4}, frames, nil), nullable: true})

	var oid []int64
	var opath []string
	var opvalid []bool
	var oimg []uint8
	var oframe, obox, oscore []float32
	var oline []int32
	for i, b := range boxes {
		oid = append(oid, ids[b.row])
		opath = append(opath, v.paths[b.row])
		opvalid = append(opvalid, len(v.pvalid) == 0 || v.pvalid[b.row])
		oimg = append(oimg, imgs[b.row*18:(b.row+1)*18]...)
		oframe = append(oframe, frames[b.row*4:(b.row+1)*4]...)
		obox = append(obox, b.p[:]...)
		oscore = append(oscore, b.score)
		line := int32(0)
		if i > 0 && boxes[i-1].row == b.row {
			line = oline[i-1] + 1
		}
		oline = append(oline, line)
	}
	if v.pvalid == nil {
		opvalid = nil
	}
	out = batch(col{name: "id", arr: int64Col(mem, oid...)},
		col{name: "path", arr: utf8Col(mem, opath, opvalid), nullable: true},
		col{name: "img", arr: tensorCol(mem, u8, []int{2, 3, 3}, oimg, nil), nullable: true},
		col{name: "det_frame", arr: tensorCol(mem, f32, []int{4}, oframe, nil), nullable: true},
		col{name: names[0], arr: tensorCol(mem, f32, []int{4, 2}, obox, nil), nullable: true},
		col{name: names[1], arr: float32Col(mem, oscore, nil)},
		col{name: names[2], arr: int32Col(mem, oline, nil)})
	return in, out
}

func ocrDBPostVectors(mem memory.Allocator) []vector {
	// Two lines, a speck (one pixel: no area), a faint blob (score 0.4 <
	// 0.6), an infinite and a NaN pixel; a null map; boxes clipped to a
	// small frame.
	page := newOCRMap(24, 40, 0.05).
		rect(4, 3, 19, 8, 0.85, 0.005).
		rect(6, 14, 30, 19, 0.8, 0.003).
		rect(25, 3, 36, 7, 0.4, 0).
		set(35, 11, 0.95).
		set(10, 5, float32(math.Inf(1))).
		set(12, 16, float32(math.NaN())).
		set(2, 22, float32(math.NaN()))
	small := newOCRMap(24, 40, 0).rect(20, 10, 38, 16, 0.9, 0)
	v1 := ocrDBVector{
		maps:   []*ocrMap{page, nil, small},
		frames: [][4]float32{{2, 2, 80, 48}, {1, 1, 40, 24}, {1, 1, 30, 20}},
		paths:  []string{"a.png", "b.png", ""},
		pvalid: []bool{true, true, false},
	}
	names := [3]string{"box", "box_score", "line"}
	in1, out1 := v1.build(mem, "prob", false, names, ocrDBDefault)
	in3, out3 := v1.build(mem, "prob", false, names, ocrDBConfig{0.3, 0.6, 1.5, 3, 1})

	// A tilted line; two boxes on one line, the right one higher (reading
	// order puts the left first) and a faint blob kept by box_thresh 0.3.
	tilted := newOCRMap(20, 32, 0.1).band(3, 28, 5, 0.15, 2, 0.9)
	line := newOCRMap(20, 32, 0.1).rect(2, 8, 10, 12, 0.9, 0).rect(14, 6, 28, 11, 0.7, 0).rect(4, 15, 12, 18, 0.45, 0)
	v2 := ocrDBVector{
		maps:   []*ocrMap{tilted, line},
		frames: [][4]float32{{1, 1, 32, 20}, {1.5, 0.5, 48, 10}},
		paths:  []string{"t.png", "l.png"},
	}
	in2, out2 := v2.build(mem, "p", true, [3]string{"quad", "s", "n"}, ocrDBConfig{0.3, 0.3, 2.0, 3, 1000})

	f32 := arrow.PrimitiveTypes.Float32
	in4 := batch(col{name: "prob", arr: tensorCol(mem, f32, []int{2, 3, 3}, make([]float32, 18), nil), nullable: true},
		col{name: "det_frame", arr: tensorCol(mem, f32, []int{4}, []float32{1, 1, 3, 3}, nil), nullable: true})
	in5 := batch(col{name: "prob", arr: tensorCol(mem, f32, []int{1, 3, 3}, make([]float32, 9), nil), nullable: true})
	return []vector{
		{file: "01", in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"column":"p","box":"quad","score":"s","line":"n","unclip_ratio":2.0,"box_thresh":0.3}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", config: `{"max_boxes":1}`, in: []arrow.RecordBatch{in3}, out: []arrow.RecordBatch{out3}},
		{file: "04", in: []arrow.RecordBatch{in4}, errorText: "a probability map of shape [1, H, W] or [H, W] is required"},
		{file: "05", in: []arrow.RecordBatch{in5}, errorText: `column "det_frame": not in the input batch`},
	}
}
