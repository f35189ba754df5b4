package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// Schema names the JSON document's layout; it changes only when a field's
// meaning does.
const Schema = "wasinfer-bench/v1"

// Option configures Run.
type Option func(*config)

type config struct {
	quick       bool
	only        []string
	root        string
	ortLib      string
	progress    io.Writer
	command     string
	exe         string
	cpuProfile  string
	profileTime time.Duration
}

// WithQuick runs a few repetitions on small inputs: seconds, enough to
// check that every benchmark runs and emits its key (make test). Default:
// the full run, enough repetitions for a stable median (a few minutes).
func WithQuick(quick bool) Option { return func(c *config) { c.quick = quick } }

// WithOnly runs only the benchmarks of these keys. Default: every key.
func WithOnly(keys ...string) Option { return func(c *config) { c.only = keys } }

// WithRoot is the wasinfer checkout that holds the committed guests, model
// and data. Default: found from the working directory upwards.
func WithRoot(dir string) Option { return func(c *config) { c.root = dir } }

// WithORTLibrary is the ONNX Runtime shared library. Default:
// gpu.FindLibrary (WASINFER_ORT_LIB, then the cache `make deps` fills).
func WithORTLibrary(path string) Option { return func(c *config) { c.ortLib = path } }

// WithProgress writes a line per benchmark to w. Default: none.
func WithProgress(w io.Writer) Option { return func(c *config) { c.progress = w } }

// WithCommand records the command line that produced the report. Default
// "wasinfer bench".
func WithCommand(cmd string) Option { return func(c *config) { c.command = cmd } }

// WithExecutable is the program started for the measurements that need a
// fresh process (start-up, peak RSS): it must run Child when given
// ChildCommand as its first argument (the wasinfer binary does), or, as a
// test binary, when ChildEnv is set. Default: os.Executable().
func WithExecutable(path string) Option { return func(c *config) { c.exe = path } }

// WithCPUProfile profiles the end-to-end pipeline (read → UDF → model →
// UDF → write) after the measurements: it runs it again and again for d
// under the CPU profiler and writes the profile to path. Default: none.
func WithCPUProfile(path string, d time.Duration) Option {
	return func(c *config) { c.cpuProfile, c.profileTime = path, d }
}

