package dataset

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// SourceSpec names a source in a pipeline spec: plain data with json and
// yaml tags, checked by Validate and opened by [OpenSource]. Zero values
// mean the documented defaults.
type SourceSpec struct {
	// Format: parquet, csv, jsonl, ipc, images, binary or text (aliases:
	// json and ndjson for jsonl; arrow, feather and arrows for ipc; image
	// for images).
	Format Format `json:"format" yaml:"format"`
	// Paths are files, directories or glob patterns ([ExpandPaths]),
	// relative to the spec's base directory.
	Paths []string `json:"paths" yaml:"paths"`
	// BatchSize is rows per batch ([WithBatchSize]).
	BatchSize int `json:"batch_size,omitempty" yaml:"batch_size,omitempty"`
	// Columns projects the source ([WithColumns]).
	Columns []string `json:"columns,omitempty" yaml:"columns,omitempty"`
	// Limit reads only the first Limit rows ([WithLimit]).
	Limit int64 `json:"limit,omitempty" yaml:"limit,omitempty"`
	// Shard selects shard index of count ([Shard]); nil: every split.
	Shard *ShardSpec `json:"shard,omitempty" yaml:"shard,omitempty"`
	// AllowBadRows skips bad rows and reports them ([WithAllowBadRows]).
	AllowBadRows bool `json:"allow_bad_rows,omitempty" yaml:"allow_bad_rows,omitempty"`
	// Extensions filters directory inputs ([WithExtensions]).
	Extensions []string `json:"extensions,omitempty" yaml:"extensions,omitempty"`
	// FilesPerSplit ([WithFilesPerSplit]).
	FilesPerSplit int `json:"files_per_split,omitempty" yaml:"files_per_split,omitempty"`
	// MaxRowBytes ([WithMaxRowBytes]).
	MaxRowBytes int `json:"max_row_bytes,omitempty" yaml:"max_row_bytes,omitempty"`
	// Schema gives a CSV or JSON lines source its columns ([WithSchema]).
	Schema []ColumnSpec `json:"schema,omitempty" yaml:"schema,omitempty"`
	// InferRows ([WithInferRows]).
	InferRows int `json:"infer_rows,omitempty" yaml:"infer_rows,omitempty"`
	// CSV options.
	CSV *CSVSpec `json:"csv,omitempty" yaml:"csv,omitempty"`
	// IPC options.
	IPC *IPCSpec `json:"ipc,omitempty" yaml:"ipc,omitempty"`
	// Image options.
	Image *ImageSpec `json:"image,omitempty" yaml:"image,omitempty"`
	// Text options.
	Text *TextSpec `json:"text,omitempty" yaml:"text,omitempty"`
}

// ShardSpec is shard Index of Count.
type ShardSpec struct {
	Index int `json:"index" yaml:"index"`
	Count int `json:"count" yaml:"count"`
}

// ColumnSpec is one column of a given schema. Type is an Arrow type name:
// null, bool, int8 ... int64, uint8 ... uint64, float16, float32,
// float64, utf8 (or string), large_utf8, binary, large_binary, date32,
// date64, time32[s|ms], time64[us|ns], timestamp[s|ms|us|ns] or
// timestamp[UNIT, tz=ZONE], duration[s|ms|us|ns], decimal128(P, S) (or
// decimal(P, S)), decimal256(P, S).
type ColumnSpec struct {
	Name string `json:"name" yaml:"name"`
	Type string `json:"type" yaml:"type"`
	// Nullable defaults to true.
	Nullable *bool `json:"nullable,omitempty" yaml:"nullable,omitempty"`
}

// CSVSpec holds CSV options, of a source or a sink.
type CSVSpec struct {
	// Delimiter is one character ([WithDelimiter]); "\t" for tabs.
	Delimiter string `json:"delimiter,omitempty" yaml:"delimiter,omitempty"`
	// Header ([WithHeader]); nil: true.
	Header *bool `json:"header,omitempty" yaml:"header,omitempty"`
	// NullValue ([WithNullValue]); sources only.
	NullValue string `json:"null_value,omitempty" yaml:"null_value,omitempty"`
}

