package udfs

import (
	"cmp"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["nms"] = nmsVectors }

type nmsCfg struct {
	iou, score    float64
	max           int
	aware, cxcywh bool
}

func corners(d []float32, cxcywh bool) [4]float64 {
	if cxcywh {
		hw, hh := float64(d[2])/2, float64(d[3])/2
		return [4]float64{float64(d[0]) - hw, float64(d[1]) - hh, float64(d[0]) + hw, float64(d[1]) + hh}
	}
	return [4]float64{float64(d[0]), float64(d[1]), float64(d[2]), float64(d[3])}
}

func iouRef(a, b [4]float64) float64 {
	ix := min(a[2], b[2]) - max(a[0], b[0])
	iy := min(a[3], b[3]) - max(a[1], b[1])
	if !(ix > 0) || !(iy > 0) {
		return 0
	}
	inter := float64(ix * iy)
	areaA := float64(max(a[2]-a[0], 0) * max(a[3]-a[1], 0))
	areaB := float64(max(b[2]-b[0], 0) * max(b[3]-b[1], 0))
	uni := areaA + areaB
	uni -= inter
	if !(uni > 0) {
		return 0
	}
	return inter / uni
}

// nmsRef returns the kept indices of one row of w-value detections.
func nmsRef(d []float32, w int, c nmsCfg) []int32 {
	n := len(d) / w
	var order []int32
	for i := range n {
		if float64(d[i*w+4]) >= c.score {
			order = append(order, int32(i))
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(d[b*int32(w)+4], d[a*int32(w)+4]) })
	var kept []int32
	var boxes [][4]float64
	for _, i := range order {
		if c.max > 0 && len(kept) >= c.max {
			break
		}
		bi := corners(d[int(i)*w:], c.cxcywh)
		ok := true
		for k, q := range kept {
			if c.aware && w == 6 && d[int(q)*w+5] != d[int(i)*w+5] {
				continue
			}
			if iouRef(boxes[k], bi) > c.iou {
				ok = false
				break
			}
		}
		if ok {
			kept, boxes = append(kept, i), append(boxes, bi)
		}
	}
	return kept
}

// detectionsCol makes a list<fixed_size_list<float32>[w]> column.
func detectionsCol(mem memory.Allocator, w int, rows [][]float32) arrow.Array {
	b := array.NewListBuilder(mem, arrow.FixedSizeListOf(int32(w), arrow.PrimitiveTypes.Float32))
	defer b.Release()
	fb := b.ValueBuilder().(*array.FixedSizeListBuilder)
	vb := fb.ValueBuilder().(*array.Float32Builder)
	for _, r := range rows {
		if r == nil {
			b.AppendNull()
			continue
		}
		b.Append(true)
		for i := 0; i < len(r); i += w {
			fb.Append(true)
			vb.AppendValues(r[i:i+w], nil)
		}
	}
	return b.NewArray()
}

func nmsOut(rows [][]float32, w int, c nmsCfg) (dets [][]float32, keep [][]int32) {
	for _, r := range rows {
		if r == nil {
			dets, keep = append(dets, nil), append(keep, nil)
			continue
		}
		k := nmsRef(r, w, c)
		d := []float32{}
		for _, i := range k {
			d = append(d, r[int(i)*w:int(i+1)*w]...)
		}
		dets, keep = append(dets, d), append(keep, append([]int32{}, k...))
	}
	return dets, keep
}

func nmsVectors(mem memory.Allocator) []vector {
	nan := float32(math.NaN())
	def := nmsCfg{iou: 0.5, score: 0, max: 300, aware: true}
	rows := [][]float32{
		{0, 0, 10, 10, 0.9, 0, 1, 1, 11, 11, 0.8, 0, 20, 20, 30, 30, 0.7, 0, 0, 0, 10, 10, 0.85, 1},
		nil,
		{},
		{0, 0, 10, 10, 0.5, 0, 0, 0, 10, 10, 0.5, 0, 5, 5, 5, 5, 0.6, 0, 0, 0, 10, 10, nan, 0, 0, 0, 10, 10, -0.1, 0},
		{0, 0, 4, 4, 0.3, 2, 2, 2, 6, 6, 0.4, 2, 3, 3, 5, 5, 0.35, 2},
	}
	d1, k1 := nmsOut(rows, 6, def)
	in1 := batch(col{name: "id", arr: int64Col(mem, 0, 1, 2, 3, 4)}, col{name: "detections", arr: detectionsCol(mem, 6, rows), nullable: true})
	out1 := batch(col{name: "id", arr: int64Col(mem, 0, 1, 2, 3, 4)}, col{name: "detections", arr: detectionsCol(mem, 6, rows), nullable: true},
		col{name: "nms", arr: detectionsCol(mem, 6, d1), nullable: true}, col{name: "keep", arr: listI32(mem, k1), nullable: true})

	// cxcywh tensors [4, 5], class-agnostic, iou 0.3, max 2, score >= 0.2.
	c2 := nmsCfg{iou: 0.3, score: 0.2, max: 2, cxcywh: true}
	x := []float32{5, 5, 10, 10, 0.9, 6, 6, 10, 10, 0.95, 50, 50, 4, 4, 0.1, 20, 20, 2, 2, 0.5,
		1, 1, 2, 2, 0.3, 1, 1, 2, 2, 0.3, 1, 1, 2, 2, 0.3, 9, 9, 1, 1, 0.25}
	trows := [][]float32{x[:20], x[20:]}
	d2, k2 := nmsOut(trows, 5, c2)
	f32 := arrow.PrimitiveTypes.Float32
	in2 := batch(col{name: "boxes", arr: tensorCol(mem, f32, []int{4, 5}, x, nil), nullable: true})
	out2 := batch(col{name: "boxes", arr: tensorCol(mem, f32, []int{4, 5}, x, nil), nullable: true},
		col{name: "kept", arr: detectionsCol(mem, 5, d2), nullable: true}, col{name: "idx", arr: listI32(mem, k2), nullable: true})
	in3 := batch(col{name: "detections", arr: detectionsCol(mem, 4, [][]float32{{0, 0, 1, 1}}), nullable: true})
	return []vector{
		{file: "01", in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"column":"boxes","output":"kept","keep":"idx","iou_threshold":0.3,"score_threshold":0.2,"max_detections":2,"class_aware":false,"box_format":"cxcywh"}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", in: []arrow.RecordBatch{in3}, errorText: `column "detections": 4 values per detection; want 5 (box, score) or 6 (box, score, class)`},
	}
}
