package dataset

import (
	"strings"
)

// What each format cannot hold of the corpus, and why. TestCorpusRoundTrip
// checks both ways: every case not listed round-trips exactly, and every
// case listed fails. IPC (file and stream) holds the whole corpus.
const (
	nanBits      = "text has one NaN: NaN sign and payload bits are lost (JSON writes \"NaN\")"
	nullListSlot = "a null list slot that owns child values (legal in Arrow): pqarrow refuses to write it"
	nullFSL      = "null fixed_size_list rows: pqarrow refuses to write them"
	nullTensor   = "null tensor rows (fixed_size_list storage): pqarrow refuses to write them; the sink says so"
	flatOnly     = "nested columns (list, struct, map, fixed_size_list, tensor): CSV holds flat columns only and the sink refuses them"
	noColumnsCSV = "a row of no columns: an empty CSV line has no fields to count"
)

var cannotHoldTable = map[string]map[string]string{
	"parquet": {
		"fixed_size_list": nullFSL, "sliced/fixed_size_list": nullFSL, "nested_offsets": nullFSL, "sliced/nested_offsets": nullFSL,
		"tensor_uint8": nullTensor, "tensor_float32": nullTensor, "sliced/tensor_uint8": nullTensor, "sliced/tensor_float32": nullTensor,
		"metadata": nullTensor, "all_null": nullTensor,
		"no_columns": "a batch of rows but no columns: pqarrow writes a file of 0 rows",
	},
	// The binary tensor layout holds null tensor rows; plain
	// fixed_size_list columns keep the list layout.
	"parquet_binary_tensors": {
		"fixed_size_list": nullFSL, "sliced/fixed_size_list": nullFSL, "nested_offsets": nullFSL, "sliced/nested_offsets": nullFSL,
		"no_columns": "a batch of rows but no columns: pqarrow writes a file of 0 rows",
	},
	"jsonl": nanCases("fixed_size_list", "tensor_float32", "sliced/tensor_float32", "metadata"),
	"csv":   nanCases("no_columns"),
}

func nanCases(more ...string) map[string]string {
	m := map[string]string{}
	for _, n := range []string{"float16", "float32", "float64", "wide", "sliced/float16", "sliced/wide"} {
		m[n] = nanBits
	}
	for _, n := range more {
		m[n] = nanBits
	}
	if m["no_columns"] != "" {
		m["no_columns"] = noColumnsCSV
	}
	return m
}

// cannotHold reports whether format cannot hold corpus case name, and why.
func cannotHold(format, name string) (string, bool) {
	if why, ok := cannotHoldTable[format][name]; ok {
		return why, true
	}
	if format == "csv" && csvNested[strings.TrimPrefix(name, "sliced/")] {
		return flatOnly, true
	}
	return "", false
}

// csvNested lists the corpus cases with a nested column.
var csvNested = map[string]bool{
	"list": true, "large_list": true, "fixed_size_list": true, "struct": true, "map": true,
	"list_struct_list": true, "map_utf8_list": true, "tensor_uint8": true, "tensor_float32": true,
	"metadata": true, "all_null": true, "all_valid_bitmaps": true, "empty": true,
	"nested_offsets": true, "mixed_offsets": true,
}
