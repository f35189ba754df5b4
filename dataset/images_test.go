package dataset

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/wasinfer/wasinfer/tensor"
)

// pattern is a w×h opaque image whose pixel (x, y) is (x*10+k, y*10+k, x+y+k).
func pattern(w, h, k int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x*10 + k), uint8(y*10 + k), uint8(x + y + k), 255})
		}
	}
	return m
}

func encode(t *testing.T, path string, m image.Image) {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch filepath.Ext(path) {
	case ".png":
		err = png.Encode(&buf, m)
	case ".jpg":
		err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95})
	case ".gif":
		err = gif.Encode(&buf, m, nil)
	case ".bmp":
		err = bmp.Encode(&buf, m)
	case ".tiff":
		err = tiff.Encode(&buf, m, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImagesDecode: lossless formats decode to exactly the pixels written,
// in HWC order, for each channel setting.
func TestImagesDecode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for i, ext := range []string{".png", ".bmp", ".tiff"} {
		encode(t, filepath.Join(dir, "img"+string(rune('0'+i))+ext), pattern(5, 3, i))
	}
	for _, ch := range []string{ChannelsRGB, ChannelsGray, ChannelsRGBA} {
		t.Run(ch, func(t *testing.T) {
			mem := checkedMem(t)
			src, err := OpenImages(ctx, []string{dir}, WithAllocator(mem), WithChannels(ch), WithWorkers(2))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			recs := readAll(t, src)
			defer release(recs)
			if len(recs) != 1 || recs[0].NumRows() != 3 {
				t.Fatalf("%d batches", len(recs))
			}
			col := recs[0].Column(1).(*tensor.FixedShapeArray)
			typ := col.TensorType()
			nc := map[string]int{ChannelsRGB: 3, ChannelsGray: 1, ChannelsRGBA: 4}[ch]
			if !slices.Equal(typ.Shape(), []int{3, 5, nc}) || !slices.Equal(typ.DimNames(), []string{"H", "W", "C"}) {
				t.Fatalf("type %s", typ)
			}
			for k := range 3 {
				px := tensor.Row[uint8](col, k)
				m := pattern(5, 3, k)
				for y := range 3 {
					for x := range 5 {
						c := m.NRGBAAt(x, y)
						want := []uint8{c.R, c.G, c.B, c.A}[:nc]
						if nc == 1 {
							want = []uint8{color.GrayModel.Convert(c).(color.Gray).Y}
						}
						got := px[(y*5+x)*nc : (y*5+x+1)*nc]
						if !slices.Equal(got, want) {
							t.Fatalf("image %d (%d, %d): %v, want %v", k, x, y, got, want)
						}
					}
				}
			}
			if p := recs[0].Column(0).(*array.String).Value(1); p != filepath.Join(dir, "img1.bmp") {
				t.Errorf("path %s", p)
			}
		})
	}
}

// TestImagesResize: a uniform image stays uniform at any size, and every
// row has the shape asked for.
func TestImagesResize(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	dir := t.TempDir()
	for i, size := range [][2]int{{31, 17}, {4, 4}, {100, 7}} {
		m := image.NewNRGBA(image.Rect(0, 0, size[0], size[1]))
		for p := 0; p < len(m.Pix); p += 4 {
			copy(m.Pix[p:], []uint8{200, uint8(50 * i), 7, 255})
		}
		ext := []string{".png", ".jpg", ".bmp"}[i]
		encode(t, filepath.Join(dir, "u"+string(rune('0'+i))+ext), m)
	}
	src, err := OpenImages(ctx, []string{dir}, WithAllocator(mem), WithResize(8, 6))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := readAll(t, src)
	defer release(recs)
	col := recs[0].Column(1).(*tensor.FixedShapeArray)
	if !slices.Equal(col.TensorType().Shape(), []int{6, 8, 3}) {
		t.Fatalf("shape %v", col.TensorType().Shape())
	}
	for k := range 3 {
		px := tensor.Row[uint8](col, k)
		for i := 0; i < len(px); i += 3 {
			want := []int{200, 50 * k, 7}
			for c := range 3 {
				if d := int(px[i+c]) - want[c]; d < -3 || d > 3 { // JPEG is lossy
					t.Fatalf("image %d pixel %d: %v, want about %v", k, i/3, px[i:i+3], want)
				}
			}
		}
	}
}

