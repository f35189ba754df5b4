package host

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/internal/corpus"
)

// FuzzOutputValidator feeds the output validator arbitrary guest memory.
// Seeds are the canonical corpus laid out as the host lays out input (a
// valid output tree). The properties: it never panics or hangs, and any tree
// it accepts becomes arrays that arrow-go's full validation accepts.
func FuzzOutputValidator(f *testing.F) {
	for _, c := range corpus.Batches(memory.DefaultAllocator) {
		if c.Batch.NumRows() > 1000 || c.Batch.NumCols() > 20 {
			c.Batch.Release()
			continue // keep seeds small so mutations stay near the structures
		}
		mem, s, a := encodeToMemory(f, c.Batch)
		c.Batch.Release()
		f.Add(mem, s, a)
	}
	f.Fuzz(func(t *testing.T, mem []byte, s, a uint32) {
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer checked.AssertSize(t, 0)
		rec, err := decodeFromMemory(mem, s, a, checked)
		if err != nil {
			return
		}
		defer rec.Release()
		for i, col := range rec.Columns() {
			if err := validateFull(col); err != nil {
				t.Fatalf("validator accepted column %d (%s) that arrow-go rejects: %v", i, col.DataType(), err)
			}
		}
	})
}

// validateFull runs arrow-go's full validation, turning its panics into
// errors.
func validateFull(col arrow.Array) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError{r}
		}
	}()
	return arrayValidateFull(col)
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic: " + anyString(p.v) }

func anyString(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "non-string panic"
}

// arrayValidateFull validates col and its children with arrow-go's checks,
// then reads every value, which panics on data the checks missed.
func arrayValidateFull(col arrow.Array) error {
	if v, ok := col.(interface{ ValidateFull() error }); ok {
		if err := v.ValidateFull(); err != nil {
			return err
		}
	}
	switch c := col.(type) {
	case array.ExtensionArray:
		return arrayValidateFull(c.Storage())
	case *array.Struct:
		for i := range c.NumField() {
			if err := arrayValidateFull(c.Field(i)); err != nil {
				return err
			}
		}
	case array.ListLike:
		if err := arrayValidateFull(c.ListValues()); err != nil {
			return err
		}
	case *array.Dictionary:
		if err := arrayValidateFull(c.Dictionary()); err != nil {
			return err
		}
	}
	for i := range col.Len() {
		_ = col.ValueStr(i)
	}
	return nil
}

// FuzzSameSchema feeds the fast path of the output schema check arbitrary
// guest memory. The trees it compares against are those of the canonical
// corpus. The properties: it never panics or hangs, and when it says a tree
// in memory is the same as a known one, building that tree the slow way
// succeeds and gives the same schema.
func FuzzSameSchema(f *testing.F) {
	var trees []*cSchema
	for _, c := range corpus.Batches(memory.DefaultAllocator) {
		if c.Batch.NumRows() > 1000 || c.Batch.NumCols() > 20 {
			c.Batch.Release()
			continue
		}
		mem, s, _ := encodeToMemory(f, c.Batch)
		c.Batch.Release()
		r := &outputReader{mem: mem, maxBytes: 1 << 40}
		tree, err := r.schema(s, 0, "")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(mem, s, uint8(len(trees)))
		trees = append(trees, tree)
	}
	f.Fuzz(func(t *testing.T, mem []byte, s uint32, which uint8) {
		tree := trees[int(which)%len(trees)]
		r := &outputReader{mem: mem, maxBytes: 1 << 40}
		if !r.sameSchema(s, tree) {
			return
		}
		got, err := r.schema(s, 0, "")
		if err != nil {
			t.Fatalf("sameSchema accepted a tree that does not build: %v", err)
		}
		if diff := schemaDiff(treeSchema(tree), treeSchema(got)); diff != "" {
			t.Fatalf("sameSchema accepted a different schema: %s", diff)
		}
	})
}

func treeSchema(s *cSchema) *arrow.Schema {
	fields := make([]arrow.Field, len(s.children))
	for i, c := range s.children {
		fields[i] = c.field
	}
	md := s.field.Metadata
	return arrow.NewSchema(fields, &md)
}
