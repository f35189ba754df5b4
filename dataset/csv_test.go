package dataset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// batchText renders batches as one line per row, values by ValueStr.
func batchText(recs []arrow.RecordBatch) string {
	var b strings.Builder
	for _, rec := range recs {
		for r := range int(rec.NumRows()) {
			for c, col := range rec.Columns() {
				if c > 0 {
					b.WriteString("|")
				}
				b.WriteString(col.ValueStr(r))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestCSVInfer(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	dir := t.TempDir()
	path := writeFile(t, dir, "a.csv", "id,name,score,ok,day,at\r\n"+
		"1,alice,1.5,true,2024-01-02,2024-01-02T03:04:05Z\r\n"+
		"2,\"bob, \"\"the\"\" builder\",2,FALSE,2024-12-31,2024-01-02T03:04:05+01:00\r\n"+
		"3,,,,,\r\n"+
		"4,\"two\nlines\",-3e2,true,2000-02-29,1999-12-31T23:59:59.5Z\r\n")
	src, err := OpenCSV(ctx, []string{path}, WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !src.Inferred() {
		t.Error("Inferred() is false")
	}
	want := "id: int64, name: utf8, score: float64, ok: bool, day: date32, at: timestamp[us, tz=UTC]"
	if got := schemaString(src.Schema()); got != want {
		t.Errorf("schema %s\nwant %s", got, want)
	}
	recs := readAll(t, src)
	defer release(recs)
	wantRows := "1|alice|1.5|true|2024-01-02|2024-01-02T03:04:05Z\n" +
		"2|bob, \"the\" builder|2|false|2024-12-31|2024-01-02T02:04:05Z\n" +
		"3|(null)|(null)|(null)|(null)|(null)\n" +
		"4|two\nlines|-300|true|2000-02-29|1999-12-31T23:59:59.5Z\n"
	if got := batchText(recs); got != wantRows {
		t.Errorf("rows\n%s\nwant\n%s", got, wantRows)
	}
}

func TestCSVOptions(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	dir := t.TempDir()
	path := writeFile(t, dir, "a.tsv", "1\tNA\t\"NA\"\n2\tx\t\n")
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int32},
		{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	src, err := OpenCSV(ctx, []string{dir}, WithAllocator(mem), WithDelimiter('\t'), WithHeader(false),
		WithNullValue("NA"), WithSchema(schema), WithColumns("b", "n"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Splits()[0].ID != path {
		t.Errorf("split %v", src.Splits()[0])
	}
	recs := readAll(t, src)
	defer release(recs)
	if got, want := batchText(recs), "NA|1\n|2\n"; got != want {
		t.Errorf("rows %q, want %q", got, want)
	}
}

// TestCSVBadRows: each bad row fails the read with its file, line and
// column; allowed, it is skipped and reported with its text.
func TestCSVBadRows(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	tests := []struct {
		name, row, want string
	}{
		{"not_a_number", "x7,a", `3: column "id": parsing "x7" as int64: invalid syntax`},
		{"invalid_utf8", "7,a\xffb", `3: column "name": not valid UTF-8`},
		{"null_not_nullable", ",a", `3: column "id": null (an empty field) in a column that is not nullable`},
		{"too_few", "7", `3: 1 fields, want 2`},
		{"too_many", "7,a,b", `3: 3 fields, want 2`},
		{"text_after_quote", `7,"a"b`, `3: text after the closing quote of field 2`},
		{"overflow", "99999999999999999999,a", `3: column "id": parsing "99999999999999999999" as int64: value out of range`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, tc.name+".csv", "id,name\n1,ok\n"+tc.row+"\n2,fine\n")
			mem := checkedMem(t)
			src, err := OpenCSV(ctx, []string{path}, WithAllocator(mem), WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			_, err = readSplit(ctx, src, src.Splits()[0])
			var re *RowError
			if !errors.As(err, &re) || !errors.Is(err, ErrBadRow) {
				t.Fatalf("err %v, want a RowError", err)
			}
			if want := "dataset: " + path + ":" + tc.want; err.Error() != want {
				t.Errorf("error\n got %s\nwant %s", err, want)
			}

			src2, err := OpenCSV(ctx, []string{path}, WithAllocator(mem), WithSchema(schema), WithAllowBadRows(true))
			if err != nil {
				t.Fatal(err)
			}
			defer src2.Close()
			r := NewStreamReader(src2, nil)
			defer r.Close()
			recs, err := ReadAll(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			defer release(recs)
			if got := batchText(recs); got != "1|ok\n2|fine\n" {
				t.Errorf("rows %q", got)
			}
			rj := r.Rejected()
			if len(rj) != 1 || rj[0].Line != 3 || rj[0].File != path || string(rj[0].Raw) != tc.row || rj[0].Split != 0 {
				t.Fatalf("rejected %+v", rj)
			}
			if rj[0].Err.Error() != "dataset: "+path+":"+tc.want {
				t.Errorf("rejected error %v", rj[0].Err)
			}
		})
	}
}

func TestCSVUnclosedQuote(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	path := writeFile(t, t.TempDir(), "q.csv", "a,b\n1,2\n3,\"open\n4,5\n")
	src, err := OpenCSV(ctx, []string{path}, WithAllocator(mem), WithAllowBadRows(true))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := src.Open(ctx, src.Splits()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	rj := r.(Rejecter).Rejected()
	want := "dataset: " + path + ":3: quoted field opened on line 3 is not closed at the end of the file"
	if len(rj) != 1 || rj[0].Err.Error() != want {
		t.Fatalf("rejected %v", rj)
	}
}

func TestCSVHeaderMismatch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := writeFile(t, dir, "a.csv", "x,y\n1,2\n")
	b := writeFile(t, dir, "b.csv", "x,z\n1,2\n")
	_, err := OpenCSV(ctx, []string{dir})
	want := `dataset: schema mismatch: ` + b + `: header ["x" "z"] differs from the first file's (` + a + `: ["x" "y"])`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestCSVSinkRefusesNested(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSink(ctx, t.TempDir(), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	schema := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int8)}}, nil)
	_, err = s.Create(ctx, Split{}, schema)
	want := `dataset: unsupported: CSV holds flat columns only; columns "l" (list<item: int8, nullable>) are nested: write JSON lines, Parquet or Arrow IPC, or drop them`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestCSVLimitCountsRows(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	dir := t.TempDir()
	writeFile(t, dir, "a.csv", "n\n1\n2\n3\n")
	writeFile(t, dir, "b.csv", "n\n4\n5\n6\n")
	writeFile(t, dir, "c.csv", "n\n7\n")
	src, err := OpenCSV(ctx, []string{dir}, WithAllocator(mem), WithLimit(5))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sp := src.Splits()
	if len(sp) != 2 || sp[0].Rows != 3 || sp[1].Rows != 2 {
		t.Fatalf("splits %+v: want a.csv (3 rows) and b.csv cut to 2", sp)
	}
	recs := readAll(t, src)
	defer release(recs)
	if got := batchText(recs); got != "1\n2\n3\n4\n5\n" {
		t.Errorf("rows %q", got)
	}
}
