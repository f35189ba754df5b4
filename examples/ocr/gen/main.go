// Command gen renders the OCR example's sample images — English text lines
// and multi-line pages in several fonts, sizes and colours, clean and noisy
// (noise, blur, slight rotation, JPEG) — and their ground truth,
// data/truth.jsonl. The images and the truth are committed; run it again by
// hand only to change them:
//
//	go run ./examples/ocr/gen            # writes examples/ocr/data/
//	go run ./examples/ocr/gen -out DIR
//
// Fonts: the Go fonts (golang.org/x/image/font/gofont) and, from Debian,
// DejaVu (fonts-dejavu-core) and Liberation (fonts-liberation2). A missing
// Debian font is an error naming the package, never a silent change of the
// output: the same fonts give the same files, byte for byte.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/f64"
	"golang.org/x/image/math/fixed"

	"github.com/wasinfer/wasinfer/examples/ocr"
)

// The canvas: every image has this size, so that the pipeline's image
// source decodes them without a resize (see ../pipeline.yaml).
const (
	width  = 640
	height = 480
	// pageWidth is the width pages wrap to: a line of a page stays within
	// the aspect ratio of the recognizer's widest crop (48 × 640 pixels,
	// see ../pipeline.yaml), so no line is squeezed.
	pageWidth = 480
)

// fontSpec is a font the generator renders with: embedded Go font bytes, or
// a file of a Debian package.
type fontSpec struct {
	name string
	data []byte // Go fonts
	file string // Debian fonts
	pkg  string
}

