package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// BenchmarkParquetTensorLayout backs docs/profile/README.md: reading the
// end-to-end pipeline's pixels (a tensor<uint8>[8, 8, 1] per row) with
// plain pqarrow, in batches of 256 rows, stored as Parquet stores tensors
// today (the storage fixed_size_list<uint8>[64]: a list column, 64
// definition and repetition levels per row) against the same bytes as one
// FIXED_LEN_BYTE_ARRAY(64) value per row. Both sides are interleaved per
// iteration; x_list is the list layout's time ÷ the binary layout's.
func BenchmarkParquetTensorLayout(b *testing.B) {
	ctx := context.Background()
	e, err := newEnv(&config{root: "../.."})
	if err != nil {
		b.Fatal(err)
	}
	defer e.close()
	const rows = 131072
	list, err := e.digits(rows)
	if err != nil {
		b.Fatal(err)
	}
	px, _, err := e.digitsPixels(ctx)
	if err != nil {
		b.Fatal(err)
	}
	fsb := filepath.Join(e.work, "fsb.parquet")
	typ := &arrow.FixedSizeBinaryType{ByteWidth: 64}
	schema := arrow.NewSchema([]arrow.Field{{Name: "pixels", Type: typ}}, nil)
	f, err := os.Create(fsb)
	if err != nil {
		b.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f,
		parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(digitsRowGroup)),
		pqarrow.DefaultWriterProps())
	if err != nil {
		b.Fatal(err)
	}
	bld := array.NewFixedSizeBinaryBuilder(memory.DefaultAllocator, typ)
	n := len(px) / 64
	for i := range rows {
		j := i % n
		bld.Append(px[j*64 : (j+1)*64])
	}
	col := bld.NewArray()
	bld.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, rows)
	col.Release()
	if err := w.Write(rec); err != nil {
		b.Fatal(err)
	}
	rec.Release()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	read := func(path string) float64 {
		s, err := timed(func() error {
			pf, err := file.OpenParquetFile(path, false)
			if err != nil {
				return err
			}
			defer pf.Close()
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: digitsBatch}, memory.DefaultAllocator)
			if err != nil {
				return err
			}
			rr, err := fr.GetRecordReader(ctx, []int{0}, nil)
			if err != nil {
				return err
			}
			defer rr.Release()
			got := 0
			for rr.Next() {
				got += int(rr.RecordBatch().NumRows())
			}
			if got != rows {
				b.Fatalf("read %d rows of %d", got, rows)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	var tl, tf float64
	for b.Loop() {
		tl += read(list)
		tf += read(fsb)
	}
	b.ReportMetric(tl/float64(b.N)/rows*1e9, "ns/row_list")
	b.ReportMetric(tf/float64(b.N)/rows*1e9, "ns/row_fixed_binary")
	b.ReportMetric(tl/tf, "x_list")
}
