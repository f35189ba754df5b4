package dataset

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// The files under testdata/duckdb were written by DuckDB (gen.sh there);
// the expected values below follow the SQL in gen.mjs (DuckDB types
// i * 0.5 as decimal(21, 1)).

func TestDuckDBFlat(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	src, err := OpenParquet(ctx, []string{"testdata/duckdb/flat.parquet"}, WithAllocator(mem), WithBatchSize(128))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var rows []int64
	for _, sp := range src.Splits() {
		rows = append(rows, sp.Rows)
	}
	if fmt.Sprint(rows) != "[2048 2048 904]" {
		t.Fatalf("splits of %v rows, want one per row group", rows)
	}
	if got := src.Splits()[2].ID; got != "testdata/duckdb/flat.parquet#rg=2" {
		t.Errorf("split 2 ID %q", got)
	}
	want := "id: int64, name: utf8, score: decimal(21, 1), flag: bool, day: date32, ts: timestamp[us]"
	if got := schemaString(src.Schema()); got != want {
		t.Errorf("schema %s\nwant %s", got, want)
	}
	recs := readAll(t, src)
	defer release(recs)
	i := int64(0)
	day0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, rec := range recs {
		if rec.NumRows() > 128 {
			t.Errorf("batch of %d rows, batch size 128", rec.NumRows())
		}
		id := rec.Column(0).(*array.Int64)
		name := rec.Column(1).(*array.String)
		score := rec.Column(2).(*array.Decimal128)
		flag := rec.Column(3).(*array.Boolean)
		day := rec.Column(4).(*array.Date32)
		ts := rec.Column(5).(*array.Timestamp)
		for r := range rec.NumRows() {
			k := int(r)
			if id.Value(k) != i || score.Value(k) != decimal128.FromI64(i*5) || flag.Value(k) != (i%2 == 0) {
				t.Fatalf("row %d: id %d score %v flag %v", i, id.Value(k), score.Value(k), flag.Value(k))
			}
			if (i%7 == 0) != name.IsNull(k) || (!name.IsNull(k) && name.Value(k) != fmt.Sprintf("name-%d", i)) {
				t.Fatalf("row %d: name %q (null %v)", i, name.Value(k), name.IsNull(k))
			}
			if got, want := day.Value(k).ToTime(), day0.AddDate(0, 0, int(i%365)); !got.Equal(want) {
				t.Fatalf("row %d: day %v, want %v", i, got, want)
			}
			if got, want := ts.Value(k).ToTime(arrow.Microsecond), day0.Add(time.Duration(i*1000003)*time.Microsecond); !got.Equal(want) {
				t.Fatalf("row %d: ts %v, want %v", i, got, want)
			}
			i++
		}
	}
	if i != 5000 {
		t.Fatalf("%d rows", i)
	}
}

func schemaString(s *arrow.Schema) string {
	out := ""
	for i, f := range s.Fields() {
		if i > 0 {
			out += ", "
		}
		out += f.Name + ": " + f.Type.String()
	}
	return out
}

func TestDuckDBNested(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	src, err := OpenParquet(ctx, []string{"testdata/duckdb/nested.parquet"}, WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if n := len(src.Splits()); n != 1 || src.Splits()[0].ID != "testdata/duckdb/nested.parquet" {
		t.Fatalf("splits %v, want one for the file's single row group", src.Splits())
	}
	recs := readAll(t, src)
	defer release(recs)
	if len(recs) != 1 || recs[0].NumRows() != 50 {
		t.Fatalf("%d batches", len(recs))
	}
	rec := recs[0]
	tags := rec.Column(1).(*array.List)
	point := rec.Column(2).(*array.Struct)
	kv := rec.Column(3).(*array.Map)
	for i := range 50 {
		switch i % 5 {
		case 0:
			if !tags.IsNull(i) {
				t.Errorf("row %d: tags not null", i)
			}
		case 1:
			if s, e := tags.ValueOffsets(i); tags.IsNull(i) || e != s {
				t.Errorf("row %d: tags not an empty list", i)
			}
		default:
			s, _ := tags.ValueOffsets(i)
			v := tags.ListValues().(*array.String)
			if v.Value(int(s)) != fmt.Sprintf("a%d", i) || v.Value(int(s)+1) != fmt.Sprintf("b%d", i) {
				t.Errorf("row %d: tags %v", i, tags.ValueStr(i))
			}
		}
		x := point.Field(0).(*array.Float64).Value(i)
		y := point.Field(1).(*array.Float64).Value(i)
		if x != float64(i) || y != -float64(i) {
			t.Errorf("row %d: point (%v, %v)", i, x, y)
		}
		s, e := kv.ValueOffsets(i)
		keys := kv.Keys().(*array.String)
		items := kv.Items().(*array.Int32)
		if e-s != 1 || keys.Value(int(s)) != fmt.Sprintf("k%d", i) || items.Value(int(s)) != int32(i) {
			t.Errorf("row %d: kv %s", i, kv.ValueStr(i))
		}
	}
}

// TestDuckDBShardsAndProjection: the flat file's row groups split over
// two shards read every row once; a projection reads only its columns, in
// the order asked for.
func TestDuckDBShardsAndProjection(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	src, err := OpenParquet(ctx, []string{"testdata/duckdb/flat.parquet"}, WithAllocator(mem), WithColumns("score", "id"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := schemaString(src.Schema()); got != "score: decimal(21, 1), id: int64" {
		t.Fatalf("schema %s", got)
	}
	seen := map[int64]int{}
	for shard := range 2 {
		r := NewStreamReader(src, Shard(src.Splits(), shard, 2))
		recs, err := ReadAll(ctx, r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			for k, v := range rec.Column(1).(*array.Int64).Int64Values() {
				seen[v]++
				if s := rec.Column(0).(*array.Decimal128).Value(k); s != decimal128.FromI64(v*5) {
					t.Fatalf("id %d: score %v", v, s)
				}
			}
		}
		release(recs)
	}
	if len(seen) != 5000 {
		t.Fatalf("%d distinct ids", len(seen))
	}
	for id, n := range seen {
		if n != 1 || id < 0 || id >= 5000 {
			t.Fatalf("id %d read %d times", id, n)
		}
	}
}

func TestDuckDBZstdLimit(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	src, err := OpenParquet(ctx, []string{"testdata/duckdb/zstd.parquet"}, WithAllocator(mem), WithLimit(123), WithBatchSize(50))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := readAll(t, src)
	defer release(recs)
	var n int64
	for _, rec := range recs {
		for k, v := range rec.Column(1).(*array.Int64).Int64Values() {
			id := rec.Column(0).(*array.Int64).Value(k)
			if id != n || v != id*id {
				t.Fatalf("row %d: id %d value %d", n, id, v)
			}
			n++
		}
	}
	if n != 123 {
		t.Fatalf("%d rows, limit 123", n)
	}
}
