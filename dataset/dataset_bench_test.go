package dataset

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Benchmarks compare each source and sink with a plain arrow-go read or
// write of the same file in the same run, and report our time over theirs
// as "overhead" (1.0 = the same speed). Run with a small -benchtime:
//
//	go test -run '^$' -bench . -benchtime 3x ./dataset/

const benchRows = 200_000

// benchBatch is benchRows rows of an int64, a float64 and a utf8 column.
func benchBatch(mem memory.Allocator, rows int) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range rows {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Float64Builder).Append(float64(i) / 7)
		if i%10 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("row %d of the benchmark", i))
		}
	}
	return b.NewRecordBatch()
}

// benchFile writes rows in format to a directory with our sink (row groups
// of 64Ki rows) and returns its one file.
func benchFile(b *testing.B, format Format, rows int) string {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	s, err := OpenSink(ctx, dir, format, WithRowGroupRows(64<<10))
	if err != nil {
		b.Fatal(err)
	}
	rec := benchBatch(memory.DefaultAllocator, rows)
	defer rec.Release()
	writeSplits(b, s, []Split{{Index: 0, ID: "bench"}}, []arrow.RecordBatch{rec})
	s.Close(ctx)
	files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	return files[0]
}

// compare runs ours and plain once per iteration and reports rows/s and
// MB/s of ours and the overhead ratio.
func compare(b *testing.B, rows int64, bytes int64, ours, plain func() int64) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(bytes)
	var tOurs, tPlain time.Duration
	for b.Loop() {
		start := time.Now()
		if n := ours(); n != rows {
			b.Fatalf("ours: %d rows, want %d", n, rows)
		}
		tOurs += time.Since(start)
		start = time.Now()
		if n := plain(); n != rows {
			b.Fatalf("plain: %d rows, want %d", n, rows)
		}
		tPlain += time.Since(start)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/tOurs.Seconds(), "rows/s")
	b.ReportMetric(float64(bytes)*float64(b.N)/tOurs.Seconds()/1e6, "MB/s")
	b.ReportMetric(tOurs.Seconds()/tPlain.Seconds(), "overhead")
}

func countAll(src Source) int64 {
	r := NewStreamReader(src, nil)
	defer r.Close()
	var n int64
	for {
		rec, err := r.Read(context.Background())
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			panic(err)
		}
		n += rec.NumRows()
		rec.Release()
	}
}

func size(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		panic(err)
	}
	return info.Size()
}

func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	schema := benchBatch(memory.DefaultAllocator, 0).Schema()
	b.Run("format=parquet", func(b *testing.B) {
		path := benchFile(b, FormatParquet, benchRows)
		compare(b, benchRows, size(path), func() int64 {
			src, err := OpenParquet(ctx, []string{path})
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			return countAll(src)
		}, func() int64 {
			pf, err := file.OpenParquetFile(path, false)
			if err != nil {
				b.Fatal(err)
			}
			defer pf.Close()
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: DefaultBatchSize}, memory.DefaultAllocator)
			if err != nil {
				b.Fatal(err)
			}
			rr, err := fr.GetRecordReader(ctx, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer rr.Release()
			var n int64
			for rr.Next() {
				n += rr.RecordBatch().NumRows()
			}
			return n
		})
	})
	b.Run("format=ipc", func(b *testing.B) {
		path := benchFile(b, FormatIPC, benchRows)
		compare(b, benchRows, size(path), func() int64 {
			src, err := OpenIPC(ctx, []string{path})
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			return countAll(src)
		}, func() int64 {
			f, _ := os.Open(path)
			defer f.Close()
			r, err := ipc.NewFileReader(f)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			var n int64
			for i := range r.NumRecords() {
				rec, _ := r.RecordBatch(i)
				n += rec.NumRows()
			}
			return n
		})
	})
	b.Run("format=csv", func(b *testing.B) {
		path := benchFile(b, FormatCSV, benchRows)
		compare(b, benchRows, size(path), func() int64 {
			src, err := OpenCSV(ctx, []string{path}, WithSchema(schema))
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			return countAll(src)
		}, func() int64 {
			f, _ := os.Open(path)
			defer f.Close()
			r := csv.NewReader(f, schema, csv.WithHeader(true), csv.WithChunk(DefaultBatchSize), csv.WithNullReader(true, ""))
			defer r.Release()
			var n int64
			for r.Next() {
				n += r.RecordBatch().NumRows()
			}
			if r.Err() != nil {
				b.Fatal(r.Err())
			}
			return n
		})
	})
	b.Run("format=jsonl", func(b *testing.B) {
		path := benchFile(b, FormatJSONL, benchRows)
		compare(b, benchRows, size(path), func() int64 {
			src, err := OpenJSONL(ctx, []string{path}, WithSchema(schema))
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			return countAll(src)
		}, func() int64 {
			f, _ := os.Open(path)
			defer f.Close()
			r := array.NewJSONReader(f, schema, array.WithChunk(DefaultBatchSize))
			defer r.Release()
			var n int64
			for r.Next() {
				n += r.RecordBatch().NumRows()
			}
			return n
		})
	})
}