// IPCSpec holds Arrow IPC options.
type IPCSpec struct {
	// Format is "file" or "stream"; "": by extension for sources
	// ([WithIPCFormat]), file for sinks.
	Format string `json:"format,omitempty" yaml:"format,omitempty"`
}

// ImageSpec holds image source options.
type ImageSpec struct {
	// Decode ([WithDecode]); nil: true.
	Decode *bool `json:"decode,omitempty" yaml:"decode,omitempty"`
	// Width and Height resize ([WithResize]); both or neither.
	Width  int `json:"width,omitempty" yaml:"width,omitempty"`
	Height int `json:"height,omitempty" yaml:"height,omitempty"`
	// Channels: rgb, gray or rgba ([WithChannels]).
	Channels string `json:"channels,omitempty" yaml:"channels,omitempty"`
	// Workers ([WithWorkers]).
	Workers int `json:"workers,omitempty" yaml:"workers,omitempty"`
}

// TextSpec holds text source options.
type TextSpec struct {
	// WholeFile ([WithWholeFile]).
	WholeFile bool `json:"whole_file,omitempty" yaml:"whole_file,omitempty"`
}

// SinkSpec names a sink in a pipeline spec; see [OpenSinkSpec].
type SinkSpec struct {
	// Format: parquet, csv, jsonl or ipc (aliases as for SourceSpec).
	Format Format `json:"format" yaml:"format"`
	// Path is the output directory, relative to the base directory.
	Path string `json:"path" yaml:"path"`
	// Shard is the shard this process writes ([WithSinkShard]).
	Shard *ShardSpec `json:"shard,omitempty" yaml:"shard,omitempty"`
	// MaxFileBytes ([WithMaxFileBytes]); 0: the default; -1: no limit.
	MaxFileBytes int64 `json:"max_file_bytes,omitempty" yaml:"max_file_bytes,omitempty"`
	// Parquet options.
	Parquet *ParquetSinkSpec `json:"parquet,omitempty" yaml:"parquet,omitempty"`
	// CSV options (Delimiter and Header).
	CSV *CSVSpec `json:"csv,omitempty" yaml:"csv,omitempty"`
	// IPC options.
	IPC *IPCSpec `json:"ipc,omitempty" yaml:"ipc,omitempty"`
}

// ParquetSinkSpec holds Parquet sink options.
type ParquetSinkSpec struct {
	// Compression ([WithCompression]).
	Compression string `json:"compression,omitempty" yaml:"compression,omitempty"`
	// RowGroupRows ([WithRowGroupRows]).
	RowGroupRows int64 `json:"row_group_rows,omitempty" yaml:"row_group_rows,omitempty"`
	// RowGroupBytes ([WithRowGroupBytes]).
	RowGroupBytes int64 `json:"row_group_bytes,omitempty" yaml:"row_group_bytes,omitempty"`
	// TensorLayout ([WithTensorLayout]): "list" (the default) or "binary".
	TensorLayout string `json:"tensor_layout,omitempty" yaml:"tensor_layout,omitempty"`
}

var formatAliases = map[string]Format{
	"parquet": FormatParquet, "pq": FormatParquet,
	"csv": FormatCSV, "tsv": FormatCSV,
	"jsonl": FormatJSONL, "json": FormatJSONL, "ndjson": FormatJSONL,
	"ipc": FormatIPC, "arrow": FormatIPC, "feather": FormatIPC, "arrows": FormatIPC,
	"images": FormatImages, "image": FormatImages,
	"binary": FormatBinary, "text": FormatText,
}

func normalFormat(f Format) (Format, bool) {
	n, ok := formatAliases[strings.ToLower(string(f))]
	return n, ok
}