var fonts = []fontSpec{
	{name: "Go Regular", data: goregular.TTF},
	{name: "Go Medium", data: gomedium.TTF},
	{name: "Go Bold", data: gobold.TTF},
	{name: "Go Italic", data: goitalic.TTF},
	{name: "Go Mono", data: gomono.TTF},
	{name: "DejaVu Sans", file: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", pkg: "fonts-dejavu-core"},
	{name: "DejaVu Serif", file: "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", pkg: "fonts-dejavu-core"},
	{name: "DejaVu Sans Mono", file: "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", pkg: "fonts-dejavu-core"},
	{name: "Liberation Sans", file: "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf", pkg: "fonts-liberation2"},
	{name: "Liberation Serif", file: "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf", pkg: "fonts-liberation2"},
	{name: "Liberation Sans Bold", file: "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf", pkg: "fonts-liberation2"},
}

// Lines of text: short enough that one fits the recognizer's widest crop
// (48 × 640 pixels: about 30 characters at the detector's box heights).
var lines = []string{
	"Batch inference at scale",
	"The quick brown fox jumps",
	"over the lazy dog.",
	"Invoice INV-2024-0137",
	"Total due: $1,284.50",
	"Call us at 555-0142",
	"Open Monday to Friday",
	"Meeting room 4B, 10:30",
	"Order #88213 shipped",
	"Keep out of direct sunlight",
	"Best before 12/08/2026",
	"WebAssembly sandbox",
	"ONNX Runtime on the CPU",
	"Arrow record batches",
	"Hello, world!",
	"Platform 9, track 3",
	"Exit only - no entry",
	"Fresh bread every morning",
	"Serial number A7X-55031",
	"Temperature 21.5 C",
	"Page 17 of 240",
	"Pack light, travel far",
	"Reading is dreaming",
	"Please take a number",
	"North Street 1200",
	"Version 3.8.1 (stable)",
	"Lunch special $9.99",
	"Library hours 9 to 5",
	"Do not feed the ducks",
	"Signed, sealed, delivered",
	"Weight: 2.4 kg",
	"Gate B12 boarding",
	"Data stays on device",
	"Caution: wet floor",
	"Thank you for visiting",
	"Model accuracy 98.3%",
	"Receipt no. 004471",
	"Quiet please",
	"Mix well before use",
	"Room for one more",
}

// Page paragraphs, wrapped to the page width.
var paragraphs = []string{
	"Offline inference runs a model over a data set that is too large for one loop. The rows stream through bounded queues, so memory stays flat.",
	"Each stage has its own batch size. A slow stage pushes back on the ones before it, and nothing waits for the whole data set.",
	"Dear customer, your order 40317 left our warehouse today. It should arrive within three to five working days.",
	"Mix two cups of flour with one cup of water and a pinch of salt. Knead for ten minutes, then let it rest for an hour.",
	"The museum is open daily from 9 am to 6 pm. Tickets cost 12 dollars for adults and 6 dollars for children.",
	"Pre-processing and post-processing run as small sandboxed modules. They cannot read files or open sockets.",
	"Turn left at the second light, then follow the river road for two miles. The farm is on the right.",
	"Minutes of the meeting: the budget for 2027 was approved, and the next review is set for March 14.",
	"Store in a cool, dry place. Keep the lid closed after opening and use within six weeks.",
	"A model stage keeps one session per actor, loaded once and fed batch after batch until the run ends.",
	"Weather report: cloudy in the morning, light rain after noon, with a high of 18 degrees and wind from the west.",
	"Your table is ready. Please follow the host to the garden terrace, and enjoy your evening with us.",
}

func main() {
	out := flag.String("out", "examples/ocr/data", "the data directory to write")
	flag.Parse()
	if err := run(*out, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// job is one image to render.
type job struct {
	name  string
	set   string
	page  bool
	font  int
	size  float64
	ink   color.RGBA
	paper color.RGBA
	angle float64
	noise float64
	blur  float64
	jpeg  int // quality; 0: PNG
}

func run(out string, log io.Writer) error {
	faces, err := loadFonts()
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(2024, 7))
	var jobs []job
	black, white := color.RGBA{20, 20, 20, 255}, color.RGBA{255, 255, 255, 255}
	for i := range 10 { // clean single lines
		jobs = append(jobs, job{name: fmt.Sprintf("clean/line-%02d.png", i+1), set: "clean", font: i % len(fonts),
			size: 30 + float64(rng.IntN(15)), ink: black, paper: white})
	}
	for i := range 10 { // clean pages
		jobs = append(jobs, job{name: fmt.Sprintf("clean/page-%02d.png", i+1), set: "clean", page: true, font: (i + 3) % len(fonts),
			size: 22 + float64(rng.IntN(9)), ink: black, paper: white})
	}
	for i := range 12 { // noisy: colours, rotation, noise, blur, JPEG
		ink, paper := colours(rng)
		jobs = append(jobs, job{name: fmt.Sprintf("noisy/%s-%02d.jpg", map[bool]string{false: "line", true: "page"}[i%2 == 1], i+1),
			set: "noisy", page: i%2 == 1, font: (i * 5) % len(fonts),
			size: map[bool]float64{false: 30, true: 24}[i%2 == 1] + float64(rng.IntN(8)),
			ink:  ink, paper: paper,
			angle: math.Round((rng.Float64()*6-3)*10) / 10,
			noise: float64(6 + rng.IntN(14)),
			blur:  math.Round(rng.Float64()*12) / 10,
			jpeg:  70 + rng.IntN(21)})
	}
	var truth bytes.Buffer
	nextLine, nextPara := 0, 0
	for _, j := range jobs {
		var text []string
		if j.page {
			text = wrap(faces[j.font], j.size, paragraphs[nextPara%len(paragraphs)], pageWidth)
			nextPara++
		} else {
			text = []string{lines[nextLine%len(lines)]}
			nextLine++
		}
		img, tl, err := render(faces[j.font], j, text, rng)
		if err != nil {
			return fmt.Errorf("%s: %w", j.name, err)
		}
		path := filepath.Join(out, filepath.FromSlash(j.name))
		if err := writeImage(path, img, j.jpeg); err != nil {
			return err
		}
		t := ocr.Truth{Image: j.name, Set: j.set, Font: fonts[j.font].name, Size: j.size, Angle: j.angle, Noise: j.noise, Blur: j.blur, Lines: tl}
		b, err := json.Marshal(t)
		if err != nil {
			return err
		}
		truth.Write(b)
		truth.WriteByte('\n')
		fmt.Fprintf(log, "%s: %d lines, %s %.0fpx\n", j.name, len(tl), t.Font, j.size)
	}
	return os.WriteFile(filepath.Join(out, "truth.jsonl"), truth.Bytes(), 0o644)
}

// colours picks dark ink on light paper, with some colour in both.
func colours(rng *rand.Rand) (ink, paper color.RGBA) {
	c := func(lo, n int) uint8 { return uint8(lo + rng.IntN(n)) }
	paper = color.RGBA{c(200, 56), c(200, 56), c(190, 66), 255}
	ink = color.RGBA{c(0, 90), c(0, 70), c(0, 110), 255}
	return ink, paper
}

func loadFonts() ([]*opentype.Font, error) {
	var faces []*opentype.Font
	var missing []string
	for _, f := range fonts {
		data := f.data
		if data == nil {
			var err error
			if data, err = os.ReadFile(f.file); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					missing = append(missing, fmt.Sprintf("%s (%s: apt-get install %s)", f.name, f.file, f.pkg))
					continue
				}
				return nil, err
			}
		}
		ft, err := opentype.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("font %s: %w", f.name, err)
		}
		faces = append(faces, ft)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("fonts missing, the output would differ from the committed one: %s", strings.Join(missing, "; "))
	}
	return faces, nil
}

