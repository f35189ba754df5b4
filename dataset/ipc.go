package dataset

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// IPCSource reads Arrow IPC files (.arrow, .feather: one split per record
// batch, or per file when it holds one) and streams (.arrows: one split
// per file), the format chosen by extension or by [WithIPCFormat]. A
// record batch larger than the batch size is returned in zero-copy slices.
// Every file must have the schema of the first one (after projection).
// Projection selects columns after reading: IPC reads whole record
// batches.
//
// Damaged files: arrow-go trusts the flatbuffer metadata of IPC data
// (a damaged count can make it allocate gigabytes, which no recover
// catches), so the source checks it before arrow-go decodes it: a file's
// footer and the metadata of its dictionaries when it is opened, each
// record batch's metadata before it is read, and each message of a stream
// (framing, metadata, body length against the bytes left) as it is read.
// Every offset and vector length must fit in the bytes there are, fields
// nest at most 64 levels, bodies fit in the file, buffers in their body,
// and the buffers of a compressed message decompress to at most 256 MiB
// (arrow-go's default body limit). A file that fails is [ErrCorrupt],
// naming the file, where and what ("the footer (168 bytes at byte 8):
// schema.fields[1].children: a vector of 1073741824 tables at byte 160
// needs 4294967296 bytes, 12 remain in the metadata"). The Parquet source
// checks the Arrow schemas Parquet files store (ARROW:schema) the same
// way. Cost: a pass over the metadata, never the data (ipcguard.go;
// BenchmarkIPCGuard).
type IPCSource struct {
	base
	cfg   config
	files []inputFile
	parts []ipcPart
	proj  projection
}

type ipcPart struct {
	file, batch int // batch -1: the whole file
	stream      bool
}

// OpenIPC lists the record batches of the Arrow IPC files named by inputs.
// It reads each file's footer (streams: their schema message), not its
// data. Options: [WithBatchSize], [WithColumns], [WithLimit],
// [WithAllocator], [WithBaseDir], [WithExtensions], [WithIPCFormat].
//
// # Errors
//
// [ErrNoInput]; [ErrCorrupt] naming a file that is not Arrow IPC (bad
// magic, truncated or damaged footer or schema); [ErrSchemaMismatch].
// Reads return [ErrCorrupt] for a damaged record batch or stream message.
func OpenIPC(ctx context.Context, inputs []string, opts ...Option) (*IPCSource, error) {
	cfg := newConfig(FormatIPC, opts)
	if cfg.ipcFormat != "" && cfg.ipcFormat != "file" && cfg.ipcFormat != "stream" {
		return nil, fmt.Errorf("%w: IPC format %q (want file or stream)", ErrUnsupported, cfg.ipcFormat)
	}
	files, err := expand(cfg.baseDir, inputs, extensionsFor(FormatIPC, &cfg))
	if err != nil {
		return nil, err
	}
	s := &IPCSource{cfg: cfg, files: files}
	s.format = FormatIPC
	var full *arrow.Schema
	for fi, f := range files {
		stream := cfg.ipcFormat == "stream" || (cfg.ipcFormat == "" && strings.EqualFold(filepath.Ext(f.path), ".arrows"))
		schema, n, err := s.inspect(f.path, stream)
		if err != nil {
			return nil, err
		}
		if full == nil {
			full = schema
			if s.proj, err = project(full, cfg.columns, f.path); err != nil {
				return nil, err
			}
		} else if d := schemaDiff(full, schema); d != "" {
			return nil, fmt.Errorf("%w: %s: %s (the first file, %s, has schema %s)", ErrSchemaMismatch, f.path, d, files[0].path, full)
		}
		if stream || n == 1 {
			s.splits = append(s.splits, Split{Index: len(s.splits), ID: f.id, Rows: -1, Fingerprint: f.fingerprint()})
			s.parts = append(s.parts, ipcPart{file: fi, batch: -1, stream: stream})
			continue
		}
		for b := range n {
			s.splits = append(s.splits, Split{Index: len(s.splits), ID: fmt.Sprintf("%s#batch=%d", f.id, b), Rows: -1,
				Fingerprint: f.fingerprint() + fmt.Sprintf(",batch=%d", b)})
			s.parts = append(s.parts, ipcPart{file: fi, batch: b})
		}
	}
	s.schema = s.proj.schema
	s.openSplit = s.open
	if err := s.applyLimit(ctx, cfg.limit); err != nil {
		return nil, err
	}
	return s, nil
}

