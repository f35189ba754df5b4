package dataset

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ManifestDir is the directory, inside a sink's output directory, that
// holds the manifests. Sources skip it (names starting with "_").
const ManifestDir = "_wasinfer"

// Sink defaults.
const (
	// DefaultMaxFileBytes is the size at which a split's output rolls over
	// into a new file: 512 MiB.
	DefaultMaxFileBytes = 512 << 20
	// DefaultRowGroupRows is the most rows in one Parquet row group.
	DefaultRowGroupRows = 128 << 10
	// DefaultRowGroupBytes is the buffered size at which a Parquet row group
	// is flushed before it reaches DefaultRowGroupRows: 64 MiB.
	DefaultRowGroupBytes = 64 << 20
	// DefaultCompression is the Parquet compression codec.
	DefaultCompression = "snappy"
)

// SinkOption configures a sink.
type SinkOption func(*sinkConfig)

type sinkConfig struct {
	mem           memory.Allocator
	shard, shards int
	maxFileBytes  int64
	rowGroupRows  int64
	rowGroupBytes int64
	compression   string
	tensorLayout  string
	delimiter     rune
	noHeader      bool
	ipcStream     bool
}

func newSinkConfig(opts []SinkOption) sinkConfig {
	c := sinkConfig{
		mem:           memory.DefaultAllocator,
		shards:        1,
		maxFileBytes:  DefaultMaxFileBytes,
		rowGroupRows:  DefaultRowGroupRows,
		rowGroupBytes: DefaultRowGroupBytes,
		compression:   DefaultCompression,
		delimiter:     ',',
	}
	for _, o := range opts {
		o(&c)
	}
	if c.rowGroupRows < 1 {
		c.rowGroupRows = DefaultRowGroupRows
	}
	return c
}

// WithSinkAllocator sets the allocator of the sink's encoders. Default:
// memory.DefaultAllocator.
func WithSinkAllocator(mem memory.Allocator) SinkOption {
	return func(c *sinkConfig) { c.mem = mem }
}

// WithSinkShard says that this process writes shard i of n: its manifest
// is _wasinfer/manifest-<i>-of-<n>.jsonl, and on open it cleans up only
// the temporary and uncommitted files of splits whose Index%n == i, so the
// processes of one run can share the output directory. Default: shard 0
// of 1 (the process owns every split).
func WithSinkShard(i, n int) SinkOption {
	return func(c *sinkConfig) { c.shard, c.shards = i, n }
}

// WithMaxFileBytes sets the size at which a split's output file is closed
// and the next one started (part-000042-001.parquet, ...). A file grows
// past it by at most one batch. 0 means no limit. Default:
// [DefaultMaxFileBytes].
func WithMaxFileBytes(n int64) SinkOption { return func(c *sinkConfig) { c.maxFileBytes = n } }

// WithRowGroupRows sets the most rows of a Parquet row group. Default:
// [DefaultRowGroupRows].
func WithRowGroupRows(n int64) SinkOption { return func(c *sinkConfig) { c.rowGroupRows = n } }

// WithRowGroupBytes flushes a Parquet row group once its buffered data
// reaches n bytes, before it has [WithRowGroupRows] rows. Default:
// [DefaultRowGroupBytes].
func WithRowGroupBytes(n int64) SinkOption { return func(c *sinkConfig) { c.rowGroupBytes = n } }

// WithCompression sets the Parquet codec: "snappy", "zstd", "gzip",
// "lz4", "brotli" or "none". Default: [DefaultCompression].
func WithCompression(codec string) SinkOption { return func(c *sinkConfig) { c.compression = codec } }