// Validate checks the spec without touching files. Errors are
// [*SpecError]s naming the field.
func (s *SourceSpec) Validate() error {
	f, ok := normalFormat(s.Format)
	if !ok {
		return &SpecError{"format", fmt.Sprintf("%q is not a source format (want parquet, csv, jsonl, ipc, images, binary or text)", s.Format)}
	}
	if len(s.Paths) == 0 {
		return &SpecError{"paths", "no input paths: give files, directories or glob patterns"}
	}
	for i, p := range s.Paths {
		if p == "" {
			return &SpecError{fmt.Sprintf("paths[%d]", i), "empty path"}
		}
		if strings.ContainsAny(p, "*?[") {
			if _, err := filepath.Match(p, ""); err != nil {
				return &SpecError{fmt.Sprintf("paths[%d]", i), fmt.Sprintf("bad pattern %q: %v", p, err)}
			}
		}
	}
	if err := nonNegative("batch_size", int64(s.BatchSize)); err != nil {
		return err
	}
	if err := nonNegative("limit", s.Limit); err != nil {
		return err
	}
	if err := nonNegative("files_per_split", int64(s.FilesPerSplit)); err != nil {
		return err
	}
	if err := nonNegative("max_row_bytes", int64(s.MaxRowBytes)); err != nil {
		return err
	}
	if err := nonNegative("infer_rows", int64(s.InferRows)); err != nil {
		return err
	}
	for i, c := range s.Columns {
		if c == "" {
			return &SpecError{fmt.Sprintf("columns[%d]", i), "empty column name"}
		}
	}
	if err := s.Shard.validate("shard"); err != nil {
		return err
	}
	if len(s.Schema) > 0 && f != FormatCSV && f != FormatJSONL {
		return &SpecError{"schema", fmt.Sprintf("only csv and jsonl sources take a schema, not %s", f)}
	}
	if _, err := s.schema(); err != nil {
		return err
	}
	if s.CSV != nil {
		if _, err := delimiter("csv.delimiter", s.CSV.Delimiter); err != nil {
			return err
		}
	}
	if s.IPC != nil && s.IPC.Format != "" && s.IPC.Format != "file" && s.IPC.Format != "stream" {
		return &SpecError{"ipc.format", fmt.Sprintf("%q (want file or stream)", s.IPC.Format)}
	}
	if im := s.Image; im != nil {
		if im.Width < 0 || im.Height < 0 || (im.Width == 0) != (im.Height == 0) {
			return &SpecError{"image.width", fmt.Sprintf("resize to %d×%d: give both width and height, each at least 1, or neither", im.Width, im.Height)}
		}
		switch im.Channels {
		case "", ChannelsRGB, ChannelsGray, ChannelsRGBA:
		default:
			return &SpecError{"image.channels", fmt.Sprintf("%q (want rgb, gray or rgba)", im.Channels)}
		}
		if err := nonNegative("image.workers", int64(im.Workers)); err != nil {
			return err
		}
	}
	return nil
}

func nonNegative(field string, v int64) error {
	if v < 0 {
		return &SpecError{field, fmt.Sprintf("%d is negative", v)}
	}
	return nil
}

func (s *ShardSpec) validate(field string) error {
	if s == nil {
		return nil
	}
	if s.Count < 1 {
		return &SpecError{field + ".count", fmt.Sprintf("%d: want at least 1", s.Count)}
	}
	if s.Index < 0 || s.Index >= s.Count {
		return &SpecError{field + ".index", fmt.Sprintf("%d: want 0 <= index < count (%d)", s.Index, s.Count)}
	}
	return nil
}

func delimiter(field, d string) (rune, error) {
	if d == "" {
		return ',', nil
	}
	if d == `\t` {
		return '\t', nil
	}
	r, n := utf8.DecodeRuneInString(d)
	if n != len(d) || r >= utf8.RuneSelf || r == '"' || r == '\n' || r == '\r' {
		return 0, &SpecError{field, fmt.Sprintf("%q: want one ASCII character other than a quote or line break", d)}
	}
	return r, nil
}

