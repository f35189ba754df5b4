package ocr

import (
	"strings"
	"testing"
)

func TestLevenshtein(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"Batchinference", "Batch inference", 1},
		{"日本語", "日本", 1},
		{"flaw", "lawn", 2},
	}
	for _, tt := range tests {
		if got := Levenshtein(tt.a, tt.b); got != tt.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// box is an axis-aligned box as four corners.
func box(x0, y0, x1, y1 float64) [8]float64 { return [8]float64{x0, y0, x1, y0, x1, y1, x0, y1} }

func box32(x0, y0, x1, y1 float32) [8]float32 { return [8]float32{x0, y0, x1, y0, x1, y1, x0, y1} }

func TestEvaluate(t *testing.T) {
	truth := []Truth{
		{Image: "clean/a.png", Set: "clean", Lines: []Line{{Text: "hello world", Box: box(10, 10, 200, 40)}, {Text: "second line", Box: box(10, 60, 200, 90)}}},
		{Image: "noisy/b.jpg", Set: "noisy", Lines: []Line{{Text: "abc", Box: box(0, 0, 50, 20)}}},
		{Image: "clean/c.png", Set: "clean", Lines: []Line{{Text: "missed", Box: box(0, 0, 50, 20)}}},
	}
	res := []Result{
		// a line split in two boxes, right part first in the output
		{Path: "x/data/clean/a.png", Line: 1, Box: box32(110, 12, 198, 38), Text: "world"},
		{Path: "x/data/clean/a.png", Line: 0, Box: box32(12, 12, 100, 38), Text: "hello"},
		{Path: "x/data/clean/a.png", Line: 2, Box: box32(12, 62, 198, 88), Text: "secund line"},
		// a box on no line: its characters are insertions
		{Path: "x/data/clean/a.png", Line: 3, Box: box32(300, 300, 340, 320), Text: "zz"},
		{Path: "data/noisy/b.jpg", Line: 0, Box: box32(1, 1, 49, 19), Text: "abd"},
		// an image that is not in the truth
		{Path: "data/other.png", Line: 0, Box: box32(1, 1, 49, 19), Text: "q"},
	}
	rep := Evaluate(truth, res)
	if len(rep.Images) != 3 {
		t.Fatalf("%d images, want 3", len(rep.Images))
	}
	a := rep.Images[0]
	if got := strings.Join(a.Lines, "|"); got != "hello world|secund line" {
		t.Errorf("image a: lines %q, want %q", got, "hello world|secund line")
	}
	if a.Errors != 3 || a.Chars != 22 {
		t.Errorf("image a: %d errors in %d characters, want 3 in 22", a.Errors, a.Chars)
	}
	if c := rep.Images[2]; c.Errors != 6 || c.Chars != 6 || c.CER() != 1 {
		t.Errorf("image c: %d errors in %d characters (CER %v), want 6 in 6 (1)", c.Errors, c.Chars, c.CER())
	}
	cer, e, n := rep.CER("clean")
	if e != 9 || n != 28 || cer != 9.0/28 {
		t.Errorf("clean: CER %v, %d errors in %d characters; want 9/28", cer, e, n)
	}
	if cer, e, n := rep.CER("noisy"); e != 1 || n != 3 || cer != 1.0/3 {
		t.Errorf("noisy: CER %v, %d errors in %d characters; want 1/3", cer, e, n)
	}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"clean/a.png", "hello world", "secund line", "CER clean   32.14 %  (9 errors in 28 characters)", "CER all     32.26 %  (10 errors in 31 characters)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table has no %q:\n%s", want, b.String())
		}
	}
}

func TestReadTruthBundled(t *testing.T) {
	truth, err := ReadTruth("data/truth.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string]int{}
	for _, tr := range truth {
		sets[tr.Set]++
	}
	if len(truth) < 24 || sets["clean"] == 0 || sets["noisy"] == 0 {
		t.Fatalf("%d images (%v): want a few dozen, clean and noisy", len(truth), sets)
	}
}