// Tensor layouts of a Parquet sink ([WithTensorLayout]).
const (
	// TensorLayoutList writes a tensor column (and any fixed_size_list
	// column) as its storage: a Parquet LIST with a definition and a
	// repetition level per element, as pyarrow does. Every Parquet reader
	// sees a list of numbers. It cannot hold null rows (pqarrow refuses
	// them).
	TensorLayoutList = "list"
	// TensorLayoutBinary writes each row of a top-level tensor column
	// (an extension type over a fixed_size_list, such as
	// arrow.fixed_shape_tensor) whose elements are fixed-width numbers
	// (int8 to uint64, float16 to float64) as one FIXED_LEN_BYTE_ARRAY value of
	// its bytes, little-endian in row-major order: no levels per element,
	// about 8× faster to read (BENCHMARKS.md). wasinfer's Parquet source
	// gives the column back as written, without a copy; other readers see
	// fixed_size_binary, with the extension type in the field metadata
	// under wasinfer:extension:name and wasinfer:extension:metadata and
	// the storage type under wasinfer:storage. Null rows are kept; a null
	// element inside a row is refused (there is no place for it). Plain
	// fixed_size_list columns keep the list layout.
	TensorLayoutBinary = "binary"
)

// WithTensorLayout sets how a Parquet sink writes tensor columns:
// [TensorLayoutList] (the default: what other tools read as a list) or
// [TensorLayoutBinary] (fast to read back, for wasinfer's own
// intermediate data).
func WithTensorLayout(layout string) SinkOption {
	return func(c *sinkConfig) { c.tensorLayout = layout }
}

// WithSinkDelimiter sets the CSV delimiter. Default: ','.
func WithSinkDelimiter(r rune) SinkOption { return func(c *sinkConfig) { c.delimiter = r } }

// WithSinkHeader says whether CSV files start with a header row. Default:
// true.
func WithSinkHeader(header bool) SinkOption { return func(c *sinkConfig) { c.noHeader = !header } }

// WithIPCStream writes Arrow IPC stream files (.arrows) instead of IPC
// files (.arrow). Default: IPC files.
func WithIPCStream(stream bool) SinkOption { return func(c *sinkConfig) { c.ipcStream = stream } }

// DirSink writes each split's output as files in one directory, committed
// atomically:
//
//  1. a part writes its files under hidden temporary names
//     (.part-000042-000.parquet.<random>.tmp);
//  2. Commit flushes and fsyncs each file, renames it to its final name
//     (part-000042-000.parquet, then part-000042-001.parquet, ... when the
//     output rolls past the file size limit), removes files of an earlier
//     attempt at the split that the new output does not replace, and
//     fsyncs the directory;
//  3. then it appends an entry (split index, ID, fingerprint, files with
//     their rows and sizes) to this shard's manifest
//     _wasinfer/manifest-<i>-of-<n>.jsonl and fsyncs it.
//
// The manifest entry is the commit: a split is committed when an entry
// names it and every file the entry lists exists with its recorded size.
// A split whose files were deleted after commit is not committed (it is
// redone by a rerun). On open the sink reads every manifest in the
// directory (all shards'), truncates an incomplete last line of its own,
// and removes its own splits' temporary files and final files that no
// entry lists (left by a run killed between rename and manifest append).
//
// A split with no rows commits an entry with no files. File names depend
// only on the split index (global over the unsharded input) and the
// sequence, so shards never clash.
//
// Safe for concurrent use: parts of different splits may be written at
// once. Two parts of the same split must not be written at once.
type DirSink struct {
	dir     string
	format  Format
	ext     string
	cfg     sinkConfig
	newEnc  encoderFactory
	mu      sync.Mutex
	entries map[int]manifestEntry // latest committed entry per split
	finals  map[int][]string      // final file names on disk per split
	man     *os.File              // this shard's manifest
	closed  bool
}

