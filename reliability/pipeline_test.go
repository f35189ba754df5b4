//go:build cgo

package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/gpu"
	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/scheduler"
)

// The digits pipeline every fault test runs, built from the real parts the
// example (examples/digits/pipeline.yaml) uses:
//
//	Parquet (id, pixels, label) → to_float (C, Wasm) → digits.onnx (ONNX Runtime)
//	  → softmax (Rust, Wasm) → argmax (AssemblyScript, Wasm) → Parquet
//
// Each part is wrapped so that it appends what it does to a progress file
// (read, transform, model, write, commit, committed) and, in a child that
// was told so, SIGKILLs its own process at the nth event of a phase.

// phases of a run, in the order a split meets them.
var phases = []string{"read", "transform", "model", "write", "commit"}

// digitsInput writes the input data set to dir/input: the 360 scans of the
// digits example's held-out split, copies times over with an id column
// (0..), as Parquet row groups of 30 rows, one split each. It returns the
// row count.
func digitsInput(t testing.TB, dir string, copies int) int {
	t.Helper()
	ctx := context.Background()
	src, err := dataset.OpenParquet(ctx, []string{repo("examples", "digits", "data", "test.parquet")})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var recs []arrow.RecordBatch
	for _, sp := range src.Splits() {
		r, err := src.Open(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Read(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rec)
		}
		r.Close()
	}
	sink, err := dataset.OpenSink(ctx, filepath.Join(dir, "input"), dataset.FormatParquet, dataset.WithRowGroupRows(30))
	if err != nil {
		t.Fatal(err)
	}
	w := dataset.NewWriter(sink, true)
	id := int64(0)
	mem := memory.NewGoAllocator()
	for range copies {
		for _, rec := range recs {
			b := array.NewInt64Builder(mem)
			for range rec.NumRows() {
				b.Append(id)
				id++
			}
			ids := b.NewArray()
			b.Release()
			fields := append([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, rec.Schema().Fields()...)
			cols := append([]arrow.Array{ids}, rec.Columns()...)
			out := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
			ids.Release()
			if err := w.Write(ctx, out); err != nil {
				t.Fatal(err)
			}
			out.Release()
		}
	}
	for _, rec := range recs {
		rec.Release()
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return int(id)
}

// runSpec says what one run of the pipeline does.
type runSpec struct {
	Input    string `json:"input"`    // the input directory
	Output   string `json:"output"`   // the sink's directory
	Dead     string `json:"dead"`     // the dead-letter sink's directory ("" for none)
	Progress string `json:"progress"` // the progress file ("" for none)
	// KillPhase, KillAt and KillAfterUs: SIGKILL this process KillAfterUs
	// microseconds after the KillAt-th event (1-based) of KillPhase.
	KillPhase   string `json:"kill_phase,omitempty"`
	KillAt      int    `json:"kill_at,omitempty"`
	KillAfterUs int    `json:"kill_after_us,omitempty"`
	// FileSizeLimit, when > 0, sets RLIMIT_FSIZE for the process (a write
	// past it fails with EFBIG: a full disk for one file).
	FileSizeLimit int64 `json:"file_size_limit,omitempty"`
}

// progress is the log of what a run does, and its kill switch.
type progress struct {
	mu     sync.Mutex
	f      *os.File
	counts map[string]int
	spec   runSpec
}

func newProgress(spec runSpec) (*progress, error) {
	p := &progress{counts: map[string]int{}, spec: spec}
	if spec.Progress != "" {
		f, err := os.OpenFile(spec.Progress, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		p.f = f
	}
	return p, nil
}

// event records one event of phase (detail says which split or stage).
func (p *progress) event(phase, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[phase]++
	if p.f != nil {
		fmt.Fprintf(p.f, "%s %d %s\n", phase, p.counts[phase], detail) // one write: whole lines survive a kill
	}
	if p.spec.KillPhase == phase && p.counts[phase] == p.spec.KillAt {
		kill := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
		if p.spec.KillAfterUs == 0 {
			kill()
		}
		time.AfterFunc(time.Duration(p.spec.KillAfterUs)*time.Microsecond, kill)
	}
}

func (p *progress) close() {
	if p.f != nil {
		p.f.Close()
	}
}

type progressSource struct {
	dataset.Source
	p *progress
}

func (s progressSource) Open(ctx context.Context, sp dataset.Split) (dataset.Reader, error) {
	r, err := s.Source.Open(ctx, sp)
	if err != nil {
		return nil, err
	}
	return progressReader{r, s.p, sp.Index}, nil
}

type progressReader struct {
	dataset.Reader
	p     *progress
	split int
}

func (r progressReader) Read(ctx context.Context) (arrow.RecordBatch, error) {
	r.p.event("read", fmt.Sprintf("split=%d", r.split))
	return r.Reader.Read(ctx)
}

type progressStage struct {
	scheduler.Stage
	p     *progress
	phase string
}

func (s progressStage) Transform(ctx context.Context, seq int64, in arrow.RecordBatch) (arrow.RecordBatch, error) {
	s.p.event(s.phase, fmt.Sprintf("stage=%s seq=%d", s.Name(), seq))
	return s.Stage.Transform(ctx, seq, in)
}

type progressSink struct {
	dataset.Sink
	p *progress
}

func (s progressSink) Create(ctx context.Context, sp dataset.Split, schema *arrow.Schema) (dataset.Part, error) {
	part, err := s.Sink.Create(ctx, sp, schema)
	if err != nil {
		return nil, err
	}
	return progressPart{part, s.p, sp.Index}, nil
}

type progressPart struct {
	dataset.Part
	p     *progress
	split int
}

func (w progressPart) Write(ctx context.Context, rec arrow.RecordBatch) error {
	w.p.event("write", fmt.Sprintf("split=%d rows=%d", w.split, rec.NumRows()))
	return w.Part.Write(ctx, rec)
}

func (w progressPart) Commit(ctx context.Context) ([]string, error) {
	w.p.event("commit", fmt.Sprintf("split=%d", w.split))
	files, err := w.Part.Commit(ctx)
	if err == nil {
		w.p.event("committed", fmt.Sprintf("split=%d", w.split))
	}
	return files, err
}

// digitsStages loads the four stages; the caller closes them.
func digitsStages(ctx context.Context, modelOpts ...gpu.Option) ([]scheduler.Stage, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	udf := func(name, path, config string) (*host.UDF, error) {
		return host.LoadFile(ctx, path, host.WithName(name), host.WithPoolSize(1), host.WithCacheDir(cacheDir),
			host.WithConfig([]byte(config)), host.WithLogger(quiet))
	}
	var stages []scheduler.Stage
	fail := func(err error) ([]scheduler.Stage, error) {
		for _, s := range stages {
			s.Close(ctx)
		}
		return nil, err
	}
	norm, err := udf("normalize", repo("examples", "digits", "udf", "to_float.wasm"), `{"column":"pixels","output":"input","scale":0.0625,"shape":[1,8,8]}`)
	if err != nil {
		return fail(err)
	}
	stages = append(stages, norm)
	lib, err := gpu.FindLibrary("")
	if err != nil {
		return fail(err)
	}
	model, err := gpu.Load(ctx, repo("examples", "digits", "train", "digits.onnx"), append([]gpu.Option{
		gpu.WithName("classify"), gpu.WithLibrary(lib), gpu.WithActors(1), gpu.WithIntraOpThreads(1),
		gpu.WithInputs(map[string]string{"pixels": "input"}), gpu.WithOutputs(map[string]string{"logits": "logits"}),
		gpu.WithKeep("id", "label"), gpu.WithLogger(quiet),
	}, modelOpts...)...)
	if err != nil {
		return fail(err)
	}
	stages = append(stages, model)
	soft, err := udf("softmax", repo("udfs", "softmax", "softmax.wasm"), `{"column":"logits","output":"probs"}`)
	if err != nil {
		return fail(err)
	}
	stages = append(stages, soft)
	arg, err := udf("argmax", repo("udfs", "argmax", "argmax.wasm"), `{"column":"probs","output":"prediction","score":"confidence"}`)
	if err != nil {
		return fail(err)
	}
	return append(stages, arg), nil
}

// stageOptions are the options of stage i of digitsStages in a run;
// extra (when not nil) adds to the model stage's.
func stageOptions(i int, extra []scheduler.StageOption) []scheduler.StageOption {
	opts := []scheduler.StageOption{scheduler.BatchSize(16)}
	if i == 1 {
		opts = append(opts, extra...)
	}
	return opts
}

// runDigits runs the pipeline as spec says (in this process) and returns
// the run's summary.
func runDigits(ctx context.Context, spec runSpec, modelOpts []gpu.Option, stageOpts []scheduler.StageOption) (*scheduler.Summary, error) {
	p, err := newProgress(spec)
	if err != nil {
		return nil, err
	}
	defer p.close()
	src, err := dataset.OpenParquet(ctx, []string{spec.Input})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	sink, err := dataset.OpenSink(ctx, spec.Output, dataset.FormatParquet)
	if err != nil {
		return nil, err
	}
	stages, err := digitsStages(ctx, modelOpts...)
	if err != nil {
		sink.Close(ctx)
		return nil, err
	}
	defer func() {
		for _, s := range stages {
			s.Close(ctx)
		}
	}()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	pl := scheduler.New(progressSource{src, p}, scheduler.WithLogger(quiet), scheduler.WithMemoryBudget(64<<20), scheduler.WithSplitsInFlight(2))
	for i, s := range stages {
		phase := "transform"
		if i == 1 {
			phase = "model"
		}
		pl.MapBatches(progressStage{s, p, phase}, stageOptions(i, stageOpts)...)
	}
	pl.Write(progressSink{sink, p})
	var dead *dataset.DirSink
	if spec.Dead != "" {
		if dead, err = dataset.OpenSink(ctx, spec.Dead, dataset.FormatJSONL); err != nil {
			sink.Close(ctx)
			return nil, err
		}
		pl.DeadLetters(dead)
	}
	sum, err := pl.Run(ctx)
	if cerr := sink.Close(ctx); err == nil {
		err = cerr
	}
	if dead != nil {
		if cerr := dead.Close(ctx); err == nil {
			err = cerr
		}
	}
	return sum, err
}

func init() { children["pipeline"] = pipelineChild }

// pipelineChild runs the pipeline in a child process: the kill trials'
// and the disk-full fallback's.
func pipelineChild(arg string) error {
	var spec runSpec
	if err := json.Unmarshal([]byte(arg), &spec); err != nil {
		return err
	}
	if spec.FileSizeLimit > 0 {
		if err := limitFileSize(spec.FileSizeLimit); err != nil {
			return err
		}
	}
	sum, err := runDigits(context.Background(), spec, nil, nil)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(sum)
}

// outRow is one output row.
type outRow struct {
	Label      int64
	Prediction int32
	Confidence uint32 // bits
}

// readOutput reads every Parquet file under dir (the sink's committed
// files) into rows by id; duplicates are counted, not kept.
func readOutput(t testing.TB, dir string) (rows map[int64]outRow, dups int) {
	t.Helper()
	ctx := context.Background()
	rows = map[int64]outRow{}
	files, _ := filepath.Glob(filepath.Join(dir, "part-*.parquet"))
	if len(files) == 0 {
		return rows, 0
	}
	src, err := dataset.OpenParquet(ctx, files)
	if err != nil {
		t.Fatalf("reading the output: %v", err)
	}
	defer src.Close()
	for _, sp := range src.Splits() {
		r, err := src.Open(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Read(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("reading %s: %v", sp.ID, err)
			}
			ids := column[*array.Int64](t, rec, "id")
			labels := column[*array.Int64](t, rec, "label")
			preds := column[*array.Int32](t, rec, "prediction")
			conf := column[*array.Float32](t, rec, "confidence")
			for i := range int(rec.NumRows()) {
				id := ids.Value(i)
				if _, ok := rows[id]; ok {
					dups++
					continue
				}
				rows[id] = outRow{labels.Value(i), preds.Value(i), math.Float32bits(conf.Value(i))}
			}
			rec.Release()
		}
		r.Close()
	}
	return rows, dups
}

func column[T arrow.Array](t testing.TB, rec arrow.RecordBatch, name string) T {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %q in %s", name, rec.Schema())
	}
	c, ok := rec.Column(idx[0]).(T)
	if !ok {
		t.Fatalf("column %q is %s", name, rec.Column(idx[0]).DataType())
	}
	return c
}

// checkExactlyOnce compares the output under dir with want: every id once,
// every row as in want, and no temporary or unlisted file left.
func checkExactlyOnce(t testing.TB, dir string, want map[int64]outRow) {
	t.Helper()
	got, dups := readOutput(t, dir)
	if dups > 0 {
		t.Errorf("%d duplicate rows", dups)
	}
	missing, wrong := 0, 0
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			missing++
		case g != w:
			wrong++
		}
	}
	if missing > 0 || wrong > 0 || len(got) != len(want) {
		t.Errorf("%d rows, want %d: %d missing, %d differ from a clean run", len(got), len(want), missing, wrong)
	}
	checkNoPartialFiles(t, dir, true)
}

// checkNoPartialFiles: every file under a final name is a whole Parquet
// file; with clean, no temporary (hidden) file is left either.
func checkNoPartialFiles(t testing.TB, dir string, clean bool) (finals int) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		name := de.Name()
		switch {
		case strings.HasPrefix(name, "part-"):
			finals++
			src, err := dataset.OpenParquet(context.Background(), []string{filepath.Join(dir, name)})
			if err != nil {
				t.Errorf("a partial file under a final name: %v", err)
				continue
			}
			src.Close()
		case strings.HasPrefix(name, ".") && clean:
			t.Errorf("a temporary file is left: %s", name)
		}
	}
	return finals
}

// cleanRun runs the pipeline once in this process into a scratch
// directory: the expected rows.
func cleanRun(t testing.TB, input string) (map[int64]outRow, *scheduler.Summary) {
	t.Helper()
	out := t.TempDir()
	sum, err := runDigits(context.Background(), runSpec{Input: input, Output: out}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, dups := readOutput(t, out)
	if dups > 0 {
		t.Fatalf("a clean run wrote %d duplicate rows", dups)
	}
	return want, sum
}
