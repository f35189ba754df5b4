package udfs

import (
	"cmp"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["topk"] = topkVectors }

// topkRef: the indices of the k largest non-NaN scores >= minScore,
// decreasing, ties by index.
func topkRef(x []float32, k int, minScore float32) []int32 {
	var idx []int32
	for i, v := range x {
		if v == v && v >= minScore {
			idx = append(idx, int32(i))
		}
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return cmp.Compare(x[b], x[a]) })
	return idx[:min(k, len(idx))]
}

func topkOut(rows [][]float32, k int, minScore float32, labels []string) (ix [][]int32, sc [][]float32, lb [][]string) {
	for _, r := range rows {
		if r == nil {
			ix, sc, lb = append(ix, nil), append(sc, nil), append(lb, nil)
			continue
		}
		is := topkRef(r, k, minScore)
		s, l := []float32{}, []string{}
		for _, i := range is {
			s = append(s, r[i])
			if int(i) < len(labels) {
				l = append(l, labels[i])
			} else {
				l = append(l, "")
			}
		}
		ix, sc, lb = append(ix, append([]int32{}, is...)), append(sc, s), append(lb, l)
	}
	return ix, sc, lb
}

func topkVectors(mem memory.Allocator) []vector {
	nan := float32(math.NaN())
	labels := []string{"cat", "dog", "bird"}
	rows := [][]float32{{0.1, 0.7, 0.2}, nil, {}, {0.5, 0.5, 0.5}, {nan, 0.3, nan, 0.9}, {1}, {-1, -2, -3, 4}}
	ix, sc, lb := topkOut(rows, 2, float32(math.Inf(-1)), labels)
	in1 := batch(col{name: "scores", arr: listF32(mem, rows), nullable: true})
	out1 := batch(col{name: "scores", arr: listF32(mem, rows), nullable: true},
		col{name: "topk_indices", arr: listI32(mem, ix), nullable: true},
		col{name: "topk_scores", arr: listF32(mem, sc), nullable: true},
		col{name: "topk_labels", arr: listStr(mem, lb), nullable: true})

	f32 := arrow.PrimitiveTypes.Float32
	x := []float32{0.4, -0.1, 0.3, 0.9, 0, 0, 0, 0, -5, 2, 1, 3}
	trows := [][]float32{x[0:4], x[4:8], x[8:12]}
	ix2, sc2, _ := topkOut(trows, 3, 0, nil)
	in2 := batch(col{name: "logits", arr: tensorCol(mem, f32, []int{4}, x, nil), nullable: true})
	out2 := batch(col{name: "logits", arr: tensorCol(mem, f32, []int{4}, x, nil), nullable: true},
		col{name: "top", arr: listI32(mem, ix2), nullable: true},
		col{name: "p", arr: listF32(mem, sc2), nullable: true})
	return []vector{
		{file: "01", config: `{"k":2,"labels":["cat","dog","bird"]}`, in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"column":"logits","k":3,"min_score":0,"indices":"top","scores":"p"}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
	}
}
