package dataset

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// fileRuns cuts files into splits of n files each.
func fileRuns(files []inputFile, n int, kind string) ([]Split, [][2]int) {
	var splits []Split
	var runs [][2]int
	for start := 0; start < len(files); start += n {
		end := min(start+n, len(files))
		splits = append(splits, Split{
			Index:       len(splits),
			ID:          fmt.Sprintf("%s[%d:%d]", kind, start, end),
			Rows:        int64(end - start),
			Fingerprint: filesFingerprint(files[start:end]),
		})
		runs = append(runs, [2]int{start, end})
	}
	return splits, runs
}

// FilesSource is a source of one row per file (binary files, whole text
// files) or per line (text files). Splits: runs of [WithFilesPerSplit]
// files ("binary[0:256]"), or for text lines one per file.
type FilesSource struct {
	base
	cfg   config
	files []inputFile
	runs  [][2]int
	full  *arrow.Schema
	proj  projection
	lines bool
}

// OpenBinary reads whole files as rows of (path utf8, bytes binary), a
// file larger than [WithMaxRowBytes] being a bad row. Options:
// [WithBatchSize], [WithColumns], [WithLimit], [WithAllocator],
// [WithBaseDir], [WithExtensions], [WithFilesPerSplit], [WithMaxRowBytes],
// [WithAllowBadRows].
func OpenBinary(ctx context.Context, inputs []string, opts ...Option) (*FilesSource, error) {
	return openFiles(ctx, FormatBinary, inputs, opts)
}

// OpenText reads text files as rows of (path utf8, line int64, text utf8),
// one per line (line is 1-based; "\n" and "\r\n" are removed), or with
// [WithWholeFile] as rows of (path, text), one per file. A line or file
// that is not valid UTF-8 or is longer than [WithMaxRowBytes] is a bad row.
// Options: as [OpenBinary], and [WithWholeFile].
func OpenText(ctx context.Context, inputs []string, opts ...Option) (*FilesSource, error) {
	return openFiles(ctx, FormatText, inputs, opts)
}

func openFiles(ctx context.Context, format Format, inputs []string, opts []Option) (*FilesSource, error) {
	cfg := newConfig(format, opts)
	files, err := expand(cfg.baseDir, inputs, extensionsFor(format, &cfg))
	if err != nil {
		return nil, err
	}
	s := &FilesSource{cfg: cfg, files: files}
	s.format = format
	path := arrow.Field{Name: "path", Type: arrow.BinaryTypes.String}
	switch {
	case format == FormatBinary:
		s.full = arrow.NewSchema([]arrow.Field{path, {Name: "bytes", Type: arrow.BinaryTypes.Binary}}, nil)
		s.splits, s.runs = fileRuns(files, cfg.filesPerSplit, "binary")
	case cfg.wholeFile:
		s.full = arrow.NewSchema([]arrow.Field{path, {Name: "text", Type: arrow.BinaryTypes.String}}, nil)
		s.splits, s.runs = fileRuns(files, cfg.filesPerSplit, "text")
	default:
		s.lines = true
		s.full = arrow.NewSchema([]arrow.Field{path, {Name: "line", Type: arrow.PrimitiveTypes.Int64}, {Name: "text", Type: arrow.BinaryTypes.String}}, nil)
		for i, f := range files {
			s.splits = append(s.splits, Split{Index: i, ID: f.id, Rows: -1, Fingerprint: f.fingerprint()})
			s.runs = append(s.runs, [2]int{i, i + 1})
		}
	}
	if s.proj, err = project(s.full, cfg.columns, string(format)+" source"); err != nil {
		return nil, err
	}
	s.schema = s.proj.schema
	s.openSplit = s.open
	if err := s.applyLimit(ctx, cfg.limit); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *FilesSource) open(ctx context.Context, i int) (Reader, error) {
	run := s.runs[i]
	r := &filesReader{src: s, split: i, files: s.files[run[0]:run[1]]}
	r.allow = s.cfg.allowBadRows
	return r, nil
}

type filesReader struct {
	rejects
	src   *FilesSource
	split int
	files []inputFile
	next  int // next file
	f     *os.File
	br    *bufio.Reader
	line  int64
	done  bool
}

