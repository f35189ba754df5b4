package vet

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wasinfer/wasinfer/internal/corpus"
	"github.com/wasinfer/wasinfer/manifest"
)

// equalBatches compares got with want: bit-exact (corpus.Equal) when tol is
// nil, else floats within tol and everything else exact. The error names
// the column, row and position of the first difference.
func equalBatches(got, want arrow.RecordBatch, tol *manifest.Tolerance) error {
	err := corpus.Equal(got, want)
	if err == nil || tol == nil {
		return renameSides(err)
	}
	if err := equalSchemas(got, want); err != nil {
		return err
	}
	if got.NumRows() != want.NumRows() {
		return fmt.Errorf("%d rows, want %d", got.NumRows(), want.NumRows())
	}
	for c, f := range want.Schema().Fields() {
		for r := range int(want.NumRows()) {
			if d := diffTol(got.Column(c), r, want.Column(c), r, tol); d != "" {
				return fmt.Errorf("column %q, row %d%s", f.Name, r, d)
			}
		}
	}
	return nil
}

// equalSchemas compares the schemas only (corpus.Equal of empty slices).
func equalSchemas(got, want arrow.RecordBatch) error {
	g, w := got.NewSlice(0, 0), want.NewSlice(0, 0)
	defer g.Release()
	defer w.Release()
	return renameSides(corpus.Equal(g, w))
}

// renameSides turns corpus.Equal's "a" and "b" into "got" and "want".
func renameSides(err error) error {
	if err == nil {
		return nil
	}
	s := strings.TrimPrefix(err.Error(), "corpus: ")
	s = strings.NewReplacer("a is ", "got ", ", b is ", ", want ", "a has ", "got ", ", b has ", ", want ", "a is named", "got the name", ", b ", ", want ").Replace(s)
	return fmt.Errorf("%s", s)
}

// withinTol compares two floats; a nil tol means the same bits, except
// that any NaN equals any NaN.
func withinTol(a, b float64, tol *manifest.Tolerance) bool {
	if tol == nil {
		return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
	}
	switch {
	case math.IsNaN(a) || math.IsNaN(b):
		return math.IsNaN(a) && math.IsNaN(b)
	case math.IsInf(a, 0) || math.IsInf(b, 0):
		return a == b
	}
	return math.Abs(a-b) <= tol.Abs+tol.Rel*math.Abs(b)
}

// diffTol compares value i of a with value j of b (same types); "" when
// equal, else ": at [path]: got x, want y".
func diffTol(a arrow.Array, i int, b arrow.Array, j int, tol *manifest.Tolerance) string {
	an, bn := a.IsNull(i), b.IsNull(j)
	if an || bn {
		if an && bn {
			return ""
		}
		return fmt.Sprintf(": got %s, want %s", valueStr(a, i), valueStr(b, j))
	}
	var x, y float64
	switch av := a.(type) {
	case *array.Float16:
		x, y = float64(av.Value(i).Float32()), float64(b.(*array.Float16).Value(j).Float32())
	case *array.Float32:
		x, y = float64(av.Value(i)), float64(b.(*array.Float32).Value(j))
	case *array.Float64:
		x, y = av.Value(i), b.(*array.Float64).Value(j)
	case array.ExtensionArray:
		return diffTol(av.Storage(), i, b.(array.ExtensionArray).Storage(), j, tol)
	case *array.Struct:
		bv := b.(*array.Struct)
		for k := range av.NumField() {
			if d := diffTol(av.Field(k), i, bv.Field(k), j, tol); d != "" {
				return "." + av.DataType().(*arrow.StructType).Field(k).Name + d
			}
		}
		return ""
	case array.ListLike:
		bv := b.(array.ListLike)
		as, ae := av.ValueOffsets(i)
		bs, be := bv.ValueOffsets(j)
		if ae-as != be-bs {
			return fmt.Sprintf(": got %d elements, want %d", ae-as, be-bs)
		}
		for k := range ae - as {
			if d := diffTol(av.ListValues(), int(as+k), bv.ListValues(), int(bs+k), tol); d != "" {
				if strings.HasPrefix(d, ": at [") {
					return fmt.Sprintf(": at [%d]", k) + d[len(": at "):]
				}
				return fmt.Sprintf(": at [%d]%s", k, d)
			}
		}
		return ""
	default:
		if !array.SliceEqual(a, int64(i), int64(i+1), b, int64(j), int64(j+1)) {
			return fmt.Sprintf(": got %s, want %s", valueStr(a, i), valueStr(b, j))
		}
		return ""
	}
	if !withinTol(x, y, tol) {
		if tol == nil {
			return fmt.Sprintf(": got %v (%#x), want %v (%#x)", x, math.Float64bits(x), y, math.Float64bits(y))
		}
		return fmt.Sprintf(": got %v, want %v (difference %.3g, tolerance abs %g rel %g)", x, y, math.Abs(x-y), tol.Abs, tol.Rel)
	}
	return ""
}

func valueStr(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "null"
	}
	s := a.ValueStr(i)
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