// schema returns the given schema, or nil.
func (s *SourceSpec) schema() (*arrow.Schema, error) {
	if len(s.Schema) == 0 {
		return nil, nil
	}
	fields := make([]arrow.Field, len(s.Schema))
	for i, c := range s.Schema {
		if c.Name == "" {
			return nil, &SpecError{fmt.Sprintf("schema[%d].name", i), "empty column name"}
		}
		dt, err := ParseType(c.Type)
		if err != nil {
			return nil, &SpecError{fmt.Sprintf("schema[%d].type", i), err.Error()}
		}
		fields[i] = arrow.Field{Name: c.Name, Type: dt, Nullable: c.Nullable == nil || *c.Nullable}
	}
	return arrow.NewSchema(fields, nil), nil
}

var (
	unitRe    = regexp.MustCompile(`^(timestamp|duration|time32|time64)\[(s|ms|us|ns)(?:,\s*tz=([^\]]+))?\]$`)
	decimalRe = regexp.MustCompile(`^(decimal|decimal128|decimal256)\((\d+),\s*(-?\d+)\)$`)
)

// ParseType parses the type names of [ColumnSpec].
func ParseType(s string) (arrow.DataType, error) {
	switch strings.TrimSpace(s) {
	case "null":
		return arrow.Null, nil
	case "bool", "boolean":
		return arrow.FixedWidthTypes.Boolean, nil
	case "int8":
		return arrow.PrimitiveTypes.Int8, nil
	case "int16":
		return arrow.PrimitiveTypes.Int16, nil
	case "int32":
		return arrow.PrimitiveTypes.Int32, nil
	case "int64":
		return arrow.PrimitiveTypes.Int64, nil
	case "uint8":
		return arrow.PrimitiveTypes.Uint8, nil
	case "uint16":
		return arrow.PrimitiveTypes.Uint16, nil
	case "uint32":
		return arrow.PrimitiveTypes.Uint32, nil
	case "uint64":
		return arrow.PrimitiveTypes.Uint64, nil
	case "float16":
		return arrow.FixedWidthTypes.Float16, nil
	case "float32":
		return arrow.PrimitiveTypes.Float32, nil
	case "float64", "double":
		return arrow.PrimitiveTypes.Float64, nil
	case "utf8", "string":
		return arrow.BinaryTypes.String, nil
	case "large_utf8", "large_string":
		return arrow.BinaryTypes.LargeString, nil
	case "binary":
		return arrow.BinaryTypes.Binary, nil
	case "large_binary":
		return arrow.BinaryTypes.LargeBinary, nil
	case "date32":
		return arrow.FixedWidthTypes.Date32, nil
	case "date64":
		return arrow.FixedWidthTypes.Date64, nil
	}
	t := strings.TrimSpace(s)
	if m := unitRe.FindStringSubmatch(t); m != nil {
		unit := map[string]arrow.TimeUnit{"s": arrow.Second, "ms": arrow.Millisecond, "us": arrow.Microsecond, "ns": arrow.Nanosecond}[m[2]]
		switch {
		case m[1] == "timestamp":
			return &arrow.TimestampType{Unit: unit, TimeZone: strings.TrimSpace(m[3])}, nil
		case m[3] != "":
		case m[1] == "duration":
			return &arrow.DurationType{Unit: unit}, nil
		case m[1] == "time32" && unit <= arrow.Millisecond:
			return &arrow.Time32Type{Unit: unit}, nil
		case m[1] == "time64" && unit >= arrow.Microsecond:
			return &arrow.Time64Type{Unit: unit}, nil
		}
	}
	if m := decimalRe.FindStringSubmatch(t); m != nil {
		p, _ := strconv.Atoi(m[2])
		sc, _ := strconv.Atoi(m[3])
		if m[1] == "decimal256" {
			if p >= 1 && p <= 76 && sc <= p {
				return &arrow.Decimal256Type{Precision: int32(p), Scale: int32(sc)}, nil
			}
		} else if p >= 1 && p <= 38 && sc <= p {
			return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(sc)}, nil
		}
	}
	return nil, fmt.Errorf("unknown type %q (want one of: bool, int8..int64, uint8..uint64, float16, float32, float64, utf8, large_utf8, binary, large_binary, date32, date64, time32[s|ms], time64[us|ns], timestamp[UNIT] or timestamp[UNIT, tz=ZONE], duration[UNIT], decimal128(P, S), decimal256(P, S))", s)
}

