package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
)

// A FileWriter writes batches to one file in a sink format (Parquet, Arrow
// IPC, JSON lines, CSV) with the sink's encoders — tensor columns in Parquet
// included — under a temporary name that Close renames into place, so a
// failed write never leaves a partial file under the final name. For
// `wasinfer udf test --output` and `peek --output`; pipelines use a Sink.
//
// Ownership: Write does not retain rec past the call. Not safe for
// concurrent use.
type FileWriter struct {
	path, tmp string
	f         *os.File
	enc       encoder
	make      encoderFactory
}

// CreateFile starts a file at path in format f; the options are the sink's
// (compression, row-group size, CSV settings). The schema is the first
// batch's.
func CreateFile(path string, f Format, opts ...SinkOption) (*FileWriter, error) {
	cfg := newSinkConfig(opts)
	nf, ok := normalFormat(f)
	if !ok {
		return nil, fmt.Errorf("%w: format %q (want parquet, csv, jsonl or ipc)", ErrUnsupported, f)
	}
	factory, _, err := encoderFor(nf, &cfg)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("dataset: creating %s: %w", path, err)
	}
	return &FileWriter{path: path, tmp: tmp.Name(), f: tmp, make: factory}, nil
}

// Write appends rec; the first batch fixes the file's schema.
func (w *FileWriter) Write(rec arrow.RecordBatch) error {
	if w.enc == nil {
		enc, err := w.make(struct{ io.Writer }{w.f}, rec.Schema()) // the encoder must not close the file
		if err != nil {
			return fmt.Errorf("dataset: writing %s: %w", w.path, err)
		}
		w.enc = enc
	}
	if err := w.enc.Write(rec); err != nil {
		return fmt.Errorf("dataset: writing %s: %w", w.path, err)
	}
	return nil
}

// Close finishes the file, fsyncs it and renames it to its final name. A
// writer given no batch writes no file and returns an error.
func (w *FileWriter) Close() error {
	if w.enc == nil {
		_ = w.Abort()
		return fmt.Errorf("dataset: writing %s: no batches were written", w.path)
	}
	err := w.enc.Close()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil && !errors.Is(cerr, os.ErrClosed) {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp, w.path)
	}
	if err != nil {
		_ = os.Remove(w.tmp)
		return fmt.Errorf("dataset: writing %s: %w", w.path, err)
	}
	return nil
}

// Abort removes the temporary file.
func (w *FileWriter) Abort() error {
	_ = w.f.Close()
	return os.Remove(w.tmp)
}
