package reliability

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

// pkgDir is this package's directory (the tests' working directory when
// they start); paths built from it stay valid when a test changes
// directory.
var pkgDir = func() string {
	d, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return d
}()

// repo returns the path of a file of the repository.
func repo(elem ...string) string {
	return filepath.Join(append([]string{filepath.Dir(pkgDir)}, elem...)...)
}

// hostGuest is a module of the host's failure-mode corpus
// (host/testdata/guests/README.md).
func hostGuest(name string) string { return repo("host", "testdata", "guests", name+".wasm") }

// ownGuest is a module of this suite's corpus (testdata/guests).
func ownGuest(name string) string { return repo("reliability", "testdata", "guests", name+".wasm") }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadGuest loads a module with pool size 1, the shared compilation cache,
// its file name as the UDF's name and opts.
func loadGuest(ctx context.Context, t testing.TB, path string, opts ...host.Option) (*host.UDF, error) {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(path), ".wasm")
	opts = append([]host.Option{host.WithName(name), host.WithPoolSize(1), host.WithCacheDir(cacheDir)}, opts...)
	return host.Load(ctx, readFile(t, path), opts...)
}

// within runs fn in a goroutine and waits at most d for it: a call that
// does not return is a hang, which fails the test (the goroutine is left
// behind; the process ends with the test run).
func within(t testing.TB, d time.Duration, what string, fn func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		t.Errorf("%s did not return within %v: a hang", what, d)
		return false
	}
}

// smallBatch is 5 rows of one nullable int32 column "a".
func smallBatch(mem memory.Allocator) arrow.RecordBatch {
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.AppendValues([]int32{1, 2, 3, 4, 5}, []bool{true, true, false, true, true})
	col := b.NewArray()
	defer col.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}}, nil)
	return array.NewRecordBatch(s, []arrow.Array{col}, 5)
}

// durations summarises latencies.
type durations []time.Duration

func (d durations) median() time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func (d durations) max() time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// peakAllocator is a checked allocator that also remembers the most bytes
// it had out at once, and the total it handed out.
type peakAllocator struct {
	*memory.CheckedAllocator
	mu    sync.Mutex
	cur   int64
	peak  int64
	total atomic.Int64
}

func newPeakAllocator() *peakAllocator {
	return &peakAllocator{CheckedAllocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
}

func (a *peakAllocator) Allocate(n int) []byte {
	a.mu.Lock()
	a.cur += int64(n)
	a.peak = max(a.peak, a.cur)
	a.mu.Unlock()
	a.total.Add(int64(n))
	return a.CheckedAllocator.Allocate(n)
}

func (a *peakAllocator) Reallocate(n int, b []byte) []byte {
	a.mu.Lock()
	a.cur += int64(n - len(b))
	a.peak = max(a.peak, a.cur)
	a.mu.Unlock()
	if n > len(b) {
		a.total.Add(int64(n - len(b)))
	}
	return a.CheckedAllocator.Reallocate(n, b)
}

func (a *peakAllocator) Free(b []byte) {
	a.mu.Lock()
	a.cur -= int64(len(b))
	a.mu.Unlock()
	a.CheckedAllocator.Free(b)
}

// resetPeak starts a new peak measurement from what is out now.
func (a *peakAllocator) resetPeak() {
	a.mu.Lock()
	a.peak = a.cur
	a.mu.Unlock()
	a.total.Store(0)
}

func (a *peakAllocator) peakBytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.peak
}

// procStatus reads VmRSS and VmHWM (bytes) of this process.
func procStatus() (rss, hwm int64, err error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parsing %s %q: %w", k, v, err)
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	return rss, hwm, sc.Err()
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
