package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// A small reader and writer for `udf test`. The dataset package (sources,
// sinks, shards, manifests) replaces these once it exists.

type batchSource struct {
	rr    array.RecordReader
	close func() error
}

// Read returns the next batch, owned by the caller, or io.EOF.
func (s *batchSource) Read(context.Context) (arrow.RecordBatch, error) {
	if !s.rr.Next() {
		if err := s.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, io.EOF
	}
	rec := s.rr.RecordBatch()
	rec.Retain()
	return rec, nil
}

func (s *batchSource) Close() error {
	s.rr.Release()
	return s.close()
}

func openInput(path string, batchSize int) (*batchSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening input: %w", err)
	}
	fail := func(err error) (*batchSource, error) {
		f.Close()
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet":
		pf, err := file.NewParquetReader(f)
		if err != nil {
			return fail(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(batchSize)}, memory.DefaultAllocator)
		if err != nil {
			pf.Close()
			return fail(err)
		}
		rr, err := fr.GetRecordReader(context.Background(), nil, nil)
		if err != nil {
			pf.Close()
			return fail(err)
		}
		return &batchSource{rr: rr, close: pf.Close}, nil
	case ".arrow", ".feather":
		r, err := ipc.NewFileReader(f)
		if err != nil {
			return fail(err)
		}
		recs := make([]arrow.RecordBatch, 0, r.NumRecords())
		for i := range r.NumRecords() {
			rec, err := r.RecordBatch(i)
			if err != nil {
				return fail(err)
			}
			rec.Retain()
			recs = append(recs, rec)
		}
		rr, err := array.NewRecordReader(r.Schema(), recs)
		for _, rec := range recs {
			rec.Release()
		}
		if err != nil {
			return fail(err)
		}
		return &batchSource{rr: rr, close: func() error { r.Close(); return f.Close() }}, nil
	case ".arrows":
		r, err := ipc.NewReader(f)
		if err != nil {
			return fail(err)
		}
		return &batchSource{rr: r, close: f.Close}, nil
	}
	f.Close()
	return nil, usageError{fmt.Errorf("input %s: unknown format (want .parquet, .arrow, .feather or .arrows)", path)}
}

// fileSink writes to a temporary file renamed into place by Close, so a
// failed run never leaves a partial file under the final name.
type fileSink struct {
	path, tmp string
	f         *os.File
	write     func(arrow.RecordBatch) error
	finish    func() error
}

func createOutput(path string) (*fileSink, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".parquet" && ext != ".arrow" {
		return nil, usageError{fmt.Errorf("output %s: unknown format (want .parquet or .arrow)", path)}
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating output: %w", err)
	}
	return &fileSink{path: path, tmp: f.Name(), f: f}, nil
}

func (s *fileSink) Write(rec arrow.RecordBatch) error {
	if s.write == nil {
		switch strings.ToLower(filepath.Ext(s.path)) {
		case ".parquet":
			w, err := pqarrow.NewFileWriter(rec.Schema(), s.f, parquet.NewWriterProperties(), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
			if err != nil {
				return fmt.Errorf("writing %s: %w", s.path, err)
			}
			s.write, s.finish = w.WriteBuffered, w.Close
		default:
			w, err := ipc.NewFileWriter(s.f, ipc.WithSchema(rec.Schema()))
			if err != nil {
				return fmt.Errorf("writing %s: %w", s.path, err)
			}
			s.write, s.finish = w.Write, w.Close
		}
	}
	if err := s.write(rec); err != nil {
		return fmt.Errorf("writing %s: %w", s.path, err)
	}
	return nil
}

func (s *fileSink) Close() error {
	if s.finish == nil {
		_ = s.Abort()
		return fmt.Errorf("writing %s: the UDF produced no batches", s.path)
	}
	if err := s.finish(); err != nil {
		_ = s.Abort()
		return fmt.Errorf("writing %s: %w", s.path, err)
	}
	if err := s.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) { // the Parquet writer closes it
		_ = os.Remove(s.tmp)
		return fmt.Errorf("writing %s: %w", s.path, err)
	}
	return os.Rename(s.tmp, s.path)
}

func (s *fileSink) Abort() error {
	s.f.Close()
	return os.Remove(s.tmp)
}

// tablePrinter prints the first rows it is given as a text table.
type tablePrinter struct {
	w       io.Writer
	limit   int
	printed int
	header  bool
	tw      *tabwriter.Writer
}

const maxCell = 48

func (p *tablePrinter) Write(rec arrow.RecordBatch) error {
	if p.tw == nil {
		p.tw = tabwriter.NewWriter(p.w, 2, 4, 2, ' ', 0)
	}
	if !p.header {
		var names []string
		for _, f := range rec.Schema().Fields() {
			names = append(names, f.Name+" ("+typeName(f.Type)+")")
		}
		fmt.Fprintln(p.tw, strings.Join(names, "\t"))
		p.header = true
	}
	for i := 0; i < int(rec.NumRows()) && p.printed < p.limit; i++ {
		var cells []string
		for _, col := range rec.Columns() {
			cells = append(cells, cell(col, i))
		}
		fmt.Fprintln(p.tw, strings.Join(cells, "\t"))
		p.printed++
	}
	return nil
}

func typeName(dt arrow.DataType) string {
	if ext, ok := dt.(arrow.ExtensionType); ok {
		return ext.ExtensionName() + " " + ext.Serialize()
	}
	return dt.String()
}

func cell(col arrow.Array, i int) string {
	if ext, ok := col.(array.ExtensionArray); ok {
		col = ext.Storage() // extension arrays need not implement ValueStr
	}
	s := col.ValueStr(i)
	if len(s) > maxCell {
		s = s[:maxCell-1] + "…"
	}
	return s
}

func (p *tablePrinter) Close() error {
	if p.tw == nil {
		return nil
	}
	return p.tw.Flush()
}

func (p *tablePrinter) Abort() error { return p.Close() }