// Report is the outcome of Run.
type Report struct {
	Schema  string    `json:"schema"`
	Command string    `json:"command"`
	Quick   bool      `json:"quick"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	Machine Machine   `json:"machine"`
	// ORTLibrary and ORTVersion: the ONNX Runtime the model benchmarks used.
	ORTLibrary string `json:"ort_library"`
	ORTVersion string `json:"ort_version"`
	// Results holds one entry per key run, keyed by Result.Key.
	Results map[string]*Result `json:"results"`
	// Profile describes the CPU profile, when one was taken.
	Profile *Profile `json:"profile,omitempty"`
}

// Profile describes a CPU profile of the end-to-end pipeline.
type Profile struct {
	Path    string  `json:"path"`
	Runs    int     `json:"runs"`
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
}

// Ordered returns the results in the order of Keys.
func (r *Report) Ordered() []*Result {
	var out []*Result
	for _, k := range Keys() {
		if res, ok := r.Results[k]; ok {
			out = append(out, res)
		}
	}
	return out
}

// Failed lists the keys whose measurement failed.
func (r *Report) Failed() []string {
	var out []string
	for _, res := range r.Ordered() {
		if res.Error != "" {
			out = append(out, res.Key)
		}
	}
	return out
}

// ReadReport reads a report that WriteJSON wrote (to render it again).
func ReadReport(r io.Reader) (*Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("bench: reading a report: %w", err)
	}
	if rep.Schema != Schema {
		return nil, fmt.Errorf("bench: a report of schema %q; this wasinfer reads %q", rep.Schema, Schema)
	}
	return &rep, nil
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes a plain summary table, a line per key.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	for _, res := range r.Ordered() {
		target := "-"
		if res.Target != nil {
			target = res.Target.Text
		}
		line := fmt.Sprintf("%-24s %-14s target %-26s %-12s", res.Key, res.ValueText(), target, res.Status())
		switch {
		case res.Error != "":
			line += " " + oneLine(res.Error)
		case res.Reason != "":
			line += " " + res.Reason
		default:
			line += " " + res.SpreadText()
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	return nil
}

// benchmark measures one or more keys (two only when they come from the
// same interleaved runs: cold and warm start-up).
type benchmark struct {
	keys []keyInfo
	run  func(ctx context.Context, e *env, rs []*Result) error
}

type keyInfo struct {
	key, title, unit, measures string
	target                     *Target
	// explain says why the target was missed, from the result's details.
	explain func(r *Result) string
}

// Keys lists every key of the report, in report order.
func Keys() []string {
	var keys []string
	for _, b := range benchmarks() {
		for _, k := range b.keys {
			keys = append(keys, k.key)
		}
	}
	return keys
}

func benchmarks() []benchmark {
	return []benchmark{
		identityBenchmark(),
		emptyBatchBenchmark(),
		normalizeBenchmark("c", "udf_c_vs_native"),
		normalizeBenchmark("rust", "udf_rust_vs_native"),
		normalizeBenchmark("go", "udf_go_vs_native"),
		normalizeBenchmark("assemblyscript", "udf_as_vs_native"),
		executorBenchmark(),
		pipelineBenchmark(),
		startupBenchmark(),
		rssBenchmark(),
		scalingBenchmark(),
		deadlineBenchmark(),
		pythonBenchmark(),
	}
}

// Run measures every key (or those WithOnly names), one benchmark after
// the other in this process (start-up and peak RSS in child processes it
// starts and waits for), and returns the report. A benchmark that fails
// has its keys' Error set; Run itself fails only when nothing can be
// measured (no checkout, no temporary directory, an unknown key).
func Run(ctx context.Context, opts ...Option) (*Report, error) {
	cfg := config{command: "wasinfer bench", profileTime: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	known := Keys()
	for _, k := range cfg.only {
		if !slices.Contains(known, k) {
			return nil, fmt.Errorf("bench: unknown key %q (keys: %s)", k, strings.Join(known, ", "))
		}
	}
	e, err := newEnv(&cfg)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rep := &Report{
		Schema: Schema, Command: cfg.command, Quick: cfg.quick, Started: time.Now().UTC().Truncate(time.Second),
		Machine: currentMachine(), Results: map[string]*Result{},
	}
	start := time.Now()
	all := benchmarks()
	for i, b := range all {
		// The keys of one benchmark come from one measurement: asking
		// for one of them reports them all.
		if len(cfg.only) > 0 && !slices.ContainsFunc(b.keys, func(k keyInfo) bool { return slices.Contains(cfg.only, k.key) }) {
			continue
		}
		rs := make([]*Result, len(b.keys))
		for j, k := range b.keys {
			rs[j] = &Result{Key: k.key, Title: k.title, Unit: k.unit, Target: k.target, Measures: k.measures}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		err := runOne(ctx, e, b, rs)
		runtime.GC()
		for _, r := range rs {
			r.Seconds = time.Since(t0).Seconds()
			if err != nil {
				r.Error = err.Error()
				r.Value, r.Met = nil, nil
			}
			if r.Met != nil && !*r.Met {
				for _, k := range b.keys {
					if k.key == r.Key && k.explain != nil && r.Note == "" {
						r.Note = k.explain(r)
					}
				}
			}
			rep.Results[r.Key] = r
			e.progressf("[%d/%d] %s: %s (%s) %.1fs", i+1, len(all), r.Key, r.ValueText(), r.Status(), r.Seconds)
		}
	}
	if lib, ver := e.ortInfo(); lib != "" {
		rep.ORTLibrary, rep.ORTVersion = lib, ver
	}
	if cfg.cpuProfile != "" {
		p, err := e.profilePipeline(ctx, cfg.cpuProfile, cfg.profileTime)
		if err != nil {
			return nil, fmt.Errorf("bench: profiling the end-to-end pipeline: %w", err)
		}
		rep.Profile = p
		if lib, ver := e.ortInfo(); lib != "" {
			rep.ORTLibrary, rep.ORTVersion = lib, ver
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	rep.Machine.LoadEnd = loadAverage()
	return rep, nil
}

// runOne runs one benchmark, turning a panic into an error: a bug in one
// measurement must not lose the others.
func runOne(ctx context.Context, e *env, b benchmark, rs []*Result) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bench: panic: %v", p)
		}
	}()
	return b.run(ctx, e, rs)
}

// profilePipeline runs the end-to-end pipeline under the CPU profiler for
// about d.
func (e *env) profilePipeline(ctx context.Context, path string, d time.Duration) (*Profile, error) {
	data, err := e.digits(e.p.e2eRows)
	if err != nil {
		return nil, err
	}
	lib, err := e.ort()
	if err != nil {
		return nil, err
	}
	// One run before the profile: the modules compiled, the files cached.
	if _, err := e.runE2E(ctx, data, lib); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, err
	}
	p := &Profile{Path: path}
	start := time.Now()
	for p.Runs == 0 || time.Since(start) < d {
		sum, err := e.runE2E(ctx, data, lib)
		if err != nil {
			pprof.StopCPUProfile()
			return nil, err
		}
		p.Runs++
		p.Rows += sum.Source.RowsOut
	}
	pprof.StopCPUProfile()
	p.Seconds = time.Since(start).Seconds()
	return p, f.Close()
}

// interleave runs the sides one after the other, reps times (A B A B …),
// after one untimed warm-up round, so that the machine's drift during the
// run hits every side alike. It returns each side's figure per repetition.
func interleave(ctx context.Context, reps int, sides ...func() (float64, error)) ([][]float64, error) {
	return rounds(ctx, true, reps, sides...)
}

// interleaveMin is interleave for short measurements on a busy machine:
// each repetition alternates the sides inner times (A B A B …) and keeps
// each side's fastest, since the load of other processes only ever adds
// time to a run.
func interleaveMin(ctx context.Context, reps, inner int, sides ...func() (float64, error)) ([][]float64, error) {
	best := make([]float64, len(sides))
	out := make([][]float64, len(sides))
	for rep := -1; rep < reps; rep++ {
		for i := range best {
			best[i] = -1
		}
		for range inner {
			for i, side := range sides {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				v, err := side()
				if err != nil {
					return nil, err
				}
				if best[i] < 0 || v < best[i] {
					best[i] = v
				}
			}
		}
		if rep >= 0 {
			for i := range sides {
				out[i] = append(out[i], best[i])
			}
		}
	}
	return out, nil
}

// rounds is interleave with the warm-up round optional.
func rounds(ctx context.Context, warmup bool, reps int, sides ...func() (float64, error)) ([][]float64, error) {
	out := make([][]float64, len(sides))
	first := 0
	if warmup {
		first = -1
	}
	for rep := first; rep < reps; rep++ {
		for i, side := range sides {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			v, err := side()
			if err != nil {
				return nil, err
			}
			if rep >= 0 {
				out[i] = append(out[i], v)
			}
		}
	}
	return out, nil
}

// ratios returns num[i] ÷ den[i].
func ratios(num, den []float64) []float64 {
	out := make([]float64, len(num))
	for i := range num {
		out[i] = num[i] / den[i]
	}
	return out
}

// timed returns the seconds f took.
func timed(f func() error) (float64, error) {
	t0 := time.Now()
	err := f()
	return time.Since(t0).Seconds(), err
}

var errNoCgo = errors.New("bench: this wasinfer was built without cgo, so it cannot run ONNX Runtime: build it with CGO_ENABLED=1 (make build)")

var quietLogger = slog.New(slog.DiscardHandler)
