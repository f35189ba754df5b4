package corpus

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Case is one batch of the corpus.
type Case struct {
	// Name identifies the case, for example "int32" or "sliced/list";
	// it is unique and safe to use in a test or file name once "/" is
	// replaced.
	Name string
	// Batch is owned by the caller of Batches, who must Release it.
	Batch arrow.RecordBatch
}

// typeCase is a per-type case: a function that builds its columns for n
// rows.
type typeCase struct {
	name    string
	columns func(g *gen, n int) []column
}

// typeCases lists the per-type cases in corpus order.
var typeCases = []typeCase{
	{"null", nullCase},
	{"bool", boolCase},
	{"int8", int8Case},
	{"int16", int16Case},
	{"int32", int32Case},
	{"int64", int64Case},
	{"uint8", uint8Case},
	{"uint16", uint16Case},
	{"uint32", uint32Case},
	{"uint64", uint64Case},
	{"float16", float16Case},
	{"float32", float32Case},
	{"float64", float64Case},
	{"utf8", utf8Case},
	{"large_utf8", largeUTF8Case},
	{"binary", binaryCase},
	{"large_binary", largeBinaryCase},
	{"fixed_size_binary", fixedSizeBinaryCase},
	{"decimal128", decimal128Case},
	{"decimal256", decimal256Case},
	{"date32", date32Case},
	{"date64", date64Case},
	{"time32_s", time32Case(arrow.Second)},
	{"time32_ms", time32Case(arrow.Millisecond)},
	{"time64_us", time64Case(arrow.Microsecond)},
	{"time64_ns", time64Case(arrow.Nanosecond)},
	{"timestamp_s", timestampCase(arrow.Second)},
	{"timestamp_ms", timestampCase(arrow.Millisecond)},
	{"timestamp_us", timestampCase(arrow.Microsecond)},
	{"timestamp_ns", timestampCase(arrow.Nanosecond)},
	{"duration_s", durationCase(arrow.Second)},
	{"duration_ms", durationCase(arrow.Millisecond)},
	{"duration_us", durationCase(arrow.Microsecond)},
	{"duration_ns", durationCase(arrow.Nanosecond)},
	{"list", listCase},
	{"large_list", largeListCase},
	{"fixed_size_list", fixedSizeListCase},
	{"struct", structCase},
	{"map", mapCase},
	{"list_struct_list", listStructListCase},
	{"map_utf8_list", mapUTF8ListCase},
	{"dictionary_int8_utf8", dictInt8UTF8Case},
	{"dictionary_int32_utf8", dictInt32UTF8Case},
	{"dictionary_int16_int64", dictInt16Int64Case},
	{"tensor_uint8", tensorUint8Case},
	{"tensor_float32", tensorFloat32Case},
}

// sliceSpec is a sliced case: batch.NewSlice(i, j) of the named case.
type sliceSpec struct {
	of   string
	i, j int64
}

// slicedCases lists the sliced cases. Every start is odd or otherwise not a
// multiple of 8; "i == j" slices are empty batches at an offset.
var slicedCases = []sliceSpec{
	{"bool", 3, 42},
	{"int8", 5, 44},
	{"int32", 3, 42},
	{"float16", 1, 40},
	{"float64", 13, 45},
	{"utf8", 5, 40}, // keeps the long string (row 7)
	{"large_binary", 9, 30},
	{"fixed_size_binary", 3, 42},
	{"decimal128", 7, 45},
	{"timestamp_ns", 3, 4},
	{"list", 3, 42},
	{"large_list", 1, 44},
	{"fixed_size_list", 5, 41},
	{"struct", 1, 42},
	{"map", 3, 42},
	{"list_struct_list", 7, 38},
	{"map_utf8_list", 5, 40},
	{"dictionary_int8_utf8", 3, 42},
	{"dictionary_int16_int64", 11, 11},
	{"tensor_uint8", 3, 42},
	{"tensor_float32", 1, 44},
	{"nested_offsets", 3, 26},
	{"mixed_offsets", 5, 30},
	{"wide", 1, 4},
	{"long", 12_345, 99_999},
}

// Batches builds the corpus: one Case per entry documented in the package
// comment, in that order. Every call returns equal batches (fixed seeds).
// Buffers come from mem; the caller releases every Batch. Cost: about
// 4 MiB of buffers (slices share their case's buffers) and a few tens of
// milliseconds. Safe for concurrent use.
func Batches(mem memory.Allocator) []Case {
	var out []Case
	byName := map[string]arrow.RecordBatch{}
	add := func(name string, rec arrow.RecordBatch) {
		out = append(out, Case{Name: name, Batch: rec})
		byName[name] = rec
	}
	for _, tc := range typeCases {
		g := newGen(mem, tc.name)
		add(tc.name, batch(tc.columns(g, rows), rows, nil))
	}
	add("metadata", metadataCase(newGen(mem, "metadata"), rows))
	add("all_null", allNullCase(newGen(mem, "all_null"), 20))
	add("all_valid_bitmaps", allValidBitmapsCase(newGen(mem, "all_valid_bitmaps"), 20))
	add("empty", emptyCase(newGen(mem, "empty")))
	add("no_columns", noColumnsCase(17))
	add("wide", wideCase(newGen(mem, "wide")))
	add("long", longCase(newGen(mem, "long")))
	add("nested_offsets", nestedOffsetsCase(newGen(mem, "nested_offsets")))
	add("mixed_offsets", mixedOffsetsCase(newGen(mem, "mixed_offsets")))
	for _, s := range slicedCases {
		out = append(out, Case{Name: "sliced/" + s.of, Batch: byName[s.of].NewSlice(s.i, s.j)})
	}
	return out
}
