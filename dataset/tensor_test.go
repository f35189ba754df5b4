package dataset

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wasinfer/wasinfer/internal/corpus"
)

// TestParquetTensorColumns: tensor columns without null rows, sliced or
// not, round-trip through the Parquet sink and source with their type and
// metadata (stored as fixed_size_list storage plus the extension's field
// metadata, tensor/doc.go); a null tensor row is refused with a message
// saying what to do.
func TestParquetTensorColumns(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	cases := corpus.Batches(mem)
	defer func() {
		for _, c := range cases {
			c.Batch.Release()
		}
	}()
	tested := 0
	for _, c := range cases {
		if !strings.Contains(c.Name, "tensor") {
			continue
		}
		tested++
		t.Run(strings.ReplaceAll(c.Name, "/", "_"), func(t *testing.T) {
			// The "v" column has no nulls.
			v := c.Batch.Schema().FieldIndices("v")[0]
			rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{c.Batch.Schema().Field(v)}, nil), []arrow.Array{c.Batch.Column(v)}, c.Batch.NumRows())
			defer rec.Release()
			err := roundTrip(ctx, t, FormatParquet, nil, func(ctx context.Context, dir string, _ *arrow.Schema, opts ...Option) (Source, error) {
				return OpenParquet(ctx, []string{dir}, opts...)
			}, rec, mem, mem)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	if tested != 4 {
		t.Errorf("%d tensor cases", tested)
	}
	s, err := OpenSink(ctx, t.TempDir(), FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	for _, c := range cases {
		if c.Name != "tensor_uint8" {
			continue
		}
		p, err := s.Create(ctx, Split{}, c.Batch.Schema())
		if err != nil {
			t.Fatal(err)
		}
		err = p.Write(ctx, c.Batch)
		_ = p.Abort(ctx)
		want := `dataset: writing split 0 to part-000000-000.parquet: dataset: unsupported: column "v_nulls", row 0: a null extension<arrow.fixed_shape_tensor[value_type=uint8, shape=[4,4,3]]> cannot be written to Parquet (pqarrow refuses null fixed_size_list rows): fill or filter the null rows first, or write Arrow IPC`
		if !errors.Is(err, ErrUnsupported) || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	}
}
