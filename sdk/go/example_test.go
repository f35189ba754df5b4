package wasinfer_test

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	wasinfer "github.com/wasinfer/wasinfer/sdk/go"
)

// upper is a UDF that adds an upper-cased copy of the "text" column. A
// module registers it from an init function:
//
//	func init() { wasinfer.Register(upper) }
var upper = wasinfer.UDF{
	Name: "upper",
	Transform: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
		idx := rec.Schema().FieldIndices("text")
		if len(idx) == 0 {
			return nil, wasinfer.Errorf(wasinfer.StatusUnsupportedInput, `column "text": not in the input`)
		}
		text, ok := rec.Column(idx[0]).(*array.String)
		if !ok {
			return nil, wasinfer.Errorf(wasinfer.StatusUnsupportedInput, `column "text": type %s, want utf8`, rec.Column(idx[0]).DataType())
		}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		defer b.Release()
		for i := range text.Len() {
			if text.IsNull(i) {
				b.AppendNull()
				continue
			}
			b.Append(strings.ToUpper(text.Value(i)))
		}
		up := b.NewArray()
		defer up.Release()
		// The input columns pass through without a copy.
		fields := append(rec.Schema().Fields(), arrow.Field{Name: "upper", Type: arrow.BinaryTypes.String, Nullable: true})
		cols := append(rec.Columns()[:rec.NumCols():rec.NumCols()], up)
		return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows()), nil
	},
}

func Example() {
	schema := arrow.NewSchema([]arrow.Field{{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	in, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(`[{"text": "abc"}, {"text": null}, {"text": "Éte"}]`))
	if err != nil {
		panic(err)
	}
	defer in.Release()

	// In a test, a Harness runs the UDF the way the host runs its module.
	h, err := wasinfer.NewHarness(upper, nil)
	if err != nil {
		panic(err)
	}
	out, err := h.Transform(in)
	if err != nil {
		panic(err)
	}
	defer out.Release()
	fmt.Println(out.Column(1))

	// Errors carry the status the host reports.
	_, err = h.Transform(array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 0))
	fmt.Println(err)
	// Output:
	// ["ABC" (null) "ÉTE"]
	// column "text": not in the input
}