// OpenSink opens (creating it if needed) the output directory dir for
// format (parquet, csv, jsonl or ipc), reads its manifests and cleans up
// what an interrupted run left. Options: every [SinkOption]; each says
// which formats use it.
//
// # Errors
//
// An unknown format ([ErrUnsupported]); a directory that cannot be created
// or read; a manifest line that cannot be parsed ([ErrManifest], naming the
// file and line).
func OpenSink(ctx context.Context, dir string, format Format, opts ...SinkOption) (*DirSink, error) {
	cfg := newSinkConfig(opts)
	if cfg.shards < 1 || cfg.shard < 0 || cfg.shard >= cfg.shards {
		return nil, fmt.Errorf("%w: shard %d of %d: want 0 <= shard < count", ErrInvalidSpec, cfg.shard, cfg.shards)
	}
	newEnc, ext, err := encoderFor(format, &cfg)
	if err != nil {
		return nil, err
	}
	s := &DirSink{dir: dir, format: format, ext: ext, cfg: cfg, newEnc: newEnc,
		entries: map[int]manifestEntry{}, finals: map[int][]string{}}
	if err := os.MkdirAll(filepath.Join(dir, ManifestDir), 0o755); err != nil {
		return nil, fmt.Errorf("dataset: creating output directory: %w", err)
	}
	if err := s.readManifests(); err != nil {
		return nil, err
	}
	if err := s.cleanUp(); err != nil {
		return nil, err
	}
	name := s.manifestPath()
	s.man, err = os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dataset: opening manifest: %w", err)
	}
	if err := syncDir(filepath.Dir(name)); err != nil {
		s.man.Close()
		return nil, err
	}
	return s, nil
}

func (s *DirSink) manifestPath() string {
	return filepath.Join(s.dir, ManifestDir, fmt.Sprintf("manifest-%d-of-%d.jsonl", s.cfg.shard, s.cfg.shards))
}

func (s *DirSink) owns(split int) bool { return split%s.cfg.shards == s.cfg.shard }

// readManifests loads every manifest; later entries of a split replace
// earlier ones (a redone split), in file-name order then line order.
func (s *DirSink) readManifests() error {
	names, err := filepath.Glob(filepath.Join(s.dir, ManifestDir, "manifest-*.jsonl"))
	if err != nil {
		return err
	}
	slices.Sort(names)
	own := s.manifestPath()
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("dataset: reading manifest: %w", err)
		}
		entries, valid, err := parseManifest(f, name)
		var size int64
		if info, serr := f.Stat(); serr == nil {
			size = info.Size()
		}
		f.Close()
		if err != nil {
			return err
		}
		if name == own && valid < size {
			if err := os.Truncate(name, valid); err != nil {
				return fmt.Errorf("dataset: truncating the incomplete last line of manifest %s: %w", name, err)
			}
		}
		for _, e := range entries {
			s.entries[e.Split] = e
		}
	}
	return nil
}

// cleanUp removes this shard's temporary files and its final files that no
// manifest entry lists, and records the final files on disk.
func (s *DirSink) cleanUp() error {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("dataset: reading output directory: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		idx, temp, ok := partIndex(name)
		if !ok || de.IsDir() {
			continue
		}
		if !temp {
			s.finals[idx] = append(s.finals[idx], name)
		}
		if !s.owns(idx) {
			continue
		}
		listed := false
		if e, ok := s.entries[idx]; ok && !temp {
			listed = slices.ContainsFunc(e.Files, func(f manifestFile) bool { return f.Name == name })
		}
		if !listed {
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("dataset: removing leftover file: %w", err)
			}
			if !temp {
				s.finals[idx] = slices.DeleteFunc(s.finals[idx], func(n string) bool { return n == name })
			}
		}
	}
	return syncDir(s.dir)
}

// Dir returns the output directory.
func (s *DirSink) Dir() string { return s.dir }

// Committed implements [Sink]: a split is committed when the manifest has
// an entry for its Index whose ID and fingerprint match and every file the
// entry lists exists with its recorded size. It costs one stat per file.
func (s *DirSink) Committed(ctx context.Context, splits []Split) (map[int]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]bool{}
	for _, sp := range splits {
		e, ok := s.entries[sp.Index]
		if !ok {
			continue
		}
		if e.ID != sp.ID || e.Fingerprint != sp.Fingerprint {
			return nil, &FingerprintError{Split: sp, RecordedID: e.ID, Recorded: e.Fingerprint}
		}
		ok = true
		for _, f := range e.Files {
			info, err := os.Stat(filepath.Join(s.dir, f.Name))
			if err != nil || info.Size() != f.Bytes {
				ok = false
				break
			}
		}
		if ok {
			out[sp.Index] = true
		}
	}
	return out, nil
}

