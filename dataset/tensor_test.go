package dataset

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wasinfer/wasinfer/internal/corpus"
	"github.com/wasinfer/wasinfer/tensor"
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

// TestParquetBinaryTensorLayout: with WithTensorLayout(binary) a tensor
// column is stored as one FIXED_LEN_BYTE_ARRAY value per row (no levels per
// element), with metadata that tells other readers what the bytes are, and
// reads back as the tensor it was (TestCorpusRoundTrip checks every case);
// a plain fixed_size_list keeps the list layout; a null element inside a
// tensor row is refused naming the column, the row and what to do; an
// unknown layout is refused when the sink opens.
func TestParquetBinaryTensorLayout(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	typ, err := tensor.NewFixedShapeType(arrow.PrimitiveTypes.Float32, []int{2, 3}, tensor.WithDimNames("r", "c"))
	must(t, err)
	vals := make([]float32, 4*6)
	for i := range vals {
		vals[i] = float32(i) / 3
	}
	tc, err := tensor.NewArray(mem, typ, vals, []bool{true, false, true, true})
	must(t, err)
	defer tc.Release()
	fb := array.NewFixedSizeListBuilder(mem, 2, arrow.PrimitiveTypes.Int32)
	defer fb.Release()
	for i := range 4 {
		fb.Append(true)
		fb.ValueBuilder().(*array.Int32Builder).AppendValues([]int32{int32(i), -int32(i)}, nil)
	}
	fl := fb.NewArray()
	defer fl.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "t", Type: typ, Nullable: true}, {Name: "l", Type: fl.DataType()}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{tc, fl}, 4)
	defer rec.Release()

	dir := t.TempDir()
	sink, err := OpenSink(ctx, dir, FormatParquet, WithTensorLayout(TensorLayoutBinary), WithSinkAllocator(mem))
	must(t, err)
	writeSplits(t, sink, []Split{{ID: "s"}}, []arrow.RecordBatch{rec})
	must(t, sink.Close(ctx))
	files, err := filepath.Glob(filepath.Join(dir, "*.parquet"))
	must(t, err)
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	pf, err := file.OpenParquetFile(files[0], false)
	must(t, err)
	defer pf.Close()
	cols := pf.MetaData().Schema
	if c := cols.Column(0); c.PhysicalType() != parquet.Types.FixedLenByteArray || c.TypeLength() != 24 || c.MaxRepetitionLevel() != 0 {
		t.Errorf("tensor column stored as %s(%d), max repetition level %d; want FIXED_LEN_BYTE_ARRAY(24), 0", c.PhysicalType(), c.TypeLength(), c.MaxRepetitionLevel())
	}
	if c := cols.Column(1); c.MaxRepetitionLevel() != 1 {
		t.Errorf("fixed_size_list column: max repetition level %d, want 1 (the list layout)", c.MaxRepetitionLevel())
	}
	// Another reader (plain pqarrow, no wasinfer schema) sees the bytes and
	// the keys that say what they are.
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	must(t, err)
	plain, err := fr.Schema()
	must(t, err)
	f := plain.Field(0)
	if f.Type.ID() != arrow.FIXED_SIZE_BINARY {
		t.Errorf("plain pqarrow reads %s", f.Type)
	}
	for k, want := range map[string]string{binaryLayoutExtName: typ.ExtensionName(), binaryLayoutExtMeta: typ.Serialize(), binaryLayoutStorage: "fixed_size_list<item: float32, nullable>[6]"} {
		if v, ok := f.Metadata.GetValue(k); !ok || v != want {
			t.Errorf("field metadata %s = %q, want %q", k, v, want)
		}
	}
	src, err := OpenParquet(ctx, []string{dir}, WithAllocator(mem))
	must(t, err)
	got := readAll(t, src)
	must(t, src.Close())
	if len(got) != 1 {
		t.Fatalf("%d batches", len(got))
	}
	if err := corpus.Equal(rec, got[0]); err != nil {
		t.Error(err)
	}
	if _, ok := got[0].Column(0).(*tensor.FixedShapeArray); !ok {
		t.Errorf("read back as %T", got[0].Column(0))
	}
	release(got)

	// A null element.
	nb := array.NewFixedSizeListBuilder(mem, 6, arrow.PrimitiveTypes.Float32)
	defer nb.Release()
	for i := range 2 {
		nb.Append(true)
		vb := nb.ValueBuilder().(*array.Float32Builder)
		vb.AppendValues([]float32{1, 2, 3, 4, 5, 6}, []bool{true, true, i == 0, true, true, true})
	}
	st := nb.NewArray()
	defer st.Release()
	bad := array.NewExtensionArrayWithStorage(typ, st)
	defer bad.Release()
	brec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "t", Type: typ}}, nil), []arrow.Array{bad}, 2)
	defer brec.Release()
	bsink, err := OpenSink(ctx, t.TempDir(), FormatParquet, WithTensorLayout(TensorLayoutBinary))
	must(t, err)
	defer bsink.Close(ctx)
	p, err := bsink.Create(ctx, Split{}, brec.Schema())
	must(t, err)
	err = p.Write(ctx, brec)
	_ = p.Abort(ctx)
	want := `column "t": row 1, element 2 is null: the binary tensor layout cannot hold null elements (write tensor_layout: list, or fill them)`
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant …%s", err, want)
	}

	if _, err := OpenSink(ctx, t.TempDir(), FormatParquet, WithTensorLayout("packed")); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `parquet tensor layout "packed" (want list or binary)`) {
		t.Errorf("unknown layout: %v", err)
	}
}
