package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
)

func TestSourceSpecValidate(t *testing.T) {
	no := false
	tests := []struct {
		spec SourceSpec
		want string
	}{
		{SourceSpec{Format: "xls", Paths: []string{"a"}}, `dataset: format: "xls" is not a source format (want parquet, csv, jsonl, ipc, images, binary or text)`},
		{SourceSpec{Format: "csv"}, "dataset: paths: no input paths: give files, directories or glob patterns"},
		{SourceSpec{Format: "csv", Paths: []string{"a", ""}}, "dataset: paths[1]: empty path"},
		{SourceSpec{Format: "csv", Paths: []string{"a["}}, `dataset: paths[0]: bad pattern "a[": syntax error in pattern`},
		{SourceSpec{Format: "csv", Paths: []string{"a"}, BatchSize: -1}, "dataset: batch_size: -1 is negative"},
		{SourceSpec{Format: "csv", Paths: []string{"a"}, Limit: -5}, "dataset: limit: -5 is negative"},
		{SourceSpec{Format: "csv", Paths: []string{"a"}, Shard: &ShardSpec{Index: 2, Count: 2}}, "dataset: shard.index: 2: want 0 <= index < count (2)"},
		{SourceSpec{Format: "csv", Paths: []string{"a"}, Shard: &ShardSpec{}}, "dataset: shard.count: 0: want at least 1"},
		{SourceSpec{Format: "parquet", Paths: []string{"a"}, Schema: []ColumnSpec{{Name: "x", Type: "int64"}}}, "dataset: schema: only csv and jsonl sources take a schema, not parquet"},
		{SourceSpec{Format: "csv", Paths: []string{"a"}, Schema: []ColumnSpec{{Name: "x", Type: "int65"}}}, `dataset: schema[0].type: unknown type "int65" (want one of: bool, int8..int64, uint8..uint64, float16, float32, float64, utf8, large_utf8, binary, large_binary, date32, date64, time32[s|ms], time64[us|ns], timestamp[UNIT] or timestamp[UNIT, tz=ZONE], duration[UNIT], decimal128(P, S), decimal256(P, S))`},
		{SourceSpec{Format: "csv", Paths: []string{"a"}, Schema: []ColumnSpec{{Type: "int64"}}}, "dataset: schema[0].name: empty column name"},
		{SourceSpec{Format: "csv", Paths: []string{"a"}, CSV: &CSVSpec{Delimiter: ";;"}}, `dataset: csv.delimiter: ";;": want one ASCII character other than a quote or line break`},
		{SourceSpec{Format: "arrow", Paths: []string{"a"}, IPC: &IPCSpec{Format: "zip"}}, `dataset: ipc.format: "zip" (want file or stream)`},
		{SourceSpec{Format: "images", Paths: []string{"a"}, Image: &ImageSpec{Width: 3}}, "dataset: image.width: resize to 3×0: give both width and height, each at least 1, or neither"},
		{SourceSpec{Format: "images", Paths: []string{"a"}, Image: &ImageSpec{Channels: "cmyk", Decode: &no}}, `dataset: image.channels: "cmyk" (want rgb, gray or rgba)`},
	}
	for _, tc := range tests {
		err := tc.spec.Validate()
		var se *SpecError
		if !errors.As(err, &se) || !errors.Is(err, ErrInvalidSpec) || err.Error() != tc.want {
			t.Errorf("%+v:\n got %v\nwant %s", tc.spec, err, tc.want)
		}
	}
}

