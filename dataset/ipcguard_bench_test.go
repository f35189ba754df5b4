package dataset

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ipcBenchFile writes n batches of rows rows of cols int64 columns as an
// IPC file or stream and returns its path.
func ipcBenchFile(b *testing.B, stream bool, n, rows, cols int) string {
	b.Helper()
	fields := make([]arrow.Field, cols)
	for i := range fields {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: arrow.PrimitiveTypes.Int64, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer bld.Release()
	for c := range cols {
		for r := range rows {
			bld.Field(c).(*array.Int64Builder).Append(int64(r * c))
		}
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(b.TempDir(), "bench.arrow")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var w interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	if stream {
		w = ipc.NewWriter(f, ipc.WithSchema(schema))
	} else if w, err = ipc.NewFileWriter(f, ipc.WithSchema(schema)); err != nil {
		b.Fatal(err)
	}
	for range n {
		if err := w.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkIPCGuard measures the guard against arrow-go reading the same
// file, in the same run: guard/read is the guard alone (the footer and
// every batch's metadata) ÷ a plain arrow-go read of every batch;
// overhead is a read through the guard ÷ the plain read. Streams are
// checked as they are read, so only overhead applies.
func BenchmarkIPCGuard(b *testing.B) {
	shapes := []struct{ n, rows, cols int }{
		{1, 200_000, 3}, // one large batch
		{1000, 64, 3},   // many small batches
		{10, 10, 1000},  // a wide schema: metadata-heavy
		{1000, 1, 100},  // many one-row batches of 100 columns: all metadata
	}
	for _, sh := range shapes {
		name := fmt.Sprintf("batches=%d/rows=%d/cols=%d", sh.n, sh.rows, sh.cols)
		b.Run("format=file/"+name, func(b *testing.B) {
			path := ipcBenchFile(b, false, sh.n, sh.rows, sh.cols)
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			b.SetBytes(st.Size())
			b.ReportAllocs()
			guardOnly := func() {
				c, err := checkIPCFile(f, st.Size())
				if err != nil {
					b.Fatal(err)
				}
				for i := range c.footer.batches {
					if err := c.checkBatch(i); err != nil {
						b.Fatal(err)
					}
				}
			}
			read := func(guarded bool) {
				var c *ipcFile
				if guarded {
					if c, err = checkIPCFile(f, st.Size()); err != nil {
						b.Fatal(err)
					}
				}
				var rs ipc.ReadAtSeeker = io.NewSectionReader(f, 0, st.Size())
				if guarded {
					rs = c // as the source reads: the checked metadata from the guard
				}
				r, err := ipc.NewFileReader(rs)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				for i := range r.NumRecords() {
					if guarded {
						if err := c.checkBatch(i); err != nil {
							b.Fatal(err)
						}
					}
					rec, err := r.RecordBatchAt(i)
					if err != nil {
						b.Fatal(err)
					}
					rec.Release()
				}
			}
			var tGuard, tGuarded, tPlain time.Duration
			for b.Loop() {
				start := time.Now()
				guardOnly()
				tGuard += time.Since(start)
				start = time.Now()
				read(true)
				tGuarded += time.Since(start)
				start = time.Now()
				read(false)
				tPlain += time.Since(start)
			}
			b.ReportMetric(tGuard.Seconds()/tPlain.Seconds(), "guard/read")
			b.ReportMetric(tGuarded.Seconds()/tPlain.Seconds(), "overhead")
		})
		b.Run("format=stream/"+name, func(b *testing.B) {
			path := ipcBenchFile(b, true, sh.n, sh.rows, sh.cols)
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			b.ReportAllocs()
			read := func(guarded bool) {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				var r *ipc.Reader
				if guarded {
					r, err = openIPCStream(bufio.NewReaderSize(f, ipcReadBuffer), st.Size(), memory.DefaultAllocator)
				} else {
					r, err = ipc.NewReader(f)
				}
				if err != nil {
					b.Fatal(err)
				}
				defer r.Release()
				n := 0
				for r.Next() {
					n++
				}
				if r.Err() != nil || n != sh.n {
					b.Fatalf("%d batches, %v", n, r.Err())
				}
			}
			var tGuarded, tPlain time.Duration
			for b.Loop() {
				start := time.Now()
				read(true)
				tGuarded += time.Since(start)
				start = time.Now()
				read(false)
				tPlain += time.Since(start)
			}
			b.ReportMetric(tGuarded.Seconds()/tPlain.Seconds(), "overhead")
		})
	}
}
