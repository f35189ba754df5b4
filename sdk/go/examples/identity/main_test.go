package main

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	wasinfer "github.com/wasinfer/wasinfer/sdk/go"
)

func TestIdentity(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[{"id": 1, "text": "a"}, {"id": 2, "text": null}, {"id": 3, "text": "ccc"}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	h, err := wasinfer.NewHarness(udf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []arrow.RecordBatch{rec, rec.NewSlice(1, 3)} {
		out, err := h.Transform(in)
		if err != nil {
			t.Fatal(err)
		}
		if !array.RecordEqual(in, out) {
			t.Errorf("output %v, want %v", out, in)
		}
		out.Release()
		if in != rec {
			in.Release()
		}
	}
}