func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	rec := benchBatch(memory.DefaultAllocator, benchRows)
	defer rec.Release()
	dir := b.TempDir()
	plainFile := func(write func(w io.Writer) error) func() int64 {
		return func() int64 {
			f, err := os.Create(filepath.Join(dir, "plain"))
			if err != nil {
				b.Fatal(err)
			}
			bw := bufio.NewWriterSize(f, 1<<20) // as our sink; not a Closer, so pqarrow leaves f open
			if err := write(bw); err != nil {
				b.Fatal(err)
			}
			if err := bw.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil { // our sink fsyncs too
				b.Fatal(err)
			}
			f.Close()
			return rec.NumRows()
		}
	}
	for _, tc := range []struct {
		format Format
		plain  func(w io.Writer) error
	}{
		{FormatParquet, func(w io.Writer) error {
			fw, err := pqarrow.NewFileWriter(rec.Schema(), w, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(DefaultRowGroupRows)), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
			if err != nil {
				return err
			}
			if err := fw.Write(rec); err != nil {
				return err
			}
			return fw.Close()
		}},
		{FormatIPC, func(w io.Writer) error {
			fw, err := ipc.NewFileWriter(w, ipc.WithSchema(rec.Schema()))
			if err != nil {
				return err
			}
			if err := fw.Write(rec); err != nil {
				return err
			}
			return fw.Close()
		}},
		{FormatCSV, func(w io.Writer) error {
			cw := csv.NewWriter(w, rec.Schema(), csv.WithHeader(true))
			if err := cw.Write(rec); err != nil {
				return err
			}
			return cw.Flush()
		}},
		{FormatJSONL, func(w io.Writer) error { return array.RecordToJSON(rec, w) }},
	} {
		b.Run("format="+string(tc.format), func(b *testing.B) {
			out := filepath.Join(dir, string(tc.format))
			s, err := OpenSink(ctx, out, tc.format)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(ctx)
			i := 0
			compare(b, benchRows, recordBytes(rec), func() int64 {
				p, err := s.Create(ctx, Split{Index: i, ID: fmt.Sprint(i)}, rec.Schema())
				i++
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Write(ctx, rec); err != nil {
					b.Fatal(err)
				}
				if _, err := p.Commit(ctx); err != nil {
					b.Fatal(err)
				}
				return rec.NumRows()
			}, plainFile(tc.plain))
		})
	}
}

// BenchmarkImageDecode decodes 64 JPEG images of 256×256 to RGB, as they
// are or resized to 224×224, with 1 worker and with GOMAXPROCS workers,
// against a plain image/jpeg decode loop on one goroutine (which neither
// converts to RGB nor resizes).
func BenchmarkImageDecode(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	const n = 64
	m := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7 / 3)
	}
	var total int64
	for i := range n {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, nil); err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%03d.jpg", i))
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(buf.Len())
	}
	for _, tc := range []struct {
		workers int
		resize  bool
	}{{1, false}, {1, true}, {runtime.GOMAXPROCS(0), true}} {
		workers := tc.workers
		opts := []Option{WithWorkers(workers)}
		if tc.resize {
			opts = append(opts, WithResize(224, 224))
		}
		b.Run(fmt.Sprintf("workers=%d/resize=%v", workers, tc.resize), func(b *testing.B) {
			var tOurs, tPlain time.Duration
			b.SetBytes(total)
			for b.Loop() {
				start := time.Now()
				src, err := OpenImages(ctx, []string{dir}, opts...)
				if err != nil {
					b.Fatal(err)
				}
				if got := countAll(src); got != n {
					b.Fatalf("%d images", got)
				}
				src.Close()
				tOurs += time.Since(start)
				start = time.Now()
				for i := range n {
					data, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%03d.jpg", i)))
					if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
						b.Fatal(err)
					}
				}
				tPlain += time.Since(start)
			}
			perSec := float64(n) * float64(b.N) / tOurs.Seconds()
			b.ReportMetric(perSec, "images/s")
			b.ReportMetric(perSec/float64(workers), "images/s/core")
			b.ReportMetric(tOurs.Seconds()/tPlain.Seconds(), "overhead")
		})
	}
}

// peakAllocator tracks the bytes allocated through it and their peak.
type peakAllocator struct {
	mu        sync.Mutex
	mem       memory.Allocator
	cur, peak int
}

func (a *peakAllocator) add(n int) {
	a.mu.Lock()
	a.cur += n
	a.peak = max(a.peak, a.cur)
	a.mu.Unlock()
}

func (a *peakAllocator) Allocate(n int) []byte { a.add(n); return a.mem.Allocate(n) }
func (a *peakAllocator) Reallocate(n int, b []byte) []byte {
	a.add(n - len(b))
	return a.mem.Reallocate(n, b)
}
func (a *peakAllocator) Free(b []byte) { a.add(-len(b)); a.mem.Free(b) }

// parquetPeak reads the file at path with a peak-tracking allocator and
// returns the peak bytes held by Arrow and Parquet buffers.
func parquetPeak(tb testing.TB, path string) int {
	tb.Helper()
	mem := &peakAllocator{mem: memory.NewGoAllocator()}
	src, err := OpenParquet(context.Background(), []string{path}, WithAllocator(mem))
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	countAll(src)
	return mem.peak
}

// BenchmarkParquetPeakMemory reads a file and one ten times larger (ten
// times the row groups) and reports the peak bytes of each.
func BenchmarkParquetPeakMemory(b *testing.B) {
	small := benchFile(b, FormatParquet, benchRows/2)
	large := benchFile(b, FormatParquet, benchRows*5)
	var p1, p10 int
	for b.Loop() {
		p1, p10 = parquetPeak(b, small), parquetPeak(b, large)
	}
	b.ReportMetric(float64(p1), "peak_1x_bytes")
	b.ReportMetric(float64(p10), "peak_10x_bytes")
	b.ReportMetric(float64(p10)/float64(p1), "peak_ratio")
}
