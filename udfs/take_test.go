package udfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/internal/corpus"
)

// The row copy the C modules share (udfs_take in include/udfs.h), over the
// canonical batch corpus: every type ABI v1 carries, with and without
// nulls, sliced batches, children with offsets of their own. threshold_filter
// copies runs of rows (a filter); ocr_db_post copies rows repeated (an
// explode). Each output is compared with the Go reference takeRows.

// takeSupported is udfs.h's UDFS_TAKE_SUPPORTED.
const takeSupported = "null, boolean, fixed-width, binary, utf8, lists, fixed size lists and tensors, structs, and dictionaries at the top level"

// loadUDF loads the module at path with config, a pool of one and a
// memory limit of 1 GiB, and opts.
func loadUDF(ctx context.Context, tb testing.TB, path, config string, opts ...host.Option) *host.UDF {
	tb.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	opts = append([]host.Option{host.WithPoolSize(1), host.WithMemoryLimit(1 << 30), host.WithConfig([]byte(config))}, opts...)
	u, err := host.Load(ctx, wasm, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func loadForTest(ctx context.Context, t *testing.T, mem memory.Allocator, name, config string) *host.UDF {
	t.Helper()
	return loadUDF(ctx, t, filepath.Join(name, name+".wasm"), config, host.WithAllocator(mem), host.WithName(name))
}

// keepPattern is the rows of n that the filter keeps: runs of 1 to 19
// rows, each starting one row later modulo 8 than the last would, split
// by gaps of 1 to 3 rows, so that runs start at every bit of a byte and
// the longer ones span whole bytes.
func keepPattern(n int) []bool {
	keep := make([]bool, n)
	r, run := 0, 1
	for r < n {
		for k := 0; k < run && r < n; k++ {
			keep[r] = true
			r++
		}
		r += 1 + run%3
		run = run%19 + 1
	}
	return keep
}

// withColumns returns rec with cols appended (cols are released).
func withColumns(rec arrow.RecordBatch, cols ...col) arrow.RecordBatch {
	fields := append([]arrow.Field{}, rec.Schema().Fields()...)
	arrs := append([]arrow.Array{}, rec.Columns()...)
	for _, c := range cols {
		fields = append(fields, arrow.Field{Name: c.name, Type: c.arr.DataType(), Nullable: c.nullable})
		arrs = append(arrs, c.arr)
	}
	md := rec.Schema().Metadata()
	out := array.NewRecordBatch(arrow.NewSchema(fields, &md), arrs, rec.NumRows())
	for _, c := range cols {
		c.arr.Release()
	}
	return out
}

// firstColumns is rec's first k columns.
func firstColumns(rec arrow.RecordBatch, k int) arrow.RecordBatch {
	md := rec.Schema().Metadata()
	return array.NewRecordBatch(arrow.NewSchema(rec.Schema().Fields()[:k], &md), rec.Columns()[:k], rec.NumRows())
}

func hasMap(dt arrow.DataType) bool {
	switch t := dt.(type) {
	case *arrow.MapType:
		return true
	case arrow.NestedType:
		for _, f := range t.Fields() {
			if hasMap(f.Type) {
				return true
			}
		}
	case arrow.ExtensionType:
		return hasMap(t.StorageType())
	}
	return false
}

// withoutMaps is rec without its columns that hold a map (udfs_take
// refuses them: TestTakeRefusal).
func withoutMaps(rec arrow.RecordBatch) arrow.RecordBatch {
	var fields []arrow.Field
	var cols []arrow.Array
	for i, f := range rec.Schema().Fields() {
		if !hasMap(f.Type) {
			fields, cols = append(fields, f), append(cols, rec.Column(i))
		}
	}
	md := rec.Schema().Metadata()
	return array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, rec.NumRows())
}

// checkTake compares the first k columns of got with the rows of in that
// the reference takes.
func checkTake(t *testing.T, mem memory.Allocator, in, got arrow.RecordBatch, k int, rows []int) {
	t.Helper()
	defer got.Release()
	want := takeRows(mem, in, rows)
	defer want.Release()
	head := firstColumns(got, k)
	defer head.Release()
	if err := corpus.Equal(head, want); err != nil {
		t.Fatal(err)
	}
}

// TestTakeFilterCorpus filters every corpus batch (less its map columns)
// with threshold_filter: runs of every length at every bit alignment
// (keepPattern).
func TestTakeFilterCorpus(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for seq, c := range corpus.Batches(mem) {
		t.Run(c.Name, func(t *testing.T) {
			rec := withoutMaps(c.Batch)
			c.Batch.Release()
			defer rec.Release()
			n := int(rec.NumRows())
			keep := keepPattern(n)
			scores := make([]float64, n)
			var rows []int
			for r, k := range keep {
				if k {
					scores[r] = 1
					rows = append(rows, r)
				}
			}
			in := withColumns(rec, col{name: "keep_score", arr: float64Col(mem, scores, nil)})
			defer in.Release()
			// A UDF's output schema is fixed by its first batch: one per case.
			u := loadForTest(ctx, t, mem, "threshold_filter", `{"column": "keep_score", "threshold": 0.5}`)
			defer func() { _ = u.Close(ctx) }()
			// A UDF's output schema is fixed by its first batch: one per case.
			got, err := u.Transform(ctx, int64(seq), in)
			if err != nil {
				t.Fatal(err)
			}
			checkTake(t, mem, in, got, int(in.NumCols()), rows)
		})
	}
}

// TestTakeExplodeCorpus explodes every corpus batch of at most 1000 rows
// (less its map columns) with ocr_db_post: row r has r % 3 text lines (0, 1 or 2 boxes), so rows
// are dropped, kept once and repeated.
func TestTakeExplodeCorpus(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const h, w = 12, 16
	maps := [3]*ocrMap{
		newOCRMap(h, w, 0),
		newOCRMap(h, w, 0).rect(1, 1, 14, 4, 0.9, 0),
		newOCRMap(h, w, 0).rect(1, 1, 14, 4, 0.9, 0).rect(1, 7, 14, 10, 0.8, 0),
	}
	frame := [4]float32{1, 1, w, h}
	for seq, c := range corpus.Batches(mem) {
		if c.Batch.NumRows() > 1000 { // "long" and its slice: the filter test covers them
			c.Batch.Release()
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			rec := withoutMaps(c.Batch)
			c.Batch.Release()
			defer rec.Release()
			n := int(rec.NumRows())
			var probs, frames []float32
			var rows []int
			for r := range n {
				m := maps[r%3]
				probs = append(probs, m.p...)
				frames = append(frames, frame[:]...)
				for range ocrDBPostRef(m.p, h, w, frame, r, ocrDBDefault) {
					rows = append(rows, r)
				}
			}
			f32 := arrow.PrimitiveTypes.Float32
			withFrame := withColumns(rec, col{name: "det_frame", arr: tensorCol(mem, f32, []int{4}, frames, nil), nullable: true})
			defer withFrame.Release()
			in := withColumns(withFrame, col{name: "prob", arr: tensorCol(mem, f32, []int{1, h, w}, probs, nil), nullable: true})
			defer in.Release()
			// A UDF's output schema is fixed by its first batch: one per case.
			u := loadForTest(ctx, t, mem, "ocr_db_post", `{}`)
			defer func() { _ = u.Close(ctx) }()
			got, err := u.Transform(ctx, int64(seq), in)
			if err != nil {
				t.Fatal(err)
			}
			checkTake(t, mem, withFrame, got, int(withFrame.NumCols()), rows)
		})
	}
}

