//go:build cgo

package reliability

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/gpu"
)

// TestMalformedModels: damaged copies of real ONNX models (the digits CNN,
// gpu's small test models, and PaddleOCR's detection model from the cache
// `make deps` fills) go through gpu.Inspect, then, when Inspect accepts
// them, gpu.Load on ONNX Runtime (in a child: a crash in ONNX Runtime's C
// code ends the process and is counted as a crash of that file). Each gives
// a clear error or loads; none panics, crashes or hangs.
func TestMalformedModels(t *testing.T) {
	lib, err := gpu.FindLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	add := func(ms ...mutant) {
		for _, m := range ms {
			files = append(files, corpusFile(t, dir, ".onnx", m))
		}
	}
	for _, p := range []struct {
		path  string
		flips int
	}{
		{repo("examples", "digits", "train", "digits.onnx"), pick(8, 60)},
		{repo("gpu", "testdata", "ints.onnx"), pick(4, 30)},
		{repo("gpu", "testdata", "bools.onnx"), pick(4, 30)},
		{filepath.Join(gpu.CacheDir(), "models", "ocr", "1.4.2", "ch_PP-OCRv4_det_infer.onnx"), pick(2, 12)},
	} {
		data := readFile(t, p.path)
		base := strings.TrimSuffix(filepath.Base(p.path), ".onnx")
		add(mutations(base, data, p.flips)...)
		// The graph field (ModelProto field 7, length-delimited: tag 0x3a)
		// declaring 4 GiB.
		if i := bytes.IndexByte(data, 0x3a); i >= 0 {
			b := append(append(bytes.Clone(data[:i+1]), 0xff, 0xff, 0xff, 0xff, 0x0f), data[i+2:]...)
			add(mutant{base + "/graph-len-4GiB", b})
		}
	}
	res := runDecode(t, decodeJob{Format: "onnx", Files: files, Lib: lib})
	summarize(t, "onnx", res, 1<<30, 256<<20)
}
