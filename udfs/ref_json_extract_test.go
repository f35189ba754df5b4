package udfs

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func init() { generators["json_extract"] = jsonExtractVectors }

func boolCol(mem memory.Allocator, vals []bool, valid []bool) arrow.Array {
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func int64ColV(mem memory.Allocator, vals []int64, valid []bool) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func jsonExtractVectors(mem memory.Allocator) []vector {
	docs := []string{
		`{"user": {"name": "Ada", "age": 36, "tags": ["x", "y"]}, "score": 0.5, "ok": true}`,
		``, // null row
		`{"user": {"name": "Bob", "age": 9007199254740993}, "score": 1e3, "ok": false}`,
		`not json`,
		`{"user": {"name": 7, "age": 1.5, "tags": []}, "score": "high", "ok": null}`,
		`{"user": null}`,
		`{"user": {"name": "Zoë 😀", "age": -1, "tags": ["only"]}, "score": -0.0, "ok": true} `,
		`[1, 2]`,
		`{"a": 1} {"b": 2}`,
	}
	valid := []bool{true, false, true, true, true, true, true, true, true}
	// The expected fields (Go reference: what each path and type gives).
	name := []string{"Ada", "", "Bob", "", "", "", "Zoë 😀", "", ""}
	nameV := []bool{true, false, true, false, false, false, true, false, false}
	age := []int64{36, 0, 9007199254740993, 0, 0, 0, -1, 0, 0}
	ageV := []bool{true, false, true, false, false, false, true, false, false}
	score := []float64{0.5, 0, 1000, 0, 0, 0, 0, 0, 0}
	scoreV := []bool{true, false, true, false, false, false, true, false, false}
	ok := []bool{true, false, false, false, false, false, true, false, false}
	okV := []bool{true, false, true, false, false, false, true, false, false}
	tag := []string{"y", "", "", "", "", "", "", "", ""}
	tagV := []bool{true, false, false, false, false, false, false, false, false}
	raw := []string{`{"age":36,"name":"Ada","tags":["x","y"]}`, "", `{"age":9007199254740993,"name":"Bob"}`, "", `{"age":1.5,"name":7,"tags":[]}`, "", `{"age":-1,"name":"Zoë 😀","tags":["only"]}`, "", ""}
	rawV := []bool{true, false, true, false, true, false, true, false, false}
	config := `{"column":"doc","fields":[{"path":"user.name","name":"name","type":"utf8"},{"path":"user.age","name":"age","type":"int64"},` +
		`{"path":"score","name":"score","type":"float64"},{"path":"ok","name":"ok","type":"bool"},` +
		`{"path":"user.tags[1]","name":"tag","type":"utf8"},{"path":"user","name":"user","type":"json"}]}`
	in := func() []col {
		return []col{{name: "id", arr: int64Col(mem, 0, 1, 2, 3, 4, 5, 6, 7, 8)}, {name: "doc", arr: utf8Col(mem, docs, valid), nullable: true}}
	}
	in1 := batch(in()...)
	scoreArr := float64Col(mem, score, scoreV)
	out1 := batch(append(in(),
		col{name: "name", arr: utf8Col(mem, name, nameV), nullable: true},
		col{name: "age", arr: int64ColV(mem, age, ageV), nullable: true},
		col{name: "score", arr: scoreArr, nullable: true},
		col{name: "ok", arr: boolCol(mem, ok, okV), nullable: true},
		col{name: "tag", arr: utf8Col(mem, tag, tagV), nullable: true},
		col{name: "user", arr: utf8Col(mem, raw, rawV), nullable: true})...)
	// -0.0 parses as negative zero.
	out1 = withNegZero(mem, out1, "score", 6)

	errCfg := `{"column":"doc","fields":[{"path":"a","type":"int64"}],"on_error":"error"}`
	in2 := batch(col{name: "doc", arr: utf8Col(mem, []string{`{"a": 1}`, `{"a": `}, nil), nullable: true})
	return []vector{
		{file: "01", config: config, in: []arrow.RecordBatch{in1}, out: []arrow.RecordBatch{out1}},
		{file: "02", config: errCfg, in: []arrow.RecordBatch{in2}, errorText: `column "doc" row 1: not valid JSON: unexpected EOF`},
	}
}

// withNegZero returns rec with row r of float64 column name set to -0.
func withNegZero(mem memory.Allocator, rec arrow.RecordBatch, name string, r int) arrow.RecordBatch {
	i := rec.Schema().FieldIndices(name)[0]
	old := rec.Column(i).(*array.Float64)
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	for k := range old.Len() {
		switch {
		case old.IsNull(k):
			b.AppendNull()
		case k == r:
			b.Append(negativeZero())
		default:
			b.Append(old.Value(k))
		}
	}
	a := b.NewArray()
	defer a.Release()
	out, err := rec.SetColumn(i, a)
	mustf(err, "SetColumn")
	rec.Release()
	return out
}

func negativeZero() float64 {
	z := 0.0
	return -z
}
