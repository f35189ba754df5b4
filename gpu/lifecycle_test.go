//go:build cgo

package gpu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

func digitsBatch(t testing.TB, rows int) arrow.RecordBatch {
	t.Helper()
	vals := make([]float32, rows*64)
	for i := range vals {
		vals[i] = float32(i%17) / 16
	}
	return record(t, []string{"pixels"}, tensorColumn(t, checkedMem(t), arrow.PrimitiveTypes.Float32, []int{1, 8, 8}, vals))
}

func setHook(t *testing.T, h func(actor int, seq int64)) {
	t.Helper()
	testHookRun = h
	t.Cleanup(func() { testHookRun = nil })
}

// A panic in an actor is a transient KindCrash error naming the stage, the
// batch and the actor; the actor is restarted and serves the next batch.
func TestActorPanicRestarts(t *testing.T) {
	p := load(t, digitsModel)
	in := digitsBatch(t, 4)
	defer in.Release()
	want := transform(t, p, 0, in)
	defer want.Release()
	setHook(t, func(_ int, seq int64) {
		if seq == 7 {
			panic("boom")
		}
	})
	_, err := p.Transform(context.Background(), 7, in)
	wantErr(t, err, `model stage "digits": batch 7: actor 0: actor crashed: panic: boom; the actor was restarted`)
	var me *ModelError
	if !errors.As(err, &me) || !me.Transient() {
		t.Fatalf("%#v: want a transient *ModelError", err)
	}
	var tr interface{ Transient() bool }
	if !errors.As(err, &tr) || !tr.Transient() {
		t.Fatal("the scheduler's retry signal (Transient) is missing")
	}
	got := transform(t, p, 8, in) // the retry, on the restarted actor
	defer got.Release()
	if !array.RecordEqual(got, want) {
		t.Fatalf("after the restart:\n%v\nwant\n%v", got, want)
	}
}

