package udfs

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["argmax"] = argmaxVectors }

// argmaxRef: index and value of the largest non-NaN score (ties: lowest
// index); ok false for a row without one.
func argmaxRef(x []float32) (int32, float32, bool) {
	best, bv := -1, float32(0)
	for i, v := range x {
		if v != v {
			continue
		}
		if best < 0 || v > bv {
			best, bv = i, v
		}
	}
	return int32(best), bv, best >= 0
}

func argmaxOut(rows [][]float32) (idx []int32, score []float32, valid []bool) {
	for _, r := range rows {
		i, v, ok := argmaxRef(r)
		idx, score, valid = append(idx, i), append(score, v), append(valid, ok)
		if !ok {
			idx[len(idx)-1], score[len(score)-1] = 0, 0
		}
	}
	return idx, score, valid
}

func argmaxVectors(mem memory.Allocator) []vector {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	rows := [][]float32{{0.1, 0.7, 0.2}, nil, {}, {3, 3, 1}, {nan, -1, nan}, {nan}, {-inf, -5}, {1, inf, 2}}
	idx, score, valid := argmaxOut(rows)
	in1 := batch(col{name: "scores", arr: listF32(mem, rows), nullable: true})
	out1 := batch(col{name: "scores", arr: listF32(mem, rows), nullable: true},
		col{name: "argmax", arr: int32Col(mem, idx, valid), nullable: true},
		col{name: "score", arr: float32Col(mem, score, valid), nullable: true})

	f32 := arrow.PrimitiveTypes.Float32
	x := []float32{0, 1, 9, 2, 5, 5, 5, 5, -1, -2, -3, -4}
	tv := []bool{true, true, false}
	var trows [][]float32
	for r := range 3 {
		if tv[r] {
			trows = append(trows, x[r*4:r*4+4])
		} else {
			trows = append(trows, nil)
		}
	}
	idx2, score2, valid2 := argmaxOut(trows)
	ids := []int64{7, 8, 9}
	in2 := batch(col{name: "id", arr: int64Col(mem, ids...)}, col{name: "logits", arr: tensorCol(mem, f32, []int{2, 2}, x, tv), nullable: true})
	out2 := batch(col{name: "id", arr: int64Col(mem, ids...)}, col{name: "logits", arr: tensorCol(mem, f32, []int{2, 2}, x, tv), nullable: true},
		col{name: "class", arr: int32Col(mem, idx2, valid2), nullable: true},
		col{name: "p", arr: float32Col(mem, score2, valid2), nullable: true})
	in3 := batch(col{name: "scores", arr: int64Col(mem, 1, 2)})
	return []vector{
		{file: "01", in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"column":"logits","output":"class","score":"p"}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", in: []arrow.RecordBatch{in3}, errorText: `column "scores": format "l"; want list<float32> or a float32 tensor`},
	}
}