func newFace(ft *opentype.Font, size float64) (font.Face, error) {
	return opentype.NewFace(ft, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
}

// wrap breaks text into lines no wider than maxW pixels.
func wrap(ft *opentype.Font, size float64, text string, maxW int) []string {
	face, err := newFace(ft, size)
	if err != nil {
		return []string{text}
	}
	defer face.Close()
	var out []string
	cur := ""
	for _, w := range strings.Fields(text) {
		try := strings.TrimSpace(cur + " " + w)
		if cur != "" && font.MeasureString(face, try).Ceil() > maxW {
			out = append(out, cur)
			cur = w
			continue
		}
		cur = try
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// render draws the lines on the canvas, then rotates, blurs and adds noise
// as the job says; it returns the image and each line's box after the
// rotation.
func render(ft *opentype.Font, j job, text []string, rng *rand.Rand) (image.Image, []ocr.Line, error) {
	face, err := newFace(ft, j.size)
	if err != nil {
		return nil, nil, err
	}
	defer face.Close()
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(j.paper), image.Point{}, draw.Src)
	m := face.Metrics()
	lineH := float64(m.Height.Ceil()) * (1.35 + rng.Float64()*0.3)
	blockH := lineH*float64(len(text)-1) + float64(m.Ascent.Ceil()+m.Descent.Ceil())
	x0 := 48
	if !j.page {
		x0 = 24 + rng.IntN(80)
	}
	top := 40 + rng.Float64()*math.Max(1, float64(height)-80-blockH)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(j.ink), Face: face}
	var out []ocr.Line
	for i, s := range text {
		base := top + float64(m.Ascent.Ceil()) + lineH*float64(i)
		dot := fixed.Point26_6{X: fixed.I(x0), Y: fixed.Int26_6(base * 64)}
		b, adv := font.BoundString(face, s)
		if (dot.X+adv).Ceil() > width-8 || dot.Y.Ceil()+m.Descent.Ceil() > height-8 {
			return nil, nil, fmt.Errorf("line %q does not fit the canvas at %.0fpx", s, j.size)
		}
		d.Dot = dot
		d.DrawString(s)
		minX := float64(dot.X+b.Min.X) / 64
		minY := float64(dot.Y+b.Min.Y) / 64
		maxX := float64(dot.X+b.Max.X) / 64
		maxY := float64(dot.Y+b.Max.Y) / 64
		out = append(out, ocr.Line{Text: s, Box: [8]float64{minX, minY, maxX, minY, maxX, maxY, minX, maxY}})
	}
	var res image.Image = img
	if j.angle != 0 {
		res = rotate(img, j.angle, j.paper)
		for i := range out {
			rotateBox(&out[i].Box, j.angle)
		}
	}
	if j.blur > 0 {
		res = blur(res, j.blur)
	}
	if j.noise > 0 {
		res = addNoise(res, j.noise, rng)
	}
	for i := range out {
		for k := range out[i].Box {
			out[i].Box[k] = math.Round(out[i].Box[k]*10) / 10
		}
	}
	return res, out, nil
}

// rotate turns img by deg degrees counter-clockwise about its centre
// (bilinear), filling the uncovered corners with paper.
func rotate(img *image.RGBA, deg float64, paper color.RGBA) *image.RGBA {
	dst := image.NewRGBA(img.Bounds())
	draw.Draw(dst, dst.Bounds(), image.NewUniform(paper), image.Point{}, draw.Src)
	a := -deg * math.Pi / 180 // image y points down: counter-clockwise on screen
	c, s := math.Cos(a), math.Sin(a)
	cx, cy := float64(width)/2, float64(height)/2
	// The matrix maps a source point to R times its offset from the centre, plus the centre.
	m := f64.Aff3{c, -s, cx - c*cx + s*cy, s, c, cy - s*cx - c*cy}
	xdraw.BiLinear.Transform(dst, m, img, img.Bounds(), draw.Over, nil)
	return dst
}

func rotateBox(b *[8]float64, deg float64) {
	a := -deg * math.Pi / 180
	c, s := math.Cos(a), math.Sin(a)
	cx, cy := float64(width)/2, float64(height)/2
	for k := 0; k < 8; k += 2 {
		x, y := b[k]-cx, b[k+1]-cy
		b[k], b[k+1] = c*x-s*y+cx, s*x+c*y+cy
	}
}

// blur is a separable Gaussian blur of standard deviation sigma pixels.
func blur(src image.Image, sigma float64) *image.RGBA {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	sum := 0.0
	for i := range k {
		x := float64(i - r)
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	in := image.NewRGBA(b)
	draw.Draw(in, b, src, b.Min, draw.Src)
	tmp := make([]float64, w*h*3)
	for y := range h {
		for x := range w {
			for ch := range 3 {
				v := 0.0
				for i, kv := range k {
					xx := min(max(x+i-r, 0), w-1)
					v += kv * float64(in.Pix[y*in.Stride+xx*4+ch])
				}
				tmp[(y*w+x)*3+ch] = v
			}
		}
	}
	out := image.NewRGBA(b)
	for y := range h {
		for x := range w {
			for ch := range 3 {
				v := 0.0
				for i, kv := range k {
					yy := min(max(y+i-r, 0), h-1)
					v += kv * tmp[(yy*w+x)*3+ch]
				}
				out.Pix[y*out.Stride+x*4+ch] = uint8(math.Round(min(max(v, 0), 255)))
			}
			out.Pix[y*out.Stride+x*4+3] = 255
		}
	}
	return out
}

// addNoise adds Gaussian noise of standard deviation sigma to each channel.
func addNoise(src image.Image, sigma float64, rng *rand.Rand) *image.RGBA {
	b := src.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, src, b.Min, draw.Src)
	for i := range out.Pix {
		if i%4 == 3 {
			continue
		}
		v := float64(out.Pix[i]) + rng.NormFloat64()*sigma
		out.Pix[i] = uint8(math.Round(min(max(v, 0), 255)))
	}
	return out
}

func writeImage(path string, img image.Image, quality int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	var err error
	if quality > 0 {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality})
	} else {
		// Gray when it can be: clean pages are black on white.
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, toGray(img))
	}
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func toGray(img image.Image) image.Image {
	b := img.Bounds()
	g := image.NewGray(b)
	draw.Draw(g, b, img, b.Min, draw.Src)
	return g
}