func TestSinkSpecValidate(t *testing.T) {
	tests := []struct {
		spec SinkSpec
		want string
	}{
		{SinkSpec{Format: "images", Path: "o"}, `dataset: format: "images" is not a sink format (want parquet, csv, jsonl or ipc)`},
		{SinkSpec{Format: "jsonl"}, "dataset: path: no output directory"},
		{SinkSpec{Format: "parquet", Path: "o", Parquet: &ParquetSinkSpec{Compression: "rar"}}, `dataset: parquet.compression: "rar" (want snappy, zstd, gzip, lz4, brotli or none)`},
		{SinkSpec{Format: "parquet", Path: "o", Parquet: &ParquetSinkSpec{RowGroupRows: -1}}, "dataset: parquet.row_group_rows: -1 is negative"},
		{SinkSpec{Format: "parquet", Path: "o", Parquet: &ParquetSinkSpec{TensorLayout: "flat"}}, `dataset: parquet.tensor_layout: "flat" (want list, the default, or binary)`},
		{SinkSpec{Format: "parquet", Path: "o", MaxFileBytes: -2}, "dataset: max_file_bytes: -2: want -1 (no limit), 0 (the default) or a size in bytes"},
		{SinkSpec{Format: "csv", Path: "o", Shard: &ShardSpec{Index: -1, Count: 3}}, "dataset: shard.index: -1: want 0 <= index < count (3)"},
	}
	for _, tc := range tests {
		if err := tc.spec.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("%+v:\n got %v\nwant %s", tc.spec, err, tc.want)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, format, path, err string
	}{
		{url: "parquet:data/*.parquet", format: "parquet", path: "data/*.parquet"},
		{url: "images:photos/", format: "images", path: "photos/"},
		{url: "arrows:x", format: "arrows", path: "x"},
		{url: "data/a.parquet", format: "parquet", path: "data/a.parquet"},
		{url: "a.ARROWS", format: "arrows", path: "a.ARROWS"},
		{url: "in/b.csv", format: "csv", path: "in/b.csv"},
		{url: "xls:a", err: `dataset: format: "xls:a": unknown format "xls" (want parquet, csv, jsonl, ipc, images, binary or text)`},
		{url: "data/", err: `dataset: format: "data/": cannot tell the format from the extension: write FORMAT:PATH, as in parquet:data/`},
		{url: "csv:", err: `dataset: path: "csv:" names no path after "csv:"`},
	}
	for _, tc := range tests {
		s, err := ParseSourceURL(tc.url)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: got %v, want %s", tc.url, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case string(s.Format) != tc.format || len(s.Paths) != 1 || s.Paths[0] != tc.path:
			t.Errorf("%s: %+v", tc.url, s)
		}
	}
	s, err := ParseSinkURL("jsonl:out/")
	if err != nil || s.Format != "jsonl" || s.Path != "out/" {
		t.Errorf("sink: %+v %v", s, err)
	}
	if _, err := ParseSinkURL("out/"); err == nil || err.Error() != `dataset: format: "out/": name the format, as in jsonl:out/` {
		t.Errorf("sink without format: %v", err)
	}
}

// TestSpecJSON: the spec structs take their documented snake_case names,
// and OpenStream reads the shard they name.
func TestSpecJSON(t *testing.T) {
	ctx := context.Background()
	var spec SourceSpec
	text := `{"format": "csv", "paths": ["in/*.csv"], "batch_size": 2, "columns": ["n"], "limit": 5,
		"shard": {"index": 1, "count": 2}, "csv": {"delimiter": ";", "header": false},
		"schema": [{"name": "n", "type": "int64"}, {"name": "s", "type": "utf8"}]}`
	dec := json.NewDecoder(bytesReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "in/a.csv", "1;x\n2;y\n")
	writeFile(t, dir, "in/b.csv", "3;x\n4;y\n")
	writeFile(t, dir, "in/c.csv", "5;x\n6;y\n")
	r, err := OpenStream(ctx, spec, dir, WithAllocator(checkedMem(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := ReadAll(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	defer release(recs)
	// Limit 5 keeps a, b and 1 row of c; shard 1 of 2 is b.
	if got := batchText(recs); got != "3\n4\n" {
		t.Errorf("rows %q", got)
	}
	var sink SinkSpec
	if err := json.Unmarshal([]byte(`{"format": "parquet", "path": "out", "max_file_bytes": 1000,
		"parquet": {"compression": "zstd", "row_group_rows": 10}, "shard": {"index": 0, "count": 1}}`), &sink); err != nil {
		t.Fatal(err)
	}
	w, err := CreateWriter(ctx, sink, dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := idBatch(checkedMem(t), 0, 25)
	defer rec.Release()
	if err := w.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	src, err := OpenSource(ctx, SourceSpec{Format: "parquet", Paths: []string{"out"}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if n := len(src.Splits()); n != 3 {
		t.Errorf("%d row groups of 10 rows, want 3", n)
	}
	all := readAll(t, src)
	defer release(all)
	if rowsOf(all) != 25 || all[0].Column(0).(*array.Int64).Value(0) != 0 {
		t.Errorf("%d rows", rowsOf(all))
	}
}