// Validate checks the spec without touching files. Errors are
// [*SpecError]s naming the field.
func (s *SinkSpec) Validate() error {
	f, ok := normalFormat(s.Format)
	if !ok || (f != FormatParquet && f != FormatCSV && f != FormatJSONL && f != FormatIPC) {
		return &SpecError{"format", fmt.Sprintf("%q is not a sink format (want parquet, csv, jsonl or ipc)", s.Format)}
	}
	if s.Path == "" {
		return &SpecError{"path", "no output directory"}
	}
	if s.MaxFileBytes < -1 {
		return &SpecError{"max_file_bytes", fmt.Sprintf("%d: want -1 (no limit), 0 (the default) or a size in bytes", s.MaxFileBytes)}
	}
	if err := s.Shard.validate("shard"); err != nil {
		return err
	}
	if p := s.Parquet; p != nil {
		if _, err := parseCompression(p.Compression); err != nil {
			return &SpecError{"parquet.compression", fmt.Sprintf("%q (want snappy, zstd, gzip, lz4, brotli or none)", p.Compression)}
		}
		if err := nonNegative("parquet.row_group_rows", p.RowGroupRows); err != nil {
			return err
		}
		if err := nonNegative("parquet.row_group_bytes", p.RowGroupBytes); err != nil {
			return err
		}
		if checkTensorLayout(p.TensorLayout) != nil {
			return &SpecError{"parquet.tensor_layout", fmt.Sprintf("%q (want %s, the default, or %s)", p.TensorLayout, TensorLayoutList, TensorLayoutBinary)}
		}
	}
	if s.CSV != nil {
		if _, err := delimiter("csv.delimiter", s.CSV.Delimiter); err != nil {
			return err
		}
	}
	if s.IPC != nil && s.IPC.Format != "" && s.IPC.Format != "file" && s.IPC.Format != "stream" {
		return &SpecError{"ipc.format", fmt.Sprintf("%q (want file or stream)", s.IPC.Format)}
	}
	if f == FormatIPC && strings.EqualFold(string(s.Format), "arrows") && s.IPC != nil && s.IPC.Format == "file" {
		return &SpecError{"ipc.format", `"file" contradicts format "arrows" (a stream)`}
	}
	return nil
}