// inspect returns a file's schema and number of record batches (-1 for a
// stream).
func (s *IPCSource) inspect(path string, stream bool) (schema *arrow.Schema, n int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("dataset: opening arrow file: %w", err)
	}
	defer f.Close()
	what := "reading the Arrow IPC file footer"
	if stream {
		what = "reading the Arrow IPC stream schema"
	}
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("dataset: %s: %w", path, err)
	}
	err = guard(path, "reading", func() error {
		if stream {
			r, err := openIPCStream(bufio.NewReaderSize(f, ipcReadBuffer), st.Size(), s.cfg.mem)
			if err != nil {
				return err
			}
			schema, n = r.Schema(), -1
			r.Release()
			return nil
		}
		checked, err := checkIPCFile(f, st.Size())
		if err != nil {
			return err
		}
		r, err := ipc.NewFileReader(checked, ipc.WithAllocator(s.cfg.mem))
		if err != nil {
			return err
		}
		schema, n = r.Schema(), r.NumRecords()
		return r.Close()
	})
	if err != nil {
		return nil, 0, ipcCorrupt(path, what, err)
	}
	return schema, n, nil
}

// ipcReadBuffer is the read buffer of a stream (messages are read in small
// pieces: framing, metadata, body).
const ipcReadBuffer = 64 << 10

// ipcCorrupt is [corrupt] for IPC errors: where the guard refused the
// metadata, its error alone (arrow-go's wrapping adds nothing).
func ipcCorrupt(path, doing string, err error) error {
	var me *ipcMetaError
	if errors.As(err, &me) {
		err = me
	}
	return corrupt(path, doing, err)
}

func (s *IPCSource) open(ctx context.Context, i int) (Reader, error) {
	p := s.parts[i]
	path := s.files[p.file].path
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: opening arrow file: %w", err)
	}
	r := &ipcReader{f: f, path: path, split: s.splits[i].ID, proj: s.proj, batchSize: int64(s.cfg.batchSize), want: p.batch}
	err = guard(path, "opening", func() error {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if p.stream {
			sr, err := openIPCStream(bufio.NewReaderSize(f, ipcReadBuffer), st.Size(), s.cfg.mem)
			r.stream = sr
			return err
		}
		if r.checked, err = checkIPCFile(f, st.Size()); err != nil {
			return err
		}
		fr, err := ipc.NewFileReader(r.checked, ipc.WithAllocator(s.cfg.mem))
		r.file = fr
		return err
	})
	if err != nil {
		f.Close()
		return nil, ipcCorrupt(path, "opening", err)
	}
	return r, nil
}

type ipcReader struct {
	f         *os.File
	path      string
	split     string
	proj      projection
	batchSize int64
	stream    *ipc.Reader
	file      *ipc.FileReader
	checked   *ipcFile // the file's footer, checked; each batch is checked before it is read
	want      int      // the file's batch to read, -1 all
	next      int      // next batch of a file
	cur       arrow.RecordBatch
	off       int64
}

func (r *ipcReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for r.cur == nil || r.off >= r.cur.NumRows() {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		rec, err := r.nextBatch()
		if err != nil {
			return nil, err
		}
		r.cur, r.off = rec, 0
		if rec.NumRows() == 0 {
			r.off = -1 // return an empty batch once, then move on
			break
		}
	}
	if r.off < 0 {
		r.off = 0
		out := r.proj.apply(r.cur)
		return out, nil
	}
	end := min(r.off+r.batchSize, r.cur.NumRows())
	var sl arrow.RecordBatch
	if r.off == 0 && end == r.cur.NumRows() {
		sl = r.proj.apply(r.cur)
	} else {
		part := r.cur.NewSlice(r.off, end)
		sl = r.proj.apply(part)
		part.Release()
	}
	r.off = end
	return sl, nil
}

// nextBatch returns the next record batch of the split, retained.
func (r *ipcReader) nextBatch() (rec arrow.RecordBatch, err error) {
	err = guard(r.path, "reading", func() error {
		if r.stream != nil {
			if !r.stream.Next() {
				if err := r.stream.Err(); err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				return io.EOF
			}
			rec = r.stream.RecordBatch()
			rec.Retain()
			return nil
		}
		if r.want >= 0 {
			if r.next > 0 {
				return io.EOF
			}
			r.next = 1
			if r.want >= r.file.NumRecords() {
				return fmt.Errorf("the file has %d record batches, the split is batch %d: the file changed", r.file.NumRecords(), r.want)
			}
			if err := r.checked.checkBatch(r.want); err != nil {
				return err
			}
			var err error
			rec, err = r.file.RecordBatch(r.want)
			if err == nil {
				rec.Retain()
			}
			return err
		}
		if r.next >= r.file.NumRecords() {
			return io.EOF
		}
		if err := r.checked.checkBatch(r.next); err != nil {
			return err
		}
		var err error
		rec, err = r.file.RecordBatch(r.next)
		r.next++
		if err == nil {
			rec.Retain()
		}
		return err
	})
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, ipcCorrupt(r.path, "reading "+r.split, err)
	}
	return rec, nil
}

func (r *ipcReader) Close() error {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.stream != nil {
		r.stream.Release()
		r.stream = nil
	}
	if r.file != nil {
		r.file.Close()
		r.file = nil
	}
	if r.f != nil {
		err := r.f.Close()
		r.f = nil
		return err
	}
	return nil
}
