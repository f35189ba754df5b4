package corpus

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Equal returns nil when a and b have the same schema and the same values,
// or an error that names the first difference: the schema metadata key, or
// the column (dotted path for nested fields), and for values the row and
// the position inside a nested value, for example
//
//	corpus: column "v_nulls", row 3, at [1].a[0]: a is 5, b is 6
//
// Schemas are compared exactly: names, nullability, field metadata at every
// level, schema metadata (as sets of key/value pairs: order does not
// matter), types with all their parameters (time zones, precisions, index
// types, the dictionary ordered flag, extension types and their serialized
// metadata).
//
// Values are compared logically but exactly:
//   - floats by their bit patterns, so NaN payloads and -0 count and NaN
//     equals the same NaN;
//   - a null equals a null whatever the slot's buffers hold, and the values
//     under a null list, map or struct slot are not compared;
//   - dictionary columns by the values their indices select, so a reader
//     may rebuild the dictionary;
//   - offsets, validity buffers and slicing are invisible.
//
// Equal only reads a and b, except that arrow-go caches a dictionary
// array's Dictionary() on first use: do not call Equal concurrently on
// batches that share a dictionary column. Cost: O(values).
func Equal(a, b arrow.RecordBatch) error {
	if err := equalSchemas(a.Schema(), b.Schema()); err != nil {
		return err
	}
	if a.NumRows() != b.NumRows() {
		return fmt.Errorf("corpus: a has %d rows, b has %d", a.NumRows(), b.NumRows())
	}
	for c, f := range a.Schema().Fields() {
		ac, bc := a.Column(c), b.Column(c)
		if ac.Len() != int(a.NumRows()) || bc.Len() != int(b.NumRows()) {
			return fmt.Errorf("corpus: column %q: a has %d values, b has %d, for %d rows", f.Name, ac.Len(), bc.Len(), a.NumRows())
		}
		for r := range ac.Len() {
			if d := diffValue(ac, r, bc, r); d != nil {
				if d.path == "" {
					return fmt.Errorf("corpus: column %q, row %d: %s", f.Name, r, d.msg)
				}
				return fmt.Errorf("corpus: column %q, row %d, at %s: %s", f.Name, r, d.path, d.msg)
			}
		}
	}
	return nil
}

func equalSchemas(a, b *arrow.Schema) error {
	if d := diffMetadata(a.Metadata(), b.Metadata()); d != "" {
		return fmt.Errorf("corpus: schema metadata %s", d)
	}
	if a.NumFields() != b.NumFields() {
		return fmt.Errorf("corpus: a has %d columns, b has %d", a.NumFields(), b.NumFields())
	}
	for i := range a.NumFields() {
		af, bf := a.Field(i), b.Field(i)
		if af.Name != bf.Name {
			return fmt.Errorf("corpus: column %d: a is named %q, b %q", i, af.Name, bf.Name)
		}
		if err := diffField(af.Name, af, bf); err != nil {
			return err
		}
	}
	return nil
}

// diffField compares two fields of the same name at path.
func diffField(path string, a, b arrow.Field) error {
	if a.Nullable != b.Nullable {
		return fmt.Errorf("corpus: column %q: a is %s, b is %s", path, nullability(a.Nullable), nullability(b.Nullable))
	}
	if d := diffMetadata(a.Metadata, b.Metadata); d != "" {
		return fmt.Errorf("corpus: column %q: metadata %s", path, d)
	}
	return diffType(path, a.Type, b.Type)
}

func nullability(n bool) string {
	if n {
		return "nullable"
	}
	return "not nullable"
}

func diffType(path string, a, b arrow.DataType) error {
	mismatch := func() error { return fmt.Errorf("corpus: column %q: type a is %s, b is %s", path, a, b) }
	if a.ID() != b.ID() {
		return mismatch()
	}
	switch at := a.(type) {
	case arrow.ExtensionType:
		bt := b.(arrow.ExtensionType)
		if at.ExtensionName() != bt.ExtensionName() || !at.ExtensionEquals(bt) || at.Serialize() != bt.Serialize() {
			return mismatch()
		}
		return diffType(path, at.StorageType(), bt.StorageType())
	case *arrow.DictionaryType:
		bt := b.(*arrow.DictionaryType)
		if at.Ordered != bt.Ordered || !arrow.TypeEqual(at.IndexType, bt.IndexType) {
			return mismatch()
		}
		return diffType(path, at.ValueType, bt.ValueType)
	case *arrow.FixedSizeListType:
		if at.Len() != b.(*arrow.FixedSizeListType).Len() {
			return mismatch()
		}
	case *arrow.MapType:
		if at.KeysSorted != b.(*arrow.MapType).KeysSorted {
			return mismatch()
		}
	}
	switch at := a.(type) {
	case arrow.ListLikeType: // list, large_list, fixed_size_list, map
		return diffChildren(path, []arrow.Field{at.ElemField()}, []arrow.Field{b.(arrow.ListLikeType).ElemField()}, mismatch)
	case *arrow.StructType:
		return diffChildren(path, at.Fields(), b.(*arrow.StructType).Fields(), mismatch)
	}
	if !arrow.TypeEqual(a, b) {
		return mismatch()
	}
	return nil
}