// Options returns the Go options the spec stands for, the base directory
// included.
func (s *SourceSpec) Options(baseDir string) ([]Option, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	opts := []Option{WithBaseDir(baseDir), WithAllowBadRows(s.AllowBadRows)}
	if s.BatchSize > 0 {
		opts = append(opts, WithBatchSize(s.BatchSize))
	}
	if s.Columns != nil {
		opts = append(opts, WithColumns(s.Columns...))
	}
	if s.Limit > 0 {
		opts = append(opts, WithLimit(s.Limit))
	}
	if s.Extensions != nil {
		opts = append(opts, WithExtensions(s.Extensions...))
	}
	if s.FilesPerSplit > 0 {
		opts = append(opts, WithFilesPerSplit(s.FilesPerSplit))
	}
	if s.MaxRowBytes > 0 {
		opts = append(opts, WithMaxRowBytes(s.MaxRowBytes))
	}
	if s.InferRows > 0 {
		opts = append(opts, WithInferRows(s.InferRows))
	}
	if schema, _ := s.schema(); schema != nil {
		opts = append(opts, WithSchema(schema))
	}
	if c := s.CSV; c != nil {
		d, _ := delimiter("csv.delimiter", c.Delimiter)
		opts = append(opts, WithDelimiter(d), WithNullValue(c.NullValue))
		if c.Header != nil {
			opts = append(opts, WithHeader(*c.Header))
		}
	} else if strings.EqualFold(string(s.Format), "tsv") {
		opts = append(opts, WithDelimiter('\t'))
	}
	if s.IPC != nil && s.IPC.Format != "" {
		opts = append(opts, WithIPCFormat(s.IPC.Format))
	} else if strings.EqualFold(string(s.Format), "arrows") {
		opts = append(opts, WithIPCFormat("stream"))
	}
	if im := s.Image; im != nil {
		if im.Decode != nil {
			opts = append(opts, WithDecode(*im.Decode))
		}
		if im.Width > 0 {
			opts = append(opts, WithResize(im.Width, im.Height))
		}
		if im.Channels != "" {
			opts = append(opts, WithChannels(im.Channels))
		}
		if im.Workers > 0 {
			opts = append(opts, WithWorkers(im.Workers))
		}
	}
	if s.Text != nil {
		opts = append(opts, WithWholeFile(s.Text.WholeFile))
	}
	return opts, nil
}

// OpenSource opens the source a spec names, with paths relative to baseDir
// ("" for the working directory). The spec's Shard is not applied here
// (the source lists every split; use [Shard], or [OpenStream]).
func OpenSource(ctx context.Context, spec SourceSpec, baseDir string, extra ...Option) (Source, error) {
	opts, err := spec.Options(baseDir)
	if err != nil {
		return nil, err
	}
	opts = append(opts, extra...)
	f, _ := normalFormat(spec.Format)
	switch f {
	case FormatParquet:
		return OpenParquet(ctx, spec.Paths, opts...)
	case FormatCSV:
		return OpenCSV(ctx, spec.Paths, opts...)
	case FormatJSONL:
		return OpenJSONL(ctx, spec.Paths, opts...)
	case FormatIPC:
		return OpenIPC(ctx, spec.Paths, opts...)
	case FormatImages:
		return OpenImages(ctx, spec.Paths, opts...)
	case FormatBinary:
		return OpenBinary(ctx, spec.Paths, opts...)
	case FormatText:
		return OpenText(ctx, spec.Paths, opts...)
	}
	return nil, &SpecError{"format", fmt.Sprintf("%q is not a source format", spec.Format)}
}

// OpenStream opens the source a spec names and returns a [StreamReader]
// over its shard (every split when spec.Shard is nil). Closing the stream
// closes the source.
func OpenStream(ctx context.Context, spec SourceSpec, baseDir string, extra ...Option) (*StreamReader, error) {
	src, err := OpenSource(ctx, spec, baseDir, extra...)
	if err != nil {
		return nil, err
	}
	splits := src.Splits()
	if spec.Shard != nil {
		splits = Shard(splits, spec.Shard.Index, spec.Shard.Count)
	}
	r := NewStreamReader(src, splits)
	r.own = true
	return r, nil
}

