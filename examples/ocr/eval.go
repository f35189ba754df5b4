package ocr

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/tensor"
)

// Truth is one line of data/truth.jsonl: an image and the text lines in
// it, in reading order, with how it was rendered.
type Truth struct {
	Image string  `json:"image"` // relative to the data directory: clean/page-01.png
	Set   string  `json:"set"`   // clean or noisy
	Font  string  `json:"font"`
	Size  float64 `json:"size"`  // pixels per em
	Angle float64 `json:"angle"` // degrees, counter-clockwise
	Noise float64 `json:"noise"` // standard deviation of the added noise, 0..255
	Blur  float64 `json:"blur"`  // Gaussian sigma in pixels
	Lines []Line  `json:"lines"`
}

// Line is one text line: its text and its box, four corners clockwise from
// the top left, x and y in pixels.
type Line struct {
	Text string     `json:"text"`
	Box  [8]float64 `json:"box"`
}

// ReadTruth reads a truth.jsonl file.
func ReadTruth(path string) ([]Truth, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Truth
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var t Truth
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if t.Image == "" || len(t.Lines) == 0 {
			return nil, fmt.Errorf("%s:%d: an image with no path or no lines", path, n)
		}
		out = append(out, t)
	}
	return out, sc.Err()
}

// Result is one row of the pipeline's output: a text line found in an
// image.
type Result struct {
	Path       string
	Line       int32
	Box        [8]float32
	Score      float32 // the detector's box score
	Text       string
	Confidence float32 // the recognizer's
}

// ReadResults reads the Parquet files the pipeline's sink committed under
// dir: columns path, line, box, box_score, text and confidence.
func ReadResults(ctx context.Context, dir string, mem memory.Allocator) ([]Result, error) {
	r, err := dataset.OpenStream(ctx, dataset.SourceSpec{Format: dataset.FormatParquet, Paths: []string{dir}}, "", dataset.WithAllocator(mem))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []Result
	for {
		rec, err := r.Read(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		rows, err := results(rec)
		rec.Release()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		out = append(out, rows...)
	}
}

func results(rec arrow.RecordBatch) ([]Result, error) {
	col := func(name string) (arrow.Array, error) {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) != 1 {
			return nil, fmt.Errorf("no column %q in the output (schema: %s)", name, rec.Schema())
		}
		return rec.Column(idx[0]), nil
	}
	var cols [6]arrow.Array
	for i, name := range []string{"path", "line", "box", "box_score", "text", "confidence"} {
		c, err := col(name)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	path, ok1 := cols[0].(*array.String)
	line, ok2 := cols[1].(*array.Int32)
	box, ok3 := cols[2].(*tensor.FixedShapeArray)
	score, ok4 := cols[3].(*array.Float32)
	text, ok5 := cols[4].(*array.String)
	conf, ok6 := cols[5].(*array.Float32)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return nil, fmt.Errorf("output columns of unexpected types: %s", rec.Schema())
	}
	out := make([]Result, rec.NumRows())
	for i := range out {
		r := Result{Path: path.Value(i), Line: line.Value(i), Score: score.Value(i), Text: text.Value(i), Confidence: conf.Value(i)}
		copy(r.Box[:], tensor.Row[float32](box, i))
		out[i] = r
	}
	return out, nil
}

// ImageReport is how well one image was read.
type ImageReport struct {
	Truth  Truth
	Found  []Result // in reading order
	Lines  []string // per truth line: the text recognized for it
	Errors int      // edits (insertions, deletions, substitutions)
	Chars  int      // characters of the truth
}

// CER is the image's character error rate.
func (r ImageReport) CER() float64 { return rate(r.Errors, r.Chars) }

// Report is an evaluation of a run against the truth.
type Report struct {
	Images []ImageReport
}

