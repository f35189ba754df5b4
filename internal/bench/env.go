package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/wasinfer/wasinfer/gpu"
)

// Committed inputs, relative to the checkout.
const (
	cIdentityWasm  = "sdk/c/examples/identity/identity.wasm"
	imageNormWasm  = "udfs/image_normalize/image_normalize.wasm"
	argmaxWasm     = "udfs/argmax/argmax.wasm"
	spinWasm       = "internal/bench/testdata/spin.wasm"
	pythonScript   = "internal/bench/testdata/python_baseline.py"
	digitsModel    = "examples/digits/train/digits.onnx"
	digitsTestData = "examples/digits/data/test.parquet"
)

func normalizeWasm(lang string) string {
	return "sdk/" + lang + "/examples/normalize/normalize.wasm"
}

// params are the sizes and repetitions of a run.
type params struct {
	reps          int   // repetitions of each interleaved comparison
	inner         int   // alternations per repetition of short measurements (the fastest counts)
	identitySizes []int // batch bytes
	identityBlock int   // bytes per timed block (several round trips for small batches)
	emptyCalls    int   // calls per timed block
	normRows      int   // images per batch
	normSide      int   // image height and width (3 channels)
	executorRows  int
	e2eRows       int
	startupReps   int
	rssRows       int // 1×; 10× is ten times this
	rssReps       int
	scaleBatches  int
	scaleIters    int // loop iterations per batch
	deadlineIters int
}

var (
	fullParams = params{
		reps: 11, inner: 5, identitySizes: []int{1 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20}, identityBlock: 16 << 20,
		emptyCalls: 2000, normRows: 32, normSide: 224, executorRows: 131072, e2eRows: 131072,
		startupReps: 5, rssRows: 65536, rssReps: 3, scaleBatches: 32, scaleIters: 2 << 20, deadlineIters: 8 << 20,
	}
	quickParams = params{
		reps: 2, inner: 1, identitySizes: []int{1 << 10, 1 << 20}, identityBlock: 1 << 20,
		emptyCalls: 100, normRows: 2, normSide: 32, executorRows: 4096, e2eRows: 2048,
		startupReps: 1, rssRows: 512, rssReps: 1, scaleBatches: 4, scaleIters: 1 << 16, deadlineIters: 1 << 20,
	}
)

// env is what the benchmarks of one run share: the checkout, a temporary
// directory, data sets made once, the ONNX Runtime library.
type env struct {
	cfg  *config
	p    params
	root string
	work string

	mu             sync.Mutex
	datasets       map[int]string // rows -> Parquet file of digits
	binaryDatasets map[int]string // rows -> the same, binary tensor layout (a sink's directory)

	ortOnce sync.Once
	ortLib  string
	ortErr  error
}

func newEnv(cfg *config) (*env, error) {
	root := cfg.root
	if root == "" {
		var err error
		if root, err = findRoot(); err != nil {
			return nil, err
		}
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if _, err := os.Stat(filepath.Join(root, digitsModel)); err != nil {
		return nil, fmt.Errorf("bench: %s is not a wasinfer checkout (no %s): run wasinfer bench inside one, or give --root", root, digitsModel)
	}
	work, err := os.MkdirTemp("", "wasinfer-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: creating a work directory: %w", err)
	}
	p := fullParams
	if cfg.quick {
		p = quickParams
	}
	return &env{cfg: cfg, p: p, root: root, work: work, datasets: map[int]string{}, binaryDatasets: map[int]string{}}, nil
}

func (e *env) close() { _ = os.RemoveAll(e.work) }

// path is a committed file of the checkout.
func (e *env) path(rel string) string { return filepath.Join(e.root, rel) }

func (e *env) read(rel string) ([]byte, error) {
	b, err := os.ReadFile(e.path(rel))
	if err != nil {
		return nil, fmt.Errorf("reading a committed input (make udfs rebuilds the modules): %w", err)
	}
	return b, nil
}

// dir makes a new directory under the work directory.
func (e *env) dir(pattern string) (string, error) { return os.MkdirTemp(e.work, pattern) }

func (e *env) progressf(format string, args ...any) {
	if e.cfg.progress != nil {
		fmt.Fprintf(e.cfg.progress, "wasinfer: bench: "+format+"\n", args...)
	}
}

// ort finds the ONNX Runtime library once.
func (e *env) ort() (string, error) {
	e.ortOnce.Do(func() {
		if !cgoEnabled {
			e.ortErr = errNoCgo
			return
		}
		e.ortLib, e.ortErr = gpu.FindLibrary(e.cfg.ortLib)
	})
	return e.ortLib, e.ortErr
}

// ortInfo is the library loaded in this process and its version.
func (e *env) ortInfo() (string, string) { return gpu.LoadedLibrary() }

// findRoot walks up from the working directory to the checkout: the
// directory with abi/spec.md and the digits model.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("bench: finding the checkout: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if isRoot(d) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", errors.New("bench: no wasinfer checkout here or above " + dir +
		" (the benchmarks run the committed guests, model and data): run wasinfer bench inside one, or give --root")
}

func isRoot(d string) bool {
	for _, f := range []string{"abi/spec.md", digitsModel} {
		if _, err := os.Stat(filepath.Join(d, f)); err != nil {
			return false
		}
	}
	return true
}