func (r *filesReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	if r.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := &r.src.cfg
	b := array.NewRecordBuilder(cfg.mem, r.src.full)
	defer b.Release()
	n := 0
	for n < cfg.batchSize {
		ok, err := r.row(b)
		if err != nil {
			return nil, err
		}
		if !ok {
			r.done = true
			break
		}
		n = b.Field(0).Len()
	}
	if n == 0 && r.done {
		return nil, io.EOF
	}
	full := b.NewRecordBatch()
	defer full.Release()
	return r.src.proj.apply(full), nil
}

// row appends the next row to b (or skips a bad one); false at the end.
func (r *filesReader) row(b *array.RecordBuilder) (bool, error) {
	cfg := &r.src.cfg
	if !r.src.lines {
		for r.next < len(r.files) {
			path := r.files[r.next].path
			r.next++
			data, err := readLimited(path, cfg.maxRowBytes)
			if err != nil {
				var re *RowError
				if errors.As(err, &re) {
					if err := r.bad(r.split, re, nil); err != nil {
						return false, err
					}
					continue
				}
				return false, err
			}
			if r.src.format == FormatText && !utf8.Valid(data) {
				if err := r.bad(r.split, &RowError{File: path, Column: "text", Err: errors.New("not valid UTF-8")}, nil); err != nil {
					return false, err
				}
				continue
			}
			b.Field(0).(*array.StringBuilder).Append(path)
			if r.src.format == FormatBinary {
				b.Field(1).(*array.BinaryBuilder).Append(data)
			} else {
				b.Field(1).(*array.StringBuilder).Append(string(data))
			}
			return true, nil
		}
		return false, nil
	}
	for {
		if r.f == nil {
			if r.next >= len(r.files) {
				return false, nil
			}
			f, err := os.Open(r.files[r.next].path)
			if err != nil {
				return false, fmt.Errorf("dataset: opening text file: %w", err)
			}
			r.f, r.br, r.line = f, bufio.NewReaderSize(f, 64<<10), 0
		}
		path := r.files[r.next].path
		text, err := readLine(r.br, cfg.maxRowBytes)
		if errors.Is(err, io.EOF) {
			r.f.Close()
			r.f = nil
			r.next++
			continue
		}
		r.line++
		var bad *RowError
		switch {
		case errors.Is(err, errLineTooLong):
			bad = &RowError{File: path, Line: r.line, Column: "text", Err: fmt.Errorf("line longer than %d bytes (max_row_bytes)", cfg.maxRowBytes)}
		case err != nil:
			return false, fmt.Errorf("dataset: reading %s: %w", path, err)
		case !utf8.Valid(text):
			bad = &RowError{File: path, Line: r.line, Column: "text", Err: errors.New("not valid UTF-8")}
		}
		if bad != nil {
			if err := r.bad(r.split, bad, text); err != nil {
				return false, err
			}
			continue
		}
		b.Field(0).(*array.StringBuilder).Append(path)
		b.Field(1).(*array.Int64Builder).Append(r.line)
		b.Field(2).(*array.StringBuilder).Append(string(text))
		return true, nil
	}
}

func (r *filesReader) Close() error {
	if r.f != nil {
		err := r.f.Close()
		r.f = nil
		return err
	}
	return nil
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line without its "\n" or "\r\n". A line longer than
// max is consumed and reported as errLineTooLong, with its first max bytes.
// io.EOF only when nothing is left.
func readLine(br *bufio.Reader, maxLen int) ([]byte, error) {
	var line []byte
	long := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			if len(line)+len(chunk) > maxLen+2 { // +2: room for the line break
				room := min(max(maxLen-len(line), 0), len(chunk))
				line = append(line, chunk[:room]...)
				long = true
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if errors.Is(err, io.EOF) && len(line) == 0 && !long {
			return nil, io.EOF
		}
		if long {
			return line, errLineTooLong
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > maxLen {
			return line[:maxLen], errLineTooLong
		}
		return line, nil
	}
}

// readLimited reads a whole file; a file larger than max is a *RowError.
func readLimited(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: opening input file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("dataset: reading %s: %w", path, err)
	}
	if len(data) > limit {
		return nil, &RowError{File: path, Err: fmt.Errorf("file larger than %d bytes (max_row_bytes)", limit)}
	}
	return data, nil
}
