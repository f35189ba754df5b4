package dataset

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestJSONLInfer(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	path := writeFile(t, t.TempDir(), "a.jsonl", `{"id": 1, "name": "a", "tags": ["x"], "p": {"x": 1.5}}
{"id": 2, "score": 2, "tags": [], "p": {"x": 2}}

{"id": 3, "score": 2.5, "name": null, "extra": true}
`)
	src, err := OpenJSONL(ctx, []string{path}, WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !src.Inferred() {
		t.Error("not inferred")
	}
	want := "id: int64, name: utf8, p: struct<x: float64 nullable>, tags: list<item: utf8, nullable>, score: float64, extra: bool"
	if got := schemaString(src.Schema()); got != want {
		t.Errorf("schema %s\nwant %s", got, want)
	}
	recs := readAll(t, src)
	defer release(recs)
	wantRows := "1|a|{\"x\":1.5}|[\"x\"]|(null)|(null)\n" +
		"2|(null)|{\"x\":2}|[]|2|(null)\n" +
		"3|(null)|(null)|(null)|2.5|true\n"
	if got := batchText(recs); got != wantRows {
		t.Errorf("rows\n%s\nwant\n%s", got, wantRows)
	}
}

func TestJSONLBadRows(t *testing.T) {
	ctx := context.Background()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	tests := []struct {
		name, line, want string
	}{
		{"not_json", `{"id": 1,`, `3: not valid JSON: unexpected end of JSON input`},
		{"not_object", `[1, 2]`, `3: not a JSON object`},
		{"invalid_utf8", "{\"s\": \"a\xffb\"}", `3: not valid UTF-8`},
		{"wrong_type", `{"id": "seven"}`, `3: column "id": `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			path := writeFile(t, t.TempDir(), "a.jsonl", "{\"id\": 1}\n{\"id\": 2}\n"+tc.line+"\n{\"id\": 4}\n")
			src, err := OpenJSONL(ctx, []string{path}, WithAllocator(mem), WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			_, err = readSplit(ctx, src, src.Splits()[0])
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("err %v, want a RowError", err)
			}
			prefix := "dataset: " + path + ":" + tc.want
			if got := err.Error(); len(got) < len(prefix) || got[:len(prefix)] != prefix {
				t.Errorf("error\n got %s\nwant %s...", got, prefix)
			}
			src2, err := OpenJSONL(ctx, []string{path}, WithAllocator(mem), WithSchema(schema), WithAllowBadRows(true))
			if err != nil {
				t.Fatal(err)
			}
			defer src2.Close()
			r := NewStreamReader(src2, nil)
			defer r.Close()
			recs, err := ReadAll(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			defer release(recs)
			if got := batchText(recs); got != "1|(null)\n2|(null)\n4|(null)\n" {
				t.Errorf("rows %q", got)
			}
			if rj := r.Rejected(); len(rj) != 1 || rj[0].Line != 3 || string(rj[0].Raw) != tc.line {
				t.Errorf("rejected %+v", rj)
			}
		})
	}
}