// Create implements [Sink]. The part writes batches of schema; every batch
// written must have this schema (metadata aside).
func (s *DirSink) Create(ctx context.Context, sp Split, schema *arrow.Schema) (Part, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("%w: creating the output of split %d", ErrClosed, sp.Index)
	}
	if sp.Index < 0 {
		return nil, fmt.Errorf("dataset: creating the output of split %d: negative index", sp.Index)
	}
	if err := checkSchema(s.format, schema); err != nil {
		return nil, err
	}
	return &dirPart{sink: s, split: sp, schema: schema}, nil
}

// Close implements [Sink]: it closes the manifest. Parts must be committed
// or aborted first.
func (s *DirSink) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.man.Close()
}

// commit records e: renames are done; this removes stale files, fsyncs the
// directory and appends the manifest entry.
func (s *DirSink) commit(e manifestEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("%w: committing split %d", ErrClosed, e.Split)
	}
	keep := map[string]bool{}
	for _, f := range e.Files {
		keep[f.Name] = true
	}
	for _, name := range s.finals[e.Split] {
		if !keep[name] {
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("dataset: removing the earlier output %s of split %d: %w", name, e.Split, err)
			}
		}
	}
	s.finals[e.Split] = slices.Collect(func(yield func(string) bool) {
		for _, f := range e.Files {
			if !yield(f.Name) {
				return
			}
		}
	})
	if err := syncDir(s.dir); err != nil {
		return err
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("dataset: encoding manifest entry: %w", err)
	}
	line = append(line, '\n')
	if _, err := s.man.Write(line); err != nil {
		return fmt.Errorf("dataset: appending to manifest: %w", err)
	}
	if err := s.man.Sync(); err != nil {
		return fmt.Errorf("dataset: syncing manifest: %w", err)
	}
	s.entries[e.Split] = e
	return nil
}