// Evaluate matches the results to the truth, image by image (by the file
// name below the data directory: results whose path ends in
// "/clean/page-01.png" belong to truth image "clean/page-01.png").
//
// Within an image, each found line goes to the truth line its box overlaps
// most, when that overlap is at least half of its own box (axis-aligned
// bounding rectangles); the texts a truth line gets are joined with spaces
// in left-to-right order. The errors are the edit distance (Levenshtein,
// over Unicode code points, case and spaces counted) between each truth
// line and its text, plus every character of the found lines that went to
// no truth line. The character error rate is errors ÷ truth characters.
func Evaluate(truth []Truth, res []Result) Report {
	byImage := map[string][]Result{}
	for _, r := range res {
		key := filepath.ToSlash(r.Path)
		for _, t := range truth {
			if key == t.Image || strings.HasSuffix(key, "/"+t.Image) {
				byImage[t.Image] = append(byImage[t.Image], r)
				break
			}
		}
	}
	var rep Report
	for _, t := range truth {
		found := byImage[t.Image]
		slices.SortFunc(found, func(a, b Result) int { return int(a.Line) - int(b.Line) })
		ir := ImageReport{Truth: t, Found: found, Lines: make([]string, len(t.Lines))}
		parts := make([][]Result, len(t.Lines))
		for _, f := range found {
			best, bestArea := -1, 0.0
			fb := bounds(f.Box[:])
			for i, l := range t.Lines {
				if a := fb.intersect(bounds(l.Box[:])); a > bestArea {
					best, bestArea = i, a
				}
			}
			if best < 0 || bestArea < 0.5*fb.area() {
				ir.Errors += utf8.RuneCountInString(f.Text)
				continue
			}
			parts[best] = append(parts[best], f)
		}
		for i, l := range t.Lines {
			slices.SortFunc(parts[i], func(a, b Result) int { return int(math.Copysign(1, float64(a.Box[0]-b.Box[0]))) })
			texts := make([]string, len(parts[i]))
			for k, p := range parts[i] {
				texts[k] = p.Text
			}
			ir.Lines[i] = strings.Join(texts, " ")
			ir.Errors += Levenshtein(ir.Lines[i], l.Text)
			ir.Chars += utf8.RuneCountInString(l.Text)
		}
		rep.Images = append(rep.Images, ir)
	}
	return rep
}

// CER is the character error rate of the images of a set ("" for all):
// total errors ÷ total truth characters, and the two counts.
func (r Report) CER(set string) (cer float64, errors, chars int) {
	for _, ir := range r.Images {
		if set == "" || ir.Truth.Set == set {
			errors += ir.Errors
			chars += ir.Chars
		}
	}
	return rate(errors, chars), errors, chars
}

func rate(errors, chars int) float64 {
	if chars == 0 {
		return 0
	}
	return float64(errors) / float64(chars)
}

// WriteTable writes one row per truth line: image, recognized text, truth
// text, errors; then the character error rate per set.
func (r Report) WriteTable(w io.Writer) error { return r.write(w, false) }

// WriteSummary is WriteTable with one row per image: its first line, and
// how many more there are.
func (r Report) WriteSummary(w io.Writer) error { return r.write(w, true) }

func (r Report) write(w io.Writer, short bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-22s %-40s %-40s %s\n", "image", "recognized", "truth", "errors")
	for _, ir := range r.Images {
		for i, l := range ir.Truth.Lines {
			name, got, want, errs := "", ir.Lines[i], l.Text, Levenshtein(ir.Lines[i], l.Text)
			if i == 0 {
				name = ir.Truth.Image
			}
			if short {
				if i > 0 {
					break
				}
				errs = ir.Errors
				if more := len(ir.Truth.Lines) - 1; more > 0 {
					suffix := fmt.Sprintf(" (+%d lines)", more)
					if more == 1 {
						suffix = " (+1 line)"
					}
					got = clip(got, 40-len(suffix)) + suffix
					want = clip(want, 40-len(suffix)) + suffix
				}
			}
			fmt.Fprintf(&b, "%-22s %-40s %-40s %d\n", name, clip(got, 40), clip(want, 40), errs)
		}
	}
	b.WriteByte('\n')
	for _, set := range []string{"clean", "noisy", ""} {
		cer, e, n := r.CER(set)
		name := set
		if name == "" {
			name = "all"
		}
		fmt.Fprintf(&b, "CER %-6s %6.2f %%  (%d errors in %d characters)\n", name, 100*cer, e, n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// clip shortens s to n code points for the table.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Levenshtein is the edit distance between a and b over code points.
func Levenshtein(a, b string) int {
	x, y := []rune(a), []rune(b)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			sub := prev[j-1]
			if x[i-1] != y[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(y)]
}

// rect is an axis-aligned rectangle.
type rect struct{ x0, y0, x1, y1 float64 }

func bounds[T float32 | float64](p []T) rect {
	r := rect{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for k := 0; k+1 < len(p); k += 2 {
		x, y := float64(p[k]), float64(p[k+1])
		r.x0, r.x1 = min(r.x0, x), max(r.x1, x)
		r.y0, r.y1 = min(r.y0, y), max(r.y1, y)
	}
	return r
}

func (r rect) area() float64 { return max(0, r.x1-r.x0) * max(0, r.y1-r.y0) }

func (r rect) intersect(o rect) float64 {
	return rect{max(r.x0, o.x0), max(r.y0, o.y0), min(r.x1, o.x1), min(r.y1, o.y1)}.area()
}
