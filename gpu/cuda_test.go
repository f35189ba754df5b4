//go:build cgo

package gpu

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/wasinfer/wasinfer/tensor"
)

// cudaLibrary is where scripts/fetch-cuda-ort.sh puts the CUDA build of
// ONNX Runtime; $WASINFER_CUDA_ORT_LIB overrides it.
func cudaLibrary() string {
	if p := os.Getenv("WASINFER_CUDA_ORT_LIB"); p != "" {
		return p
	}
	return filepath.Join(CacheDir(), "onnxruntime-cuda", "1.29.0", "libonnxruntime.so")
}

// TestCUDA runs model stages on the GPUs, where there are any: the one test
// that skips, and only on a machine without an NVIDIA GPU. The CUDA build of
// ONNX Runtime is another library than the CPU one this process loaded, so
// the checks run in a child process (TestCUDAChild).
func TestCUDA(t *testing.T) {
	gpus := CountGPUs()
	if gpus == 0 {
		t.Skip("no NVIDIA GPU on this machine (no /proc/driver/nvidia/gpus, no nvidia-smi): the CUDA tests run where there is one")
	}
	lib := cudaLibrary()
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("this machine has %d GPUs but no CUDA build of ONNX Runtime at %s: run scripts/fetch-cuda-ort.sh (or set WASINFER_CUDA_ORT_LIB)", gpus, lib)
	}
	ocrModel(t, "ch_PP-OCRv4_det_infer.onnx")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCUDAChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GPU_TEST_CHILD=cuda", EnvLibrary+"="+lib)
	out, err := cmd.CombinedOutput()
	t.Logf("child process (%s):\n%s", lib, out)
	if err != nil || !strings.Contains(string(out), "--- PASS: TestCUDAChild") {
		t.Fatalf("CUDA checks failed: %v", err)
	}
}

// TestCUDAChild is TestCUDA's child: with WASINFER_ORT_LIB naming the CUDA
// build, it runs the PaddleOCR detector on cuda:0 against the same library's
// CPU session, the digits model on every GPU (two actors per GPU), and a
// request for more GPUs than exist.
func TestCUDAChild(t *testing.T) {
	if os.Getenv("GPU_TEST_CHILD") != "cuda" {
		return // only meaningful in TestCUDA's child process
	}
	gpus := CountGPUs()
	lib, _ := FindLibrary("")
	if _, err := initEnv(lib); err != nil {
		t.Fatal(err)
	}
	t.Logf("ONNX Runtime %s from %s, %d GPUs", ort.GetVersion(), lib, gpus)

	// Detection on cuda:0 against a CPU session of the same library.
	path := ocrModel(t, "ch_PP-OCRv4_det_infer.onnx")
	mem := checkedMem(t)
	const h, w = 64, 160
	p, err := Load(context.Background(), path, WithDevice("cuda:0"), WithAllocator(mem),
		WithWarmupShape("x", 1, 3, 32, 32), WithCUDAOptions(CUDAOptions{ConvAlgoSearch: "HEURISTIC"}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if got := p.Devices(); !slices.Equal(got, []Device{CUDA(0)}) {
		t.Fatalf("devices %v", got)
	}
	t.Logf("detector on cuda:0: %s", p.Startup())
	img := slices.Concat(ocrImage(h, w, "wasinfer 42"), ocrImage(h, w, "HELLO ocr"))
	in := record(t, []string{"x"}, tensorColumn(t, mem, arrow.PrimitiveTypes.Float32, []int{3, h, w}, img))
	defer in.Release()
	out := transform(t, p, 0, in)
	defer out.Release()
	got := tensor.Values[float32](column(t, out, "sigmoid_0.tmp_0").(*tensor.FixedShapeArray))
	want := bareRun(t, path, []string{"x"}, []string{"sigmoid_0.tmp_0"},
		[]ort.Value{mustTensor(t, ort.NewShape(2, 3, h, w), slices.Clone(img))})[0].(*ort.Tensor[float32]).GetData()
	worst := 0.0
	for i := range want {
		worst = max(worst, math.Abs(float64(got[i]-want[i])))
	}
	t.Logf("detector: largest difference between cuda:0 and the CPU %g", worst)
	if worst > 2e-3 {
		t.Fatalf("cuda:0 differs from the CPU by %g", worst)
	}

	// Digits on every GPU, two actors on each.
	dp, err := Load(context.Background(), digitsModel, WithDevice("cuda"), WithActors(2*gpus), WithGPUsPerActor(0.5),
		WithInputs(map[string]string{"pixels": "image"}), WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer dp.Close(context.Background())
	for i, d := range dp.Devices() {
		if d != CUDA(i/2) {
			t.Fatalf("actor %d on %s, want cuda:%d", i, d, i/2)
		}
	}
	raw := readDigits(t, mem)
	defer raw.Release()
	din := normalizeDigits(t, mem, raw)
	defer din.Release()
	dout := transform(t, dp, 0, din)
	defer dout.Release()
	logits := column(t, dout, "logits").(*tensor.FixedShapeArray)
	labels := column(t, dout, "label").(interface{ Value(int) int64 })
	correct := 0
	for r := range int(dout.NumRows()) {
		row := tensor.Row[float32](logits, r)
		if int64(slices.Index(row, slices.Max(row))) == labels.Value(r) {
			correct++
		}
	}
	acc := float64(correct) / float64(dout.NumRows())
	t.Logf("digits on %d GPUs: accuracy %.4f; %s", gpus, acc, dp.Startup())
	if acc < 0.95 {
		t.Fatalf("accuracy %.4f", acc)
	}

	// More GPUs than there are: refused before any session.
	_, err = Load(context.Background(), digitsModel, WithDevice("cuda"), WithActors(gpus+1))
	if err == nil || !strings.Contains(err.Error(), "GPUs per actor need") {
		t.Fatalf("%v: want the too-many-GPUs error", err)
	}
}