// TestTakeRefusal: a column udfs_take cannot copy (a map, or a map inside
// a list) fails the batch with a message that names the column and the
// format and says what to do, in both modules (ocr_db_post checks before
// it detects anything).
func TestTakeRefusal(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	mb := array.NewMapBuilder(mem, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, false)
	defer mb.Release()
	mb.Append(true)
	mb.KeyBuilder().(*array.StringBuilder).Append("k")
	mb.ItemBuilder().(*array.Int64Builder).Append(1)
	mb.Append(true)
	plain := mb.NewArray()
	lb := array.NewListBuilder(mem, plain.DataType())
	defer lb.Release()
	lb.Append(true)
	lmb := lb.ValueBuilder().(*array.MapBuilder)
	lmb.Append(true)
	lmb.KeyBuilder().(*array.StringBuilder).Append("k")
	lmb.ItemBuilder().(*array.Int64Builder).Append(2)
	lb.Append(false)
	listed := lb.NewArray()
	f32 := arrow.PrimitiveTypes.Float32
	cases := []struct {
		name string
		col  arrow.Array
		want string
	}{
		{"map", plain, `column "m": format "+m" cannot be copied (supported: ` + takeSupported + `): drop the column before this stage`},
		{"list of maps", listed, `column "m": format "+m" inside it cannot be copied (supported: ` + takeSupported + `): drop the column before this stage`},
	}
	for _, c := range cases {
		for _, mod := range []struct{ name, config string }{{"threshold_filter", `{}`}, {"ocr_db_post", `{}`}} {
			t.Run(c.name+"/"+mod.name, func(t *testing.T) {
				c.col.Retain()
				in := batch(col{name: "score", arr: float32Col(mem, []float32{1, 1}, nil)},
					col{name: "m", arr: c.col, nullable: true},
					col{name: "prob", arr: tensorCol(mem, f32, []int{4, 4}, make([]float32, 32), nil), nullable: true},
					col{name: "det_frame", arr: tensorCol(mem, f32, []int{4}, []float32{1, 1, 4, 4, 1, 1, 4, 4}, nil), nullable: true})
				defer in.Release()
				u := loadForTest(ctx, t, mem, mod.name, mod.config)
				defer func() { _ = u.Close(ctx) }()
				out, err := u.Transform(ctx, 3, in)
				if err == nil {
					out.Release()
					t.Fatal("no error")
				}
				want := fmt.Sprintf("udf %q: batch 3: guest error (status UNSUPPORTED_INPUT): %s", mod.name, c.want)
				if err.Error() != want {
					t.Fatalf("error\n%s\nwant\n%s", err, want)
				}
			})
		}
	}
	plain.Release()
	listed.Release()
}
