package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/pipeline"
)

// The child-process protocol. Start-up and peak RSS are measured in a fresh
// process each time (a process's compilation caches and its VmHWM only
// grow): Run starts its executable (WithExecutable) with the arguments
// ChildCommand MODE PIPELINE.yaml ORT_LIBRARY and the environment variable
// ChildEnv=1, and reads what the child prints on stdout:
//
//   - mode "startup" opens the pipeline without its sink, streams it, and
//     prints "first_batch" as soon as the first batch leaves the last stage,
//     then "open_ms=F first_ms=F" (from the child's start);
//   - mode "rss" runs the pipeline with its sink and prints
//     "peak_rss_bytes=N rows=N" (Linux VmHWM).
const (
	// ChildCommand is the hidden subcommand of the wasinfer CLI that runs Child.
	ChildCommand = "bench-child"
	// ChildEnv is set in a child's environment, so that a test binary can
	// tell that it was started as a child and run the CLI instead of its tests.
	ChildEnv = "WASINFER_BENCH_CHILD"
)

// processStart is when this process's packages were initialized: the
// child's own clock for start-up.
var processStart = time.Now()

// Child runs one child measurement (see ChildCommand); args are MODE,
// PIPELINE.yaml and the ONNX Runtime library.
func Child(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 3 {
		return fmt.Errorf("bench: %s: want MODE PIPELINE.yaml ORT_LIBRARY, got %d arguments", ChildCommand, len(args))
	}
	mode, file, lib := args[0], args[1], args[2]
	if mode != "startup" && mode != "rss" {
		return fmt.Errorf("bench: %s: unknown mode %q (want startup or rss)", ChildCommand, mode)
	}
	spec, err := pipeline.Load(file)
	if err != nil {
		return err
	}
	opts := []pipeline.BuildOption{pipeline.WithLogger(quietLogger), pipeline.WithORTLibrary(lib), pipeline.WithoutMetrics(), pipeline.WithGPUs(0)}
	switch mode {
	case "startup":
		job, err := pipeline.Open(ctx, spec, pipeline.ModePeek, opts...)
		if err != nil {
			return err
		}
		defer job.Close(context.WithoutCancel(ctx))
		open := time.Since(processStart)
		var first time.Duration
		_, err = job.Pipeline.Each(ctx, func(arrow.RecordBatch) error {
			if first == 0 {
				first = time.Since(processStart)
				if _, err := fmt.Fprintln(stdout, "first_batch"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return spec.Locate(err)
		}
		_, err = fmt.Fprintf(stdout, "open_ms=%.3f first_ms=%.3f\n", ms(open), ms(first))
		return err
	default: // rss
		job, err := pipeline.Open(ctx, spec, pipeline.ModeRun, opts...)
		if err != nil {
			return err
		}
		defer job.Close(context.WithoutCancel(ctx))
		sum, err := job.Pipeline.Run(ctx)
		if err != nil {
			return spec.Locate(err)
		}
		_, err = fmt.Fprintf(stdout, "peak_rss_bytes=%d rows=%d\n", peakRSS(), sum.Sink.RowsIn)
		return err
	}
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }

// childRun is what the parent saw of one child.
type childRun struct {
	firstBatch time.Duration // from just before the exec to the "first_batch" line
	values     map[string]float64
}

// runChild starts a child measurement and waits for it.
func (e *env) runChild(ctx context.Context, mode, spec, lib string) (*childRun, error) {
	exe := e.cfg.exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("finding this program to start it again: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, exe, ChildCommand, mode, spec, lib)
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	run := &childRun{values: map[string]float64{}}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", exe, err)
	}
	sc := bufio.NewScanner(out)
	var lines []string
	for sc.Scan() {
		line := sc.Text()
		if line == "first_batch" && run.firstBatch == 0 {
			run.firstBatch = time.Since(t0)
			continue
		}
		lines = append(lines, line)
		for _, f := range strings.Fields(line) {
			k, v, ok := strings.Cut(f, "=")
			if x, err := strconv.ParseFloat(v, 64); ok && err == nil {
				run.values[k] = x
			}
		}
	}
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("child %s %s: %w: %s", ChildCommand, mode, err, strings.TrimSpace(stderr.String()))
	}
	if len(run.values) == 0 {
		return nil, fmt.Errorf("child %s %s printed no figures: %q; stderr: %s", ChildCommand, mode, lines, strings.TrimSpace(stderr.String()))
	}
	return run, nil
}

func startupBenchmark() benchmark {
	measures := func(cache string) string {
		return "wall time from starting a new wasinfer process to the first output batch of the end-to-end pipeline " +
			"(process start, pipeline file, Parquet source, UDFs loaded through the compilation cache " + cache +
			", ONNX Runtime loaded and the model's session created and warmed, the first batch through every stage), " +
			"cold and warm runs interleaved, each in a fresh process"
	}
	return benchmark{
		keys: []keyInfo{
			{key: "startup_cold_ms", title: "Start-up to the first output batch, compilation cache empty", unit: "ms",
				measures: measures("(an empty directory: every module compiled)")},
			{key: "startup_warm_ms", title: "Start-up to the first output batch, compilation cache warm", unit: "ms",
				measures: measures("(the directory a cold run filled)")},
		},
		run: runStartup,
	}
}

func runStartup(ctx context.Context, e *env, rs []*Result) error {
	lib, err := e.ort()
	if err != nil {
		return err
	}
	data, err := e.digits(2 * digitsBatch)
	if err != nil {
		return err
	}
	var spec string
	var cold, warm []*childRun
	sides, err := interleave(ctx, e.p.startupReps,
		func() (float64, error) {
			// A new, empty cache directory for each cold run; the warm
			// run after it reuses the directory.
			dir, err := e.dir("startup-")
			if err != nil {
				return 0, err
			}
			spec = filepath.Join(dir, "pipeline.yaml")
			if err := os.WriteFile(spec, []byte(e.e2eSpec(data, filepath.Join(dir, "out"), filepath.Join(dir, "cache"), "")), 0o644); err != nil {
				return 0, err
			}
			run, err := e.runChild(ctx, "startup", spec, lib)
			if err != nil {
				return 0, err
			}
			cold = append(cold, run)
			return ms(run.firstBatch), nil
		},
		func() (float64, error) {
			run, err := e.runChild(ctx, "startup", spec, lib)
			if err != nil {
				return 0, err
			}
			warm = append(warm, run)
			return ms(run.firstBatch), nil
		})
	if err != nil {
		return err
	}
	for _, r := range rs {
		i, runs := 0, cold
		if r.Key == "startup_warm_ms" {
			i, runs = 1, warm
		}
		var open, first []float64
		for _, c := range runs {
			open = append(open, c.values["open_ms"])
			first = append(first, c.values["first_ms"])
		}
		r.setSamples(sides[i])
		r.Details = map[string]any{
			"stages_loaded_ms_in_child": median(open), "first_batch_ms_in_child": median(first),
			"note": "the *_in_child figures are measured from the child's package initialization; the value includes the exec",
		}
	}
	return nil
}

func rssBenchmark() benchmark {
	return benchmark{
		keys: []keyInfo{{
			key: "rss_growth_10x", title: "Peak RSS at 10× the data ÷ at 1×", unit: "x",
			target: atMost(1.1, "≤ 1.1"),
			measures: "peak resident set (VmHWM) of a fresh wasinfer process running the end-to-end pipeline (Parquet → " +
				"image_normalize → digits CNN → argmax → Parquet) over 10× the rows ÷ the same over 1×, interleaved",
			explain: func(r *Result) string {
				return fmt.Sprintf("missed: %s MiB at 1×, %s MiB at 10×. In-flight Arrow data is bounded by the memory budget; "+
					"what grows is the Go heap between collections (GOGC=100 lets it reach twice the live heap) and the "+
					"Parquet writer's buffers, not the data set.",
					formatValue(toFloat(r.Details["peak_rss_mib_1x"])), formatValue(toFloat(r.Details["peak_rss_mib_10x"])))
			},
		}},
		run: runRSS,
	}
}

func runRSS(ctx context.Context, e *env, rs []*Result) error {
	lib, err := e.ort()
	if err != nil {
		return err
	}
	specs := map[int]string{}
	for _, m := range []int{1, 10} {
		data, err := e.digits(m * e.p.rssRows)
		if err != nil {
			return err
		}
		dir, err := e.dir("rss-")
		if err != nil {
			return err
		}
		specs[m] = filepath.Join(dir, "pipeline.yaml")
		if err := os.WriteFile(specs[m], []byte(e.e2eSpec(data, filepath.Join(dir, "out"), "", "")), 0o644); err != nil {
			return err
		}
	}
	measure := func(m int) func() (float64, error) {
		return func() (float64, error) {
			// A new output directory per run: the sink skips committed splits.
			_ = os.RemoveAll(filepath.Join(filepath.Dir(specs[m]), "out"))
			run, err := e.runChild(ctx, "rss", specs[m], lib)
			if err != nil {
				return 0, err
			}
			if got := int(run.values["rows"]); got != m*e.p.rssRows {
				return 0, fmt.Errorf("the %d× run wrote %d rows of %d", m, got, m*e.p.rssRows)
			}
			return run.values["peak_rss_bytes"], nil
		}
	}
	// No warm-up round: every run is a fresh process anyway.
	sides, err := rounds(ctx, false, e.p.rssReps, measure(1), measure(10))
	if err != nil {
		return err
	}
	rs[0].setSamples(ratios(sides[1], sides[0]))
	rs[0].Details = map[string]any{
		"rows_1x": e.p.rssRows, "rows_10x": 10 * e.p.rssRows,
		"peak_rss_mib_1x": median(sides[0]) / (1 << 20), "peak_rss_mib_10x": median(sides[1]) / (1 << 20),
	}
	return nil
}