func diffChildren(path string, a, b []arrow.Field, mismatch func() error) error {
	if len(a) != len(b) {
		return mismatch()
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return fmt.Errorf("corpus: column %q: child %d: a is named %q, b %q", path, i, a[i].Name, b[i].Name)
		}
		if err := diffField(path+"."+a[i].Name, a[i], b[i]); err != nil {
			return err
		}
	}
	return nil
}

// diffMetadata describes the first difference between two metadata sets,
// keys in sorted order, or returns "".
func diffMetadata(a, b arrow.Metadata) string {
	am, bm := a.ToMap(), b.ToMap()
	keys := make([]string, 0, len(am)+len(bm))
	for k := range am {
		keys = append(keys, k)
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		av, aok := am[k]
		bv, bok := bm[k]
		switch {
		case !aok:
			return fmt.Sprintf("key %q: a has none, b has %q", k, bv)
		case !bok:
			return fmt.Sprintf("key %q: a has %q, b has none", k, av)
		case av != bv:
			return fmt.Sprintf("key %q: a has %q, b has %q", k, av, bv)
		}
	}
	return ""
}

// diff is a difference inside one value: where (path, for example
// "[2].a") and what.
type diff struct {
	path, msg string
}

func (d *diff) under(prefix string) *diff {
	if d != nil {
		d.path = prefix + d.path
	}
	return d
}

// maxShown bounds how many bytes of a string or binary value a message
// shows.
const maxShown = 48

// show formats the value at i for a message.
func show(arr arrow.Array, i int) string {
	if arr.IsNull(i) {
		return "null"
	}
	switch a := arr.(type) {
	case *array.Float16:
		return fmt.Sprintf("%v (0x%04x)", a.Value(i).Float32(), a.Value(i).Uint16())
	case *array.Float32:
		return fmt.Sprintf("%v (0x%08x)", a.Value(i), math.Float32bits(a.Value(i)))
	case *array.Float64:
		return fmt.Sprintf("%v (0x%016x)", a.Value(i), math.Float64bits(a.Value(i)))
	case *array.String:
		return showString(a.Value(i))
	case *array.LargeString:
		return showString(a.Value(i))
	case *array.Binary:
		return showBytes(a.Value(i))
	case *array.LargeBinary:
		return showBytes(a.Value(i))
	case *array.FixedSizeBinary:
		return showBytes(a.Value(i))
	case array.ListLike, *array.Struct:
		return "a value"
	case *array.Dictionary:
		return show(a.Dictionary(), a.GetValueIndex(i))
	case array.ExtensionArray:
		return show(a.Storage(), i)
	}
	return arr.ValueStr(i)
}

func showString(s string) string {
	if len(s) > maxShown {
		return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:maxShown]), len(s))
	}
	return strconv.Quote(s)
}

func showBytes(b []byte) string {
	if len(b) > maxShown {
		return fmt.Sprintf("0x%s... (%d bytes)", hex.EncodeToString(b[:maxShown]), len(b))
	}
	return "0x" + hex.EncodeToString(b)
}

func differ(a arrow.Array, i int, b arrow.Array, j int) *diff {
	return &diff{msg: fmt.Sprintf("a is %s, b is %s", show(a, i), show(b, j))}
}

type valuer[T comparable] interface {
	Value(int) T
}

func diffComparable[T comparable, A valuer[T]](a A, i int, b arrow.Array, j int) *diff {
	if a.Value(i) != b.(A).Value(j) {
		return differ(any(a).(arrow.Array), i, b, j)
	}
	return nil
}

