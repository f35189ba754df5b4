// Package corpus is the canonical batch corpus: every Arrow type that ABI
// v1 supports (abi/spec.md §4.2), with and without nulls, and the batch
// shapes that break readers and writers (empty, zero columns, wide, long,
// sliced, children with their own offsets). Every codec, source, sink and
// the ABI round-trip it:
//
//	for _, c := range corpus.Batches(mem) {
//		got := roundTrip(c.Batch)
//		if err := corpus.Equal(c.Batch, got); err != nil {
//			t.Errorf("%s: %v", c.Name, err)
//		}
//		got.Release()
//		c.Batch.Release()
//	}
//
// A component that cannot carry some case (a CSV sink and a struct column,
// say) skips it by name, with a comment saying why.
//
// [Batches] is deterministic (fixed seeds, one per case) and builds the
// whole corpus in a few tens of milliseconds. The batches are built buffer by
// buffer rather than with array builders, so that the layout is what the
// case says: a column without nulls has no validity buffer, a null slot can
// own child values, offsets can start past 0.
//
// # Per-type cases
//
// Each has 45 rows and two columns: "v", not nullable, without nulls and
// without a validity buffer, and "v_nulls", nullable, with about one null
// in four (row 1 is always null). Values start with the interesting ones
// (minimum, maximum, 0, -1, ...) followed by random ones.
//
//   - null: one nullable column of type null.
//   - bool; int8, int16, int32, int64; uint8, uint16, uint32, uint64.
//   - float16, float32, float64: quiet NaN, negative NaN, signalling NaN with
//     a payload, ±Inf, -0, +0, smallest subnormal and normal, largest and
//     lowest finite values, then random values.
//   - utf8, large_utf8: the empty string, 2-, 3- and 4-byte UTF-8, a
//     combining sequence, NUL, zero-width space, control characters, CSV
//     and JSON metacharacters; row 7 of "v" is a 1 MiB string.
//   - binary, large_binary: empty, NUL, invalid UTF-8, random bytes.
//   - fixed_size_binary: width 5.
//   - decimal128: decimal(38, 9) from -(10^38-1) to 10^38-1, plus a
//     nullable "p5s2_nulls" column of decimal(5, 2).
//   - decimal256: decimal256(76, 20) from -(10^76-1) to 10^76-1.
//   - date32, date64: 0001-01-01 to 9999-12-31 (date64 in whole days).
//   - time32_s, time32_ms, time64_us, time64_ns: the whole day.
//   - timestamp_s, timestamp_ms, timestamp_us, timestamp_ns: four columns,
//     "v" and "v_nulls" without a time zone, "v_tz" and "v_tz_nulls" with
//     one (UTC, America/New_York, +05:30 and Asia/Tokyo respectively);
//     years 0001 to 9999, nanoseconds over all of int64.
//   - duration_s, duration_ms, duration_us, duration_ns: all of int64.
//   - list (list<int32>), large_list (large_list<utf8>), fixed_size_list
//     (fixed_size_list<float64>[3]): "v" has a non-nullable element field;
//     "v_nulls" has null elements, empty lists, and a null slot (row 1)
//     that owns a non-empty segment of child values.
//   - struct: "v" is struct<a: int32, b: utf8>; "v_nulls" is
//     struct<a: int32, b: utf8, c: struct<d: bool>> whose row 1 is a null
//     slot with valid children.
//   - map: map<utf8, int64>, keys unique within a map, empty maps, null
//     values, null maps.
//   - list_struct_list: list<struct<a: list<int32>, b: utf8>>.
//   - map_utf8_list: map<utf8, list<int64>>.
//   - dictionary_int8_utf8, dictionary_int32_utf8 (300 values),
//     dictionary_int16_int64 (ordered): each column has its own dictionary;
//     nulls are null indices.
//   - tensor_uint8: arrow.fixed_shape_tensor of uint8, shape [4,4,3];
//     tensor_float32: of float32, shape [2,3], dim_names [rows, cols],
//     every row starting with a float special.
//
// # Other cases
//
//   - metadata: schema metadata (an empty value, non-ASCII text), field
//     metadata on a top-level column, on a struct child and on a tensor
//     column.
//   - all_null: int32, float64, utf8, list, struct, dictionary and tensor
//     columns in which every slot is null (20 rows).
//   - all_valid_bitmaps: nullable columns without nulls that still have an
//     all-set validity buffer (20 rows).
//   - empty: 0 rows and the columns of several per-type cases, plus a utf8
//     and a list column with no buffers at all.
//   - no_columns: no columns, 17 rows.
//   - wide: 1000 columns (int64, float64, utf8, bool), 5 rows.
//   - long: 100,000 rows of an int64 id and a utf8 column with nulls.
//   - nested_offsets: 29 rows of nested columns whose children have
//     offsets of their own: a struct of three children sliced at 5, 11 and
//     3; a list whose offsets start at 4 over a child sliced at 3; a list
//     of a struct sliced at 2 whose list child is sliced too; a
//     fixed_size_list over a child sliced at 1; a map whose entries are
//     sliced at 5; a dictionary whose dictionary array is sliced at 2; a
//     tensor whose storage child is sliced at one row.
//   - mixed_offsets: 31 rows, each top-level column at a different offset
//     (3, 9, 1, 17, 6), as a batch assembled from sliced arrays has.
//   - sliced/NAME: batch.NewSlice(i, j) of case NAME, i never a multiple
//     of 8, for bool, int8, int32, float16, float64, utf8 (with the long
//     string), large_binary, fixed_size_binary, decimal128, timestamp_ns (one
//     row), list, large_list, fixed_size_list, struct, map,
//     list_struct_list, map_utf8_list, dictionary_int8_utf8,
//     dictionary_int16_int64 (zero rows at offset 11), tensor_uint8,
//     tensor_float32, nested_offsets, mixed_offsets, wide and long (rows
//     12,345 to 99,999).
//
// [Equal] compares two batches exactly (schemas, metadata, float bits) and
// names the column and row of the first difference.
package corpus
