package udfs

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["softmax"] = softmaxVectors }

// softmaxRef is the softmax of x at temperature t, in float64, rounded once.
func softmaxRef(x []float32, t float64) []float32 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v))
	}
	e := make([]float64, len(x))
	sum := 0.0
	for i, v := range x {
		e[i] = math.Exp((float64(v) - m) / t)
		sum += e[i]
	}
	out := make([]float32, len(x))
	for i := range e {
		out[i] = float32(e[i] / sum)
	}
	return out
}

func softmaxVectors(mem memory.Allocator) []vector {
	rows := [][]float32{{1, 2, 3}, nil, {}, {0}, {-1000, 0, 1000}, {5, 5}, {-3.5, 0.25, 7, 1e-3}}
	probs := make([][]float32, len(rows))
	for i, r := range rows {
		if r != nil {
			probs[i] = softmaxRef(r, 1)
		}
	}
	ids := []int64{1, 2, 3, 4, 5, 6, 7}
	in1 := batch(col{name: "id", arr: int64Col(mem, ids...)}, col{name: "logits", arr: listF32(mem, rows), nullable: true})
	out1 := batch(col{name: "id", arr: int64Col(mem, ids...)}, col{name: "logits", arr: listF32(mem, rows), nullable: true},
		col{name: "probs", arr: listF32(mem, probs), nullable: true})

	// A [2, 3] tensor per row, softmax along the last dimension, T = 2.
	x := []float32{1, 2, 3, -1, 0, 1, 0, 0, 0, 0, 0, 0, 10, 20, 30, 0.5, 0.25, 0.125}
	valid := []bool{true, false, true}
	var want []float32
	for r := range 3 {
		if !valid[r] {
			want = append(want, make([]float32, 6)...)
			continue
		}
		want = append(want, softmaxRef(x[r*6:r*6+3], 2)...)
		want = append(want, softmaxRef(x[r*6+3:r*6+6], 2)...)
	}
	f32 := arrow.PrimitiveTypes.Float32
	in2 := batch(col{name: "scores", arr: tensorCol(mem, f32, []int{2, 3}, x, valid), nullable: true})
	out2 := batch(col{name: "scores", arr: tensorCol(mem, f32, []int{2, 3}, x, valid), nullable: true},
		col{name: "p", arr: tensorCol(mem, f32, []int{2, 3}, want, valid), nullable: true})

	in3 := batch(col{name: "logits", arr: listF32(mem, [][]float32{{1, 2}, {float32(math.NaN()), 1}}), nullable: true})
	return []vector{
		{file: "01", in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"column":"scores","output":"p","temperature":2}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", in: []arrow.RecordBatch{in3}, errorText: `column "logits" row 1: value 0 is NaN: not finite`},
	}
}