// A context that ends while the batch is in the actor stops the run through
// ONNX Runtime's terminate flag; the actor then serves the next batch.
func TestCancelStopsTheRun(t *testing.T) {
	p := load(t, digitsModel)
	in := digitsBatch(t, 4)
	defer in.Release()
	ctx, cancel := context.WithCancel(context.Background())
	setHook(t, func(_ int, seq int64) {
		if seq == 1 {
			cancel() // after binding, before the run
		}
	})
	_, err := p.Transform(ctx, 1, in)
	var me *ModelError
	if !errors.As(err, &me) || me.Kind != KindCanceled || !errors.Is(err, context.Canceled) || me.Transient() {
		t.Fatalf("%v: want a KindCanceled error wrapping context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "terminate") {
		t.Fatalf("%v: want ONNX Runtime's own terminate error in the chain", err)
	}
	out := transform(t, p, 2, in)
	out.Release()

	// Canceled before any actor takes it.
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = p.Transform(done, 3, in)
	if !errors.As(err, &me) || me.Kind != KindCanceled {
		t.Fatalf("%v: want KindCanceled", err)
	}
}

// Close waits for the calls in flight; afterwards Transform fails with
// ErrClosed, and Close again is a no-op.
func TestCloseWaitsForCalls(t *testing.T) {
	needLibrary(t)
	p, err := Load(context.Background(), digitsModel, WithActors(2))
	if err != nil {
		t.Fatal(err)
	}
	in := digitsBatch(t, 8)
	defer in.Release()
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	setHook(t, func(_ int, seq int64) {
		if seq == 0 {
			once.Do(func() { close(started) })
			<-release
		}
	})
	var wg sync.WaitGroup
	var out arrow.RecordBatch
	var terr error
	wg.Go(func() { out, terr = p.Transform(context.Background(), 0, in) })
	<-started
	closed := make(chan error)
	go func() { closed <- p.Close(context.Background()) }()
	// Close is now waiting for batch 0; new calls are refused meanwhile.
	for {
		_, err := p.Transform(context.Background(), 1, in)
		if errors.Is(err, ErrClosed) {
			break
		}
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if terr != nil || out.NumRows() != 8 {
		t.Fatalf("the call in flight: %v", terr)
	}
	out.Release()
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Start-up: every actor is created and warmed before Load returns.
func TestStartupReport(t *testing.T) {
	p := load(t, digitsModel, WithActors(3), WithCPUs(6))
	s := p.Startup()
	if len(s.Actors) != 3 || s.Total <= 0 || s.Version != ORTVersion || s.Library == "" {
		t.Fatalf("startup %+v", s)
	}
	for i, a := range s.Actors {
		if a.Session <= 0 || a.Warmup <= 0 || a.Device != CPU {
			t.Fatalf("actor %d: %+v", i, a)
		}
	}
	if p.IntraOpThreads() != 2 {
		t.Fatalf("intra-op threads %d; want 6 CPUs / 3 actors = 2", p.IntraOpThreads())
	}
	if !strings.HasPrefix(s.String(), "3 actors ready in ") {
		t.Fatalf("summary %q", s)
	}
	cpus, gpus := p.Resources()
	if cpus != 2 || gpus != 0 {
		t.Fatalf("Resources() = %v, %d", cpus, gpus)
	}
}

// The optimized-model cache: the first Load writes it, the second loads it
// (optimizations off), and both give the same output.
func TestOptimizedModelCache(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "digits.opt.onnx")
	in := digitsBatch(t, 5)
	defer in.Release()
	var outs []arrow.RecordBatch
	for i, wantCached := range []bool{false, true} {
		p := load(t, digitsModel, WithOptimizedModelCache(cache), WithActors(2))
		if p.Startup().Cached != wantCached {
			t.Fatalf("load %d: cached %v", i, p.Startup().Cached)
		}
		if _, err := os.Stat(cache + ".key"); err != nil {
			t.Fatalf("load %d: %v", i, err)
		}
		outs = append(outs, transform(t, p, 0, in))
	}
	defer func() {
		for _, o := range outs {
			o.Release()
		}
	}()
	if !array.RecordApproxEqual(outs[0], outs[1], array.WithAbsTolerance(1e-5)) {
		t.Fatalf("cached model's output differs:\n%v\n%v", outs[0], outs[1])
	}
	leftovers, _ := filepath.Glob(cache + ".tmp*")
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

// A CUDA device with a CPU-only library: an error that says what is needed,
// or, with the fallback, actors on the CPU.
func TestCUDAWithCPUOnlyLibrary(t *testing.T) {
	needLibrary(t)
	_, err := Load(context.Background(), digitsModel, WithDevice("cuda:0"), withGPUCount(1))
	var me *ModelError
	if !errors.As(err, &me) || me.Kind != KindLoad || me.Actor != 0 || !errors.Is(err, ErrDevice) || !strings.Contains(err.Error(), "scripts/fetch-cuda-ort.sh") {
		t.Fatalf("%v: want a KindLoad error of actor 0 naming scripts/fetch-cuda-ort.sh", err)
	}
	p := load(t, digitsModel, WithDevice("cuda"), WithActors(2), withGPUCount(2), WithCPUFallback())
	if got := p.Devices(); !slices.Equal(got, []Device{CPU, CPU}) {
		t.Fatalf("devices %v after the fallback", got)
	}
}

// The library is process-global: a second, different library is refused;
// a file that is not a library is refused with the fetch command (in a
// child process, since this one has loaded the real one).
func TestLibraryErrors(t *testing.T) {
	needLibrary(t)
	other := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(other, []byte(strings.Repeat("not a shared library\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), digitsModel, WithLibrary(other))
	if !errors.Is(err, ErrLibrary) || !strings.Contains(err.Error(), "this process already loaded") {
		t.Fatalf("%v", err)
	}

	if os.Getenv("GPU_TEST_CHILD") == "corrupt-library" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCorruptLibraryChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GPU_TEST_CHILD=corrupt-library", EnvLibrary+"="+other)
	got, _ := cmd.CombinedOutput()
	want := `model stage "digits": gpu: ONNX Runtime library: loading ` + other + `: Platform-specific initialization failed: Error loading ONNX shared library "` + other + `": ` + other + `: invalid ELF header; it must be libonnxruntime.so.1 of ONNX Runtime 1.24 or later for this platform: fetch ONNX Runtime 1.30.0 with ` + "`make deps`" + `, or run: ` + FetchCommand()
	if !strings.Contains(string(got), "CHILD ERROR: "+want+"\n") {
		t.Fatalf("child process:\n%s\nwant the error\n%s", got, want)
	}
}

// TestCorruptLibraryChild runs in the child process of TestLibraryErrors.
func TestCorruptLibraryChild(t *testing.T) {
	if os.Getenv("GPU_TEST_CHILD") != "corrupt-library" {
		return // only meaningful in the child
	}
	_, err := Load(context.Background(), digitsModel)
	t.Logf("CHILD ERROR: %v\n", err)
	os.Stdout.WriteString("CHILD ERROR: " + err.Error() + "\n")
}