// addFinal records a final name renamed into place before commit.
func (s *DirSink) addFinal(split int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.finals[split], name) {
		s.finals[split] = append(s.finals[split], name)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("dataset: syncing directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("dataset: syncing directory %s: %w", dir, err)
	}
	return nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// partFile is one file of a part.
type partFile struct {
	tmp, final string // temp path, final name
	rows, size int64
}

// dirPart is one split's output being written.
type dirPart struct {
	sink    *DirSink
	split   Split
	schema  *arrow.Schema
	files   []partFile
	renamed []string // final paths renamed into place by a failed Commit

	f    *os.File
	bw   *bufio.Writer
	cw   *countingWriter
	enc  encoder
	rows int64
	done bool
}

// finalName is part-<split>-<seq><ext>: the sequence is always there, so
// that a byte-wise sort of the names (as sources do) is the write order.
func (p *dirPart) finalName(seq int) string {
	return fmt.Sprintf("part-%06d-%03d%s", p.split.Index, seq, p.sink.ext)
}

// Write implements [Part]. It does not retain rec past the call except
// where an encoder buffers (Parquet row groups hold their own copies).
func (p *dirPart) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if p.done {
		return fmt.Errorf("%w: writing split %d after Commit or Abort", ErrClosed, p.split.Index)
	}
	if d := schemaDiff(p.schema, rec.Schema()); d != "" {
		return fmt.Errorf("%w: writing split %d: batch has %s", ErrSchemaMismatch, p.split.Index, d)
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.enc == nil {
		if err := p.startFile(); err != nil {
			return err
		}
	}
	if err := p.enc.Write(rec); err != nil {
		return fmt.Errorf("dataset: writing split %d to %s: %w", p.split.Index, p.files[len(p.files)-1].final, err)
	}
	p.rows += rec.NumRows()
	p.files[len(p.files)-1].rows += rec.NumRows()
	if limit := p.sink.cfg.maxFileBytes; limit > 0 && p.cw.n+p.enc.Buffered() >= limit {
		return p.finishFile()
	}
	return nil
}

func (p *dirPart) startFile() error {
	final := p.finalName(len(p.files))
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(p.sink.dir, "."+final+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("dataset: creating output file: %w", err)
	}
	p.files = append(p.files, partFile{tmp: tmp, final: final})
	p.f = f
	p.bw = bufio.NewWriterSize(f, 1<<20)
	p.cw = &countingWriter{w: p.bw}
	enc, err := p.sink.newEnc(p.cw, p.schema)
	if err != nil {
		return fmt.Errorf("dataset: writing split %d: %w", p.split.Index, err)
	}
	p.enc = enc
	return nil
}

// finishFile completes the current file: footer, flush, fsync, close.
func (p *dirPart) finishFile() error {
	if p.enc == nil {
		return nil
	}
	pf := &p.files[len(p.files)-1]
	err := p.enc.Close()
	p.enc = nil
	if err == nil {
		err = p.bw.Flush()
	}
	if err == nil {
		err = p.f.Sync()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
	if err != nil {
		return fmt.Errorf("dataset: finishing %s of split %d: %w", pf.final, p.split.Index, err)
	}
	pf.size = p.cw.n
	return nil
}

// Commit implements [Part].
func (p *dirPart) Commit(ctx context.Context) ([]string, error) {
	if p.done {
		return nil, fmt.Errorf("%w: committing split %d twice", ErrClosed, p.split.Index)
	}
	if err := p.finishFile(); err != nil {
		return nil, err
	}
	e := manifestEntry{V: manifestVersion, Split: p.split.Index, ID: p.split.ID,
		Fingerprint: p.split.Fingerprint, InputRows: p.split.Rows, Rows: p.rows, Files: []manifestFile{}}
	var paths []string
	for _, f := range p.files {
		final := filepath.Join(p.sink.dir, f.final)
		if err := os.Rename(f.tmp, final); err != nil {
			return nil, fmt.Errorf("dataset: committing split %d: %w", p.split.Index, err)
		}
		p.renamed = append(p.renamed, final)
		p.sink.addFinal(p.split.Index, f.final)
		paths = append(paths, final)
		e.Files = append(e.Files, manifestFile{Name: f.final, Rows: f.rows, Bytes: f.size})
	}
	if err := p.sink.commit(e); err != nil {
		return nil, err
	}
	p.done = true
	p.renamed = nil
	return paths, nil
}

// Abort implements [Part]: it removes the part's temporary files, and the
// files a failed Commit renamed into place (no manifest entry lists them).
func (p *dirPart) Abort(ctx context.Context) error {
	if p.done {
		return nil
	}
	p.done = true
	var errs []error
	if p.enc != nil {
		_ = p.enc.Close()
		p.enc = nil
	}
	if p.f != nil {
		p.f.Close()
		p.f = nil
	}
	for _, f := range p.files {
		if err := os.Remove(f.tmp); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	for _, path := range p.renamed {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dataset: aborting split %d: %w", p.split.Index, err)
	}
	return nil
}

// checkSchema refuses, before any row is written, a schema the format
// cannot hold.
func checkSchema(f Format, schema *arrow.Schema) error {
	if f != FormatCSV {
		return nil
	}
	var bad []string
	for _, fl := range schema.Fields() {
		if !csvScalar(fl.Type) {
			bad = append(bad, fmt.Sprintf("%q (%s)", fl.Name, fl.Type))
		}
	}
	if bad != nil {
		return fmt.Errorf("%w: CSV holds flat columns only; columns %s are nested: write JSON lines, Parquet or Arrow IPC, or drop them", ErrUnsupported, strings.Join(bad, ", "))
	}
	return nil
}