// diffValue compares value i of a with value j of b, arrays of equal types.
func diffValue(a arrow.Array, i int, b arrow.Array, j int) *diff {
	an, bn := a.IsNull(i), b.IsNull(j)
	if an || bn {
		if an && bn {
			return nil
		}
		return differ(a, i, b, j)
	}
	if a.DataType().ID() != b.DataType().ID() {
		return &diff{msg: fmt.Sprintf("a has type %s, b %s", a.DataType(), b.DataType())}
	}
	switch av := a.(type) {
	case *array.Null: // every slot is null (and IsNull says false)
		return nil
	case *array.Boolean:
		return diffComparable(av, i, b, j)
	case *array.Int8:
		return diffComparable(av, i, b, j)
	case *array.Int16:
		return diffComparable(av, i, b, j)
	case *array.Int32:
		return diffComparable(av, i, b, j)
	case *array.Int64:
		return diffComparable(av, i, b, j)
	case *array.Uint8:
		return diffComparable(av, i, b, j)
	case *array.Uint16:
		return diffComparable(av, i, b, j)
	case *array.Uint32:
		return diffComparable(av, i, b, j)
	case *array.Uint64:
		return diffComparable(av, i, b, j)
	case *array.Float16:
		if av.Value(i).Uint16() != b.(*array.Float16).Value(j).Uint16() {
			return differ(a, i, b, j)
		}
		return nil
	case *array.Float32:
		if math.Float32bits(av.Value(i)) != math.Float32bits(b.(*array.Float32).Value(j)) {
			return differ(a, i, b, j)
		}
		return nil
	case *array.Float64:
		if math.Float64bits(av.Value(i)) != math.Float64bits(b.(*array.Float64).Value(j)) {
			return differ(a, i, b, j)
		}
		return nil
	case *array.String:
		return diffComparable(av, i, b, j)
	case *array.LargeString:
		return diffComparable(av, i, b, j)
	case *array.Binary:
		if !bytes.Equal(av.Value(i), b.(*array.Binary).Value(j)) {
			return differ(a, i, b, j)
		}
		return nil
	case *array.LargeBinary:
		if !bytes.Equal(av.Value(i), b.(*array.LargeBinary).Value(j)) {
			return differ(a, i, b, j)
		}
		return nil
	case *array.FixedSizeBinary:
		if !bytes.Equal(av.Value(i), b.(*array.FixedSizeBinary).Value(j)) {
			return differ(a, i, b, j)
		}
		return nil
	case *array.Decimal128:
		return diffComparable(av, i, b, j)
	case *array.Decimal256:
		return diffComparable(av, i, b, j)
	case *array.Date32:
		return diffComparable(av, i, b, j)
	case *array.Date64:
		return diffComparable(av, i, b, j)
	case *array.Time32:
		return diffComparable(av, i, b, j)
	case *array.Time64:
		return diffComparable(av, i, b, j)
	case *array.Timestamp:
		return diffComparable(av, i, b, j)
	case *array.Duration:
		return diffComparable(av, i, b, j)
	case *array.Struct:
		bv := b.(*array.Struct)
		st := av.DataType().(*arrow.StructType)
		for k := range av.NumField() {
			if d := diffValue(av.Field(k), i, bv.Field(k), j); d != nil {
				return d.under("." + st.Field(k).Name)
			}
		}
		return nil
	case array.ListLike: // list, large_list, fixed_size_list, map
		bv := b.(array.ListLike)
		as, ae := av.ValueOffsets(i)
		bs, be := bv.ValueOffsets(j)
		if ae-as != be-bs {
			return &diff{msg: fmt.Sprintf("a has %d elements, b has %d", ae-as, be-bs)}
		}
		for k := range ae - as {
			if d := diffValue(av.ListValues(), int(as+k), bv.ListValues(), int(bs+k)); d != nil {
				return d.under("[" + strconv.FormatInt(k, 10) + "]")
			}
		}
		return nil
	case *array.Dictionary:
		bv := b.(*array.Dictionary)
		return diffValue(av.Dictionary(), av.GetValueIndex(i), bv.Dictionary(), bv.GetValueIndex(j))
	case array.ExtensionArray:
		return diffValue(av.Storage(), i, b.(array.ExtensionArray).Storage(), j)
	}
	// Types outside ABI v1: fall back to arrow-go's comparison.
	if !array.SliceEqual(a, int64(i), int64(i+1), b, int64(j), int64(j+1)) {
		return differ(a, i, b, j)
	}
	return nil
}