// Options returns the sink options the spec stands for.
func (s *SinkSpec) Options() ([]SinkOption, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var opts []SinkOption
	if s.Shard != nil {
		opts = append(opts, WithSinkShard(s.Shard.Index, s.Shard.Count))
	}
	switch {
	case s.MaxFileBytes < 0:
		opts = append(opts, WithMaxFileBytes(0))
	case s.MaxFileBytes > 0:
		opts = append(opts, WithMaxFileBytes(s.MaxFileBytes))
	}
	if p := s.Parquet; p != nil {
		if p.Compression != "" {
			opts = append(opts, WithCompression(p.Compression))
		}
		if p.RowGroupRows > 0 {
			opts = append(opts, WithRowGroupRows(p.RowGroupRows))
		}
		if p.RowGroupBytes > 0 {
			opts = append(opts, WithRowGroupBytes(p.RowGroupBytes))
		}
		if p.TensorLayout != "" {
			opts = append(opts, WithTensorLayout(p.TensorLayout))
		}
	}
	if c := s.CSV; c != nil {
		d, _ := delimiter("csv.delimiter", c.Delimiter)
		opts = append(opts, WithSinkDelimiter(d))
		if c.Header != nil {
			opts = append(opts, WithSinkHeader(*c.Header))
		}
	} else if strings.EqualFold(string(s.Format), "tsv") {
		opts = append(opts, WithSinkDelimiter('\t'))
	}
	if (s.IPC != nil && s.IPC.Format == "stream") || strings.EqualFold(string(s.Format), "arrows") {
		opts = append(opts, WithIPCStream(true))
	}
	return opts, nil
}

// OpenSinkSpec opens the sink a spec names, its path relative to baseDir.
func OpenSinkSpec(ctx context.Context, spec SinkSpec, baseDir string, extra ...SinkOption) (*DirSink, error) {
	opts, err := spec.Options()
	if err != nil {
		return nil, err
	}
	dir := spec.Path
	if baseDir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(baseDir, dir)
	}
	f, _ := normalFormat(spec.Format)
	return OpenSink(ctx, dir, f, append(opts, extra...)...)
}

// ParseSourceURL parses a URL-like source name, FORMAT:PATH
// ("parquet:data/*.parquet", "images:photos/", "csv:a.csv"), or a bare
// path whose extension names the format ("data/a.parquet"). The path may
// be a file, a directory or a glob pattern. The result is validated.
func ParseSourceURL(u string) (SourceSpec, error) {
	format, path, err := splitURL(u, true)
	if err != nil {
		return SourceSpec{}, err
	}
	s := SourceSpec{Format: format, Paths: []string{path}}
	err = s.Validate()
	return s, err
}

// ParseSinkURL parses a URL-like sink name, FORMAT:DIR ("jsonl:out/",
// "parquet:results"). The result is validated.
func ParseSinkURL(u string) (SinkSpec, error) {
	format, path, err := splitURL(u, false)
	if err != nil {
		return SinkSpec{}, err
	}
	s := SinkSpec{Format: format, Path: path}
	err = s.Validate()
	return s, err
}

func splitURL(u string, source bool) (Format, string, error) {
	if i := strings.IndexByte(u, ':'); i > 0 {
		if f, ok := normalFormat(Format(u[:i])); ok {
			path := strings.TrimPrefix(u[i+1:], "//")
			if path == "" {
				return "", "", &SpecError{"path", fmt.Sprintf("%q names no path after %q", u, u[:i+1])}
			}
			_ = f
			return Format(strings.ToLower(u[:i])), path, nil
		}
		if !strings.ContainsAny(u[:i], `/\.`) {
			return "", "", &SpecError{"format", fmt.Sprintf("%q: unknown format %q (want parquet, csv, jsonl, ipc, images, binary or text)", u, u[:i])}
		}
	}
	if !source {
		return "", "", &SpecError{"format", fmt.Sprintf("%q: name the format, as in jsonl:%s", u, u)}
	}
	ext := strings.ToLower(filepath.Ext(strings.TrimRight(u, "/")))
	for f, exts := range formatExtensions {
		for _, e := range exts {
			if e == ext {
				if ext == ".arrows" {
					return "arrows", u, nil
				}
				return f, u, nil
			}
		}
	}
	return "", "", &SpecError{"format", fmt.Sprintf("%q: cannot tell the format from the extension: write FORMAT:PATH, as in parquet:%s", u, u)}
}
