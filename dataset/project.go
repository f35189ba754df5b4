package dataset

import (
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// projection selects columns of a schema by name.
type projection struct {
	schema *arrow.Schema // projected
	idx    []int         // column of the full schema for each projected one; nil: all
}

// project returns the projection of full onto columns (nil: every column).
// path names the file in the error for a missing column.
func project(full *arrow.Schema, columns []string, path string) (projection, error) {
	if columns == nil {
		return projection{schema: full}, nil
	}
	fields := make([]arrow.Field, len(columns))
	idx := make([]int, len(columns))
	for i, name := range columns {
		j := full.FieldIndices(name)
		if len(j) == 0 {
			return projection{}, fmt.Errorf("dataset: %s: no column %q (columns: %s)", path, name, strings.Join(fieldNames(full), ", "))
		}
		fields[i], idx[i] = full.Field(j[0]), j[0]
	}
	md := full.Metadata()
	return projection{schema: arrow.NewSchema(fields, &md), idx: idx}, nil
}

// apply returns rec's projected columns as a new batch of p.schema; it does
// not release rec.
func (p projection) apply(rec arrow.RecordBatch) arrow.RecordBatch {
	if p.idx == nil {
		if rec.Schema() == p.schema {
			rec.Retain()
			return rec
		}
		return array.NewRecordBatch(p.schema, rec.Columns(), rec.NumRows())
	}
	cols := make([]arrow.Array, len(p.idx))
	for i, j := range p.idx {
		cols[i] = rec.Column(j)
	}
	return array.NewRecordBatch(p.schema, cols, rec.NumRows())
}

// rejects collects the rows a reader skipped.
type rejects struct {
	allow bool
	list  []Rejected
}

// bad reports a bad row: with rejects allowed it records it and returns
// nil, otherwise it returns the row's error.
func (r *rejects) bad(split int, e *RowError, raw []byte) error {
	if !r.allow {
		return e
	}
	r.list = append(r.list, Rejected{Split: split, File: e.File, Line: e.Line, Column: e.Column, Raw: raw, Err: e})
	return nil
}

// Rejected implements [Rejecter].
func (r *rejects) Rejected() []Rejected {
	out := r.list
	r.list = nil
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
