package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/csv"
)

// writeBatch prints rec on w as a table (format "" or "table"), JSON lines
// or CSV.
func writeBatch(w io.Writer, format string, rec arrow.RecordBatch) error {
	switch format {
	case "", "table":
		p := &tablePrinter{w: w, limit: int(rec.NumRows())}
		if err := p.Write(rec); err != nil {
			return err
		}
		return p.Close()
	case "json":
		bw := bufio.NewWriter(w)
		if err := array.RecordToJSON(rec, bw); err != nil {
			return fmt.Errorf("writing JSON: %w", err)
		}
		return bw.Flush()
	case "csv":
		cw := csv.NewWriter(w, rec.Schema(), csv.WithHeader(true))
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("writing CSV: %w (use --format json or parquet for nested and tensor columns)", err)
		}
		return cw.Flush()
	}
	return usageError{fmt.Errorf("--format %q cannot be printed: give --output FILE", format)}
}

// writeBatchFile writes rec to path, atomically (temporary file, then
// rename), in format or, when format is "", the one path's extension names.
func writeBatchFile(path, format string, rec arrow.RecordBatch) error {
	ext := strings.ToLower(filepath.Ext(path))
	if format == "" || format == "table" {
		switch ext {
		case ".parquet":
			format = "parquet"
		case ".arrow", ".feather":
			format = "arrow"
		case ".json", ".jsonl", ".ndjson":
			format = "json"
		case ".csv":
			format = "csv"
		default:
			return usageError{fmt.Errorf("--output %s: cannot tell the format from the extension: give --format json, csv, parquet or arrow", path)}
		}
	}
	if format == "parquet" || format == "arrow" {
		want := map[string]string{"parquet": ".parquet", "arrow": ".arrow"}[format]
		if ext != want {
			return usageError{fmt.Errorf("--output %s: --format %s writes %s files", path, format, want)}
		}
		w, err := createOutput(path)
		if err != nil {
			return err
		}
		if err := w.Write(rec); err != nil {
			_ = w.Abort()
			return err
		}
		return w.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating output: %w", err)
	}
	tmp := f.Name()
	err = writeBatch(f, format, rec)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
