package udfs

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["threshold_filter"] = thresholdVectors }

// takeRows copies rows of rec (the Go reference of a filter).
func takeRows(mem memory.Allocator, rec arrow.RecordBatch, rows []int) arrow.RecordBatch {
	cols := make([]arrow.Array, rec.NumCols())
	for c := range cols {
		parts := make([]arrow.Array, len(rows))
		for i, r := range rows {
			parts[i] = array.NewSlice(rec.Column(c), int64(r), int64(r+1))
		}
		if len(parts) == 0 {
			cols[c] = array.MakeArrayOfNull(mem, rec.Column(c).DataType(), 0)
		} else {
			a, err := array.Concatenate(parts, mem)
			mustf(err, "concatenate")
			cols[c] = a
		}
		for _, p := range parts {
			p.Release()
		}
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(len(rows)))
	for _, c := range cols {
		c.Release()
	}
	return out
}

func thresholdVectors(mem memory.Allocator) []vector {
	nan := math.NaN()
	scores := []float64{0.9, 0.5, 0.49, nan, 0, 0.7, 1}
	valid := []bool{true, true, true, true, false, true, true}
	f32 := arrow.PrimitiveTypes.Float32
	img := make([]uint8, 7*2*2*1)
	for i := range img {
		img[i] = uint8(i)
	}
	tv := []bool{true, true, false, true, true, true, true}
	labels := []string{"a", "bb", "", "dddd", "e", "ff", "g"}
	lv := []bool{true, true, true, false, true, true, true}
	in1 := batch(
		col{name: "id", arr: int64Col(mem, 0, 1, 2, 3, 4, 5, 6)},
		col{name: "score", arr: float64Col(mem, scores, valid), nullable: true},
		col{name: "label", arr: utf8Col(mem, labels, lv), nullable: true},
		col{name: "boxes", arr: listF32(mem, [][]float32{{1, 2}, nil, {}, {3}, {4, 5, 6}, {7}, {8, 9}}), nullable: true},
		col{name: "patch", arr: tensorCol(mem, arrow.PrimitiveTypes.Uint8, []int{2, 2, 1}, img, tv), nullable: true},
		col{name: "ok", arr: boolCol(mem, []bool{true, false, true, false, true, false, true}, nil)},
	)
	// >= 0.5: rows 0, 1, 5, 6 (NaN and null never pass).
	out1 := takeRows(mem, in1, []int{0, 1, 5, 6})
	in2 := batch(col{name: "conf", arr: float32Col(mem, []float32{0.1, 0.2, 0.3}, nil)},
		col{name: "x", arr: tensorCol(mem, f32, []int{2}, []float32{1, 2, 3, 4, 5, 6}, nil), nullable: true})
	out2 := takeRows(mem, in2, []int{0, 1})
	in3 := batch(col{name: "conf", arr: int32Col(mem, []int32{1, 2, 3}, nil)})
	out3 := takeRows(mem, in3, nil)
	return []vector{
		{file: "01", in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: `{"column":"conf","threshold":0.25,"op":"<"}`, in: []arrow.RecordBatch{in2}, out: []arrow.RecordBatch{out2}},
		{file: "03", config: `{"column":"conf","threshold":2,"op":"=="}`, in: []arrow.RecordBatch{in3}, out: []arrow.RecordBatch{takeRows(mem, in3, []int{1})}},
		{file: "04", config: `{"column":"conf","threshold":5,"op":">"}`, in: []arrow.RecordBatch{in3.NewSlice(0, 3)}, out: []arrow.RecordBatch{out3}},
	}
}