// TestImagesBadFiles: a corrupt file or one of another size fails the read
// naming the file; allowed, it is skipped and the other rows keep their
// order.
func TestImagesBadFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	encode(t, filepath.Join(dir, "a.png"), pattern(4, 4, 0))
	encode(t, filepath.Join(dir, "b.png"), pattern(4, 4, 1))
	var buf bytes.Buffer
	must(t, png.Encode(&buf, pattern(4, 4, 2)))
	must(t, os.WriteFile(filepath.Join(dir, "c.png"), buf.Bytes()[:buf.Len()/2], 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "d.jpg"), []byte("\xff\xd8\xff\xe0 not really a jpeg"), 0o644))
	encode(t, filepath.Join(dir, "e.png"), pattern(9, 4, 3))
	encode(t, filepath.Join(dir, "f.png"), pattern(4, 4, 4))

	mem := checkedMem(t)
	src, err := OpenImages(ctx, []string{dir}, WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = readSplit(ctx, src, src.Splits()[0])
	want := "dataset: " + filepath.Join(dir, "c.png") + ": decoding image: png: invalid format: not enough pixel data"
	if !errors.Is(err, ErrBadRow) || err.Error() != want {
		t.Fatalf("err %v\nwant %s", err, want)
	}

	src2, err := OpenImages(ctx, []string{dir}, WithAllocator(mem), WithAllowBadRows(true), WithBatchSize(2), WithWorkers(3))
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
	var paths []string
	for _, rec := range recs {
		for i := range int(rec.NumRows()) {
			paths = append(paths, filepath.Base(rec.Column(0).(*array.String).Value(i)))
			k := map[string]int{"a.png": 0, "b.png": 1, "f.png": 4}[paths[len(paths)-1]]
			if got := tensor.Row[uint8](rec.Column(1).(*tensor.FixedShapeArray), i)[0]; got != uint8(k) {
				t.Errorf("%s: first byte %d, want %d", paths[len(paths)-1], got, k)
			}
		}
	}
	if !slices.Equal(paths, []string{"a.png", "b.png", "f.png"}) {
		t.Errorf("rows %v", paths)
	}
	var bad []string
	for _, rj := range r.Rejected() {
		bad = append(bad, rj.Err.Error())
	}
	wantBad := []string{
		want,
		"dataset: " + filepath.Join(dir, "d.jpg") + ": decoding image: unexpected EOF",
		"dataset: " + filepath.Join(dir, "e.png") + ": png image is 9×4, the column's shape is 4×4 (the first image's): set a resize so every image has one shape",
	}
	if !slices.Equal(bad, wantBad) {
		t.Errorf("rejected\n%q\nwant\n%q", bad, wantBad)
	}
}

func TestImagesEncoded(t *testing.T) {
	ctx := context.Background()
	mem := checkedMem(t)
	dir := t.TempDir()
	encode(t, filepath.Join(dir, "a.png"), pattern(3, 2, 0))
	encode(t, filepath.Join(dir, "b.jpg"), pattern(5, 5, 0))
	src, err := OpenImages(ctx, []string{dir}, WithAllocator(mem), WithDecode(false), WithFilesPerSplit(1))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !arrow.TypeEqual(src.Schema().Field(1).Type, arrow.BinaryTypes.Binary) || len(src.Splits()) != 2 {
		t.Fatalf("schema %s, %d splits", src.Schema(), len(src.Splits()))
	}
	recs := readAll(t, src)
	defer release(recs)
	for _, rec := range recs {
		path := rec.Column(0).(*array.String).Value(0)
		data, _ := os.ReadFile(path)
		if !bytes.Equal(rec.Column(1).(*array.Binary).Value(0), data) {
			t.Errorf("%s: bytes differ", path)
		}
	}
}
