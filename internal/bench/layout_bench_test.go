package bench

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/tensor"
)

// BenchmarkParquetTensorLayout backs docs/profile/README.md: reading the
// end-to-end pipeline's pixels (a tensor<uint8>[8, 8, 1] per row) through
// wasinfer's Parquet source, in batches of 256 rows, stored in the list
// layout (the tensor's storage fixed_size_list<uint8>[64]: 64 definition
// and repetition levels per row; what pyarrow writes and the sink's
// default) against the binary layout (dataset.TensorLayoutBinary: one
// FIXED_LEN_BYTE_ARRAY(64) value per row, turned back into the tensor
// without a copy). Both sides are interleaved per iteration and must give
// the same tensors; x_list is the list layout's time ÷ the binary
// layout's.
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
	bin, err := e.digitsBinary(ctx, rows)
	if err != nil {
		b.Fatal(err)
	}
	read := func(path string) (float64, uint64) {
		var sum uint64
		s, err := timed(func() error {
			src, err := dataset.OpenParquet(ctx, []string{path}, dataset.WithBatchSize(digitsBatch))
			if err != nil {
				return err
			}
			defer src.Close()
			sr := dataset.NewStreamReader(src, nil)
			defer sr.Close()
			got := 0
			for {
				rec, err := sr.Read(ctx)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return err
				}
				px := rec.Column(0).(*tensor.FixedShapeArray)
				sum += uint64(tensor.Row[uint8](px, 0)[7]) + uint64(tensor.Row[uint8](px, px.Len()-1)[63])
				got += int(rec.NumRows())
				rec.Release()
			}
			if got != rows {
				b.Fatalf("%s: read %d rows of %d", path, got, rows)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		return s, sum
	}
	var tl, tb float64
	for b.Loop() {
		l, sl := read(list)
		t, sb := read(bin)
		if sl != sb {
			b.Fatalf("the layouts read back different pixels (checksums %d, %d)", sl, sb)
		}
		tl += l
		tb += t
	}
	b.ReportMetric(tl/float64(b.N)/rows*1e9, "ns/row_list")
	b.ReportMetric(tb/float64(b.N)/rows*1e9, "ns/row_binary")
	b.ReportMetric(tl/tb, "x_list")
}
