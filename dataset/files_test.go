package dataset

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
)

func TestBinaryFiles(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	dir := t.TempDir()
	writeFile(t, dir, "b/2.bin", "\x00\xff\x01")
	writeFile(t, dir, "a.bin", "")
	writeFile(t, dir, "c.bin", strings.Repeat("z", 100))
	writeFile(t, dir, ".hidden", "no")
	writeFile(t, dir, "_skip/x.bin", "no")
	src, err := OpenBinary(ctx, []string{dir}, WithAllocator(mem), WithFilesPerSplit(2), WithMaxRowBytes(50), WithAllowBadRows(true))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sp := src.Splits()
	if len(sp) != 2 || sp[0].ID != "binary[0:2]" || sp[1].ID != "binary[2:3]" || sp[0].Rows != 2 {
		t.Fatalf("splits %+v", sp)
	}
	r := NewStreamReader(src, nil)
	defer r.Close()
	recs, err := ReadAll(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	defer release(recs)
	var got []string
	for _, rec := range recs {
		for i := range int(rec.NumRows()) {
			p := rec.Column(0).(*array.String).Value(i)
			data, _ := os.ReadFile(p)
			if !bytes.Equal(rec.Column(1).(*array.Binary).Value(i), data) {
				t.Errorf("%s: bytes differ", p)
			}
			got = append(got, strings.TrimPrefix(p, dir+"/"))
		}
	}
	if strings.Join(got, ",") != "a.bin,b/2.bin" {
		t.Errorf("rows %v", got)
	}
	rj := r.Rejected()
	if want := "dataset: " + filepath.Join(dir, "c.bin") + ": file larger than 50 bytes (max_row_bytes)"; len(rj) != 1 || rj[0].Err.Error() != want {
		t.Errorf("rejected %v", rj)
	}
}

func TestTextLines(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	dir := t.TempDir()
	a := writeFile(t, dir, "a.txt", "one\r\ntwo\n\nbad \xff\nlast")
	b := writeFile(t, dir, "b.txt", "")
	src, err := OpenText(ctx, []string{a, b}, WithAllocator(mem), WithAllowBadRows(true), WithBatchSize(2))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r := NewStreamReader(src, nil)
	defer r.Close()
	recs, err := ReadAll(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	defer release(recs)
	want := a + "|1|one\n" + a + "|2|two\n" + a + "|3|\n" + a + "|5|last\n"
	if got := batchText(recs); got != want {
		t.Errorf("rows\n%s\nwant\n%s", got, want)
	}
	rj := r.Rejected()
	if len(rj) != 1 || rj[0].Line != 4 || rj[0].Err.Error() != "dataset: "+a+`:4: column "text": not valid UTF-8` || string(rj[0].Raw) != "bad \xff" {
		t.Errorf("rejected %+v", rj)
	}
	// Without permission the bad line is an error.
	src2, err := OpenText(ctx, []string{a}, WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	if _, err := readSplit(ctx, src2, src2.Splits()[0]); err == nil || err.Error() != "dataset: "+a+`:4: column "text": not valid UTF-8` {
		t.Errorf("err %v", err)
	}
}

func TestTextWholeFile(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	dir := t.TempDir()
	writeFile(t, dir, "a.md", "# title\nbody\n")
	writeFile(t, dir, "b.md", "x")
	src, err := OpenText(ctx, []string{filepath.Join(dir, "*.md")}, WithAllocator(mem), WithWholeFile(true), WithColumns("text"), WithLimit(1))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := readAll(t, src)
	defer release(recs)
	if got := batchText(recs); got != "# title\nbody\n\n" {
		t.Errorf("rows %q", got)
	}
}

func TestTextLongLine(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	a := writeFile(t, t.TempDir(), "a.txt", "ok\n"+strings.Repeat("y", 200_000)+"\nok2\n")
	src, err := OpenText(ctx, []string{a}, WithAllocator(mem), WithMaxRowBytes(1000), WithAllowBadRows(true))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r := NewStreamReader(src, nil)
	defer r.Close()
	recs, err := ReadAll(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	defer release(recs)
	if got := batchText(recs); got != a+"|1|ok\n"+a+"|3|ok2\n" {
		t.Errorf("rows %q", got)
	}
	if rj := r.Rejected(); len(rj) != 1 || rj[0].Line != 2 || len(rj[0].Raw) != 1000 {
		t.Errorf("rejected %d", len(rj))
	}
}
