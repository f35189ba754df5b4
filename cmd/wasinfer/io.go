package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wasinfer/wasinfer/dataset"
)

// openInput opens `udf test`'s input: a file, directory or glob, its
// format from the extension or a FORMAT: prefix (parquet:, csv:, jsonl:,
// ipc:, images:, binary:, text:), read with the dataset package (so every
// check of untrusted input applies).
func openInput(ctx context.Context, input string, batchSize int) (*dataset.StreamReader, error) {
	spec, err := dataset.ParseSourceURL(input)
	if err != nil {
		return nil, usageError{fmt.Errorf("--input %s: %w", input, err)}
	}
	spec.BatchSize = batchSize
	return dataset.OpenStream(ctx, spec, "")
}

// createOutput starts an output file in the format its extension names
// (.parquet, .arrow or .feather, .arrows, .jsonl or .json, .csv), written
// atomically by the dataset package's encoders (tensor columns included).
func createOutput(path string) (*dataset.FileWriter, error) {
	var f dataset.Format
	var opts []dataset.SinkOption
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet":
		f = dataset.FormatParquet
	case ".arrow", ".feather":
		f = dataset.FormatIPC
	case ".arrows":
		f, opts = dataset.FormatIPC, []dataset.SinkOption{dataset.WithIPCStream(true)}
	case ".jsonl", ".json", ".ndjson":
		f = dataset.FormatJSONL
	case ".csv":
		f = dataset.FormatCSV
	default:
		return nil, usageError{fmt.Errorf("output %s: unknown format (want .parquet, .arrow, .arrows, .jsonl or .csv)", path)}
	}
	w, err := dataset.CreateFile(path, f, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating output: %w", err)
	}
	return w, nil
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
