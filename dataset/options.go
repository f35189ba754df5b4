package dataset

import (
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Option configures a source. Options that a format does not use are
// ignored by it; each option's doc says which formats use it.
type Option func(*config)

// Defaults, in one place.
const (
	// DefaultBatchSize is the rows per batch of every source but images.
	DefaultBatchSize = 8192
	// DefaultImageBatchSize is the rows per batch of an image source.
	DefaultImageBatchSize = 64
	// DefaultFilesPerSplit is the number of files in one split of an
	// image, binary-file or whole-text-file source.
	DefaultFilesPerSplit = 256
	// DefaultInferRows is the number of rows a CSV or JSON lines source
	// reads to infer a schema.
	DefaultInferRows = 1000
	// DefaultMaxRowBytes bounds one CSV row, JSON line or text line (and
	// one binary or text file read whole): 64 MiB.
	DefaultMaxRowBytes = 64 << 20
)

type config struct {
	mem           memory.Allocator
	baseDir       string
	batchSize     int
	columns       []string
	limit         int64
	allowBadRows  bool
	schema        *arrow.Schema
	inferRows     int
	filesPerSplit int
	maxRowBytes   int
	extensions    []string // directory filter; nil: the format's default

	// CSV
	delimiter rune
	noHeader  bool
	nullValue string

	// IPC
	ipcFormat string // "", "file" or "stream"

	// images
	decode   bool
	width    int
	height   int
	channels string
	workers  int

	// text
	wholeFile bool
}

func newConfig(format Format, opts []Option) config {
	c := config{
		mem:           memory.DefaultAllocator,
		batchSize:     DefaultBatchSize,
		inferRows:     DefaultInferRows,
		filesPerSplit: DefaultFilesPerSplit,
		maxRowBytes:   DefaultMaxRowBytes,
		delimiter:     ',',
		decode:        true,
		channels:      ChannelsRGB,
		workers:       runtime.GOMAXPROCS(0),
	}
	if format == FormatImages {
		c.batchSize = DefaultImageBatchSize
	}
	for _, o := range opts {
		o(&c)
	}
	if c.batchSize < 1 {
		c.batchSize = 1
	}
	if c.filesPerSplit < 1 {
		c.filesPerSplit = 1
	}
	if c.workers < 1 {
		c.workers = 1
	}
	if c.inferRows < 1 {
		c.inferRows = 1
	}
	return c
}

// WithAllocator sets the allocator of every batch a source returns.
// Default: memory.DefaultAllocator.
func WithAllocator(mem memory.Allocator) Option { return func(c *config) { c.mem = mem } }

// WithBaseDir resolves relative inputs against dir. Default: "", the
// working directory.
func WithBaseDir(dir string) Option { return func(c *config) { c.baseDir = dir } }

// WithBatchSize sets the largest number of rows per batch (a split's last
// batch may be shorter; a batch never spans two splits). Default:
// [DefaultBatchSize] rows, [DefaultImageBatchSize] for images.
func WithBatchSize(rows int) Option { return func(c *config) { c.batchSize = rows } }

// WithColumns projects the source onto the named columns, in the order
// given. Parquet reads only those columns and CSV parses only those;
// Arrow IPC, JSON lines and the file sources read whole rows and drop the
// others. Default: every column.
func WithColumns(names ...string) Option {
	return func(c *config) { c.columns = append([]string(nil), names...) }
}

// WithLimit reads only the first n rows of the source (in split order):
// Splits lists only the splits that hold them, and the last one is cut
// short. Sources whose row counts are known up front (Parquet, images,
// binary files, whole text files) decide this from metadata; the others
// count rows by reading the first splits once when the source is opened.
// Default: 0, no limit.
func WithLimit(n int64) Option { return func(c *config) { c.limit = n } }

// WithAllowBadRows makes CSV, JSON lines, text and image readers skip a bad
// row instead of failing, and report it through [Rejecter]. Default: off;
// the first bad row is a [*RowError].
func WithAllowBadRows(allow bool) Option { return func(c *config) { c.allowBadRows = allow } }

// WithSchema gives the schema of a CSV or JSON lines source instead of
// inferring it. Default: inferred from the first [WithInferRows] rows.
func WithSchema(s *arrow.Schema) Option { return func(c *config) { c.schema = s } }

// WithInferRows sets how many rows of the first file a CSV or JSON lines
// source reads to infer its schema. Default: [DefaultInferRows].
func WithInferRows(n int) Option { return func(c *config) { c.inferRows = n } }

// WithFilesPerSplit sets how many files make one split of an image,
// binary-file or whole-text-file source. Default: [DefaultFilesPerSplit].
func WithFilesPerSplit(n int) Option { return func(c *config) { c.filesPerSplit = n } }

// WithMaxRowBytes bounds the bytes of one CSV row, JSON line or text line,
// and of one binary or text file read whole; a longer one is a bad row.
// Default: [DefaultMaxRowBytes].
func WithMaxRowBytes(n int) Option { return func(c *config) { c.maxRowBytes = n } }

// WithExtensions sets which files a directory input yields, by extension
// (".png"; case-insensitive). Explicit files and glob matches are never
// filtered. Default: the format's own extensions (see [Format]).
func WithExtensions(exts ...string) Option {
	return func(c *config) { c.extensions = append([]string(nil), exts...) }
}

// WithDelimiter sets the CSV field delimiter. Default: ','.
func WithDelimiter(r rune) Option { return func(c *config) { c.delimiter = r } }

// WithHeader says whether CSV files start with a header row naming the
// columns. Without one, columns are named f0, f1, ... unless a schema is
// given. Default: true.
func WithHeader(header bool) Option { return func(c *config) { c.noHeader = !header } }

// WithNullValue sets the CSV text that reads as null in an unquoted field
// (a quoted field is never null). Default: "", the empty unquoted field.
func WithNullValue(s string) Option { return func(c *config) { c.nullValue = s } }

// WithIPCFormat chooses the Arrow IPC format, "file" or "stream", instead
// of deciding by extension (.arrows is a stream, anything else a file).
func WithIPCFormat(f string) Option { return func(c *config) { c.ipcFormat = f } }

// WithDecode says whether an image source decodes pixels (a tensor column
// "image") or returns the encoded bytes (a binary column "image").
// Default: true.
func WithDecode(decode bool) Option { return func(c *config) { c.decode = decode } }

// WithResize resizes every decoded image to width × height pixels
// (bilinear), so every row has one shape. Default: no resize; every image
// must then have the shape of the first one.
func WithResize(width, height int) Option {
	return func(c *config) { c.width, c.height = width, height }
}

// Channels values for [WithChannels].
const (
	ChannelsRGB  = "rgb"
	ChannelsGray = "gray"
	ChannelsRGBA = "rgba"
)

// WithChannels sets the channels of decoded images: [ChannelsRGB] (3),
// [ChannelsGray] (1) or [ChannelsRGBA] (4). Default: [ChannelsRGB].
func WithChannels(ch string) Option { return func(c *config) { c.channels = ch } }

// WithWorkers sets how many goroutines decode the images of one batch.
// Default: runtime.GOMAXPROCS(0).
func WithWorkers(n int) Option { return func(c *config) { c.workers = n } }

// WithWholeFile makes a text source return one row per file (columns path,
// text) instead of one per line (path, line, text). Default: per line.
func WithWholeFile(whole bool) Option { return func(c *config) { c.wholeFile = whole } }
