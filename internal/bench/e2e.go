package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/pipeline"
	"github.com/wasinfer/wasinfer/scheduler"
)

// e2eRun is one run of the end-to-end pipeline.
type e2eRun struct {
	sum     *scheduler.Summary
	open    time.Duration // pipeline.Open: stages loaded
	seconds float64       // Run alone
}

// runE2E opens and runs the end-to-end pipeline over data into a new
// output directory. Only Run is timed: Open loads the stages, which the
// bare ONNX Runtime side does not pay either (start-up is its own key).
func (e *env) runE2E(ctx context.Context, data, lib string) (*scheduler.Summary, error) {
	r, err := e.runE2ETimed(ctx, data, lib, "", "")
	if err != nil {
		return nil, err
	}
	return r.sum, nil
}

// runE2ETimed is runE2E with the UDFs' compilation cache (e2eSpec) and the
// sink's tensor layout ("": the default) given.
func (e *env) runE2ETimed(ctx context.Context, data, lib, cacheDir, layout string) (*e2eRun, error) {
	dir, err := e.dir("e2e-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(e.e2eSpec(data, filepath.Join(dir, "out"), cacheDir, layout)), 0o644); err != nil {
		return nil, err
	}
	return runSpec(ctx, file, lib)
}

// runSpec runs a pipeline file with the sink it names.
func runSpec(ctx context.Context, file, lib string) (*e2eRun, error) {
	spec, err := pipeline.Load(file)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	job, err := pipeline.Open(ctx, spec, pipeline.ModeRun,
		pipeline.WithLogger(quietLogger), pipeline.WithORTLibrary(lib), pipeline.WithoutMetrics(), pipeline.WithGPUs(0))
	if err != nil {
		return nil, err
	}
	defer job.Close(context.WithoutCancel(ctx))
	open := time.Since(t0)
	t1 := time.Now()
	sum, err := job.Pipeline.Run(ctx)
	if err != nil {
		return nil, spec.Locate(err)
	}
	return &e2eRun{sum: sum, open: open, seconds: time.Since(t1).Seconds()}, nil
}

func pipelineBenchmark() benchmark {
	return benchmark{
		keys: []keyInfo{{
			key: "pipeline_vs_bare_ort", title: "End-to-end pipeline ÷ bare ONNX Runtime", unit: "x",
			target: atLeast(0.9, "≥ 0.9 on CPU"),
			measures: "rows/s of Parquet → image_normalize (C UDF) → digits CNN (model stage, 1 actor, 1 intra-op thread) → " +
				"argmax (AssemblyScript UDF) → Parquet, pipeline.Run only (stages loaded before), ÷ rows/s of a loop of " +
				"onnxruntime_go Run calls of the same model with 1 intra-op thread on pre-made [256,1,8,8] tensors " +
				"(same rows, same batches), interleaved",
			explain: func(r *Result) string {
				return fmt.Sprintf("missed: the digits CNN is tiny (%s µs per row in bare ONNX Runtime). The pipeline spent "+
					"%s µs of CPU per row against the bare loop's %s (cpu_ratio %s): reading Parquet, the two UDF stages and "+
					"writing Parquet cost about as much CPU as the model. The model stage, the critical path, was busy for "+
					"%s of the wall time; on shared cores the other stages' CPU is taken from it. See docs/profile/README.md. "+
					"The target is for models whose compute dominates: the overhead per row stays the same with a larger model.",
					formatValue(toFloat(r.Details["bare_us_per_row"])), formatValue(toFloat(r.Details["pipeline_cpu_us_per_row"])),
					formatValue(toFloat(r.Details["bare_cpu_us_per_row"])), formatValue(toFloat(r.Details["cpu_ratio"])),
					pct(toFloat(r.Details["model_busy_share"])))
			},
		}, {
			key: "pipeline_vs_bare_ort_binary_layout", title: "End-to-end pipeline ÷ bare ONNX Runtime, tensors in the binary Parquet layout", unit: "x",
			target: atLeast(0.9, "≥ 0.9 on CPU"),
			measures: "pipeline_vs_bare_ort with the input's pixels and the output's logits stored in the binary tensor layout " +
				"(parquet.tensor_layout: binary, one FIXED_LEN_BYTE_ARRAY value per row instead of a list with levels per element), " +
				"interleaved with the same bare loop and the list-layout pipeline",
			explain: func(r *Result) string {
				return fmt.Sprintf("missed: the same reasons as pipeline_vs_bare_ort; the binary layout took the pipeline's CPU per row "+
					"from %s to %s µs (bare: %s).",
					formatValue(toFloat(r.Details["list_layout_cpu_us_per_row"])), formatValue(toFloat(r.Details["pipeline_cpu_us_per_row"])),
					formatValue(toFloat(r.Details["bare_cpu_us_per_row"])))
			},
		}},
		run: runPipelineVsBare,
	}
}

func runPipelineVsBare(ctx context.Context, e *env, rs []*Result) error {
	r, rb := rs[0], rs[1]
	lib, err := e.ort()
	if err != nil {
		return err
	}
	rows := e.p.e2eRows
	data, err := e.digits(rows)
	if err != nil {
		return err
	}
	binData, err := e.digitsBinary(ctx, rows)
	if err != nil {
		return err
	}
	// A first run loads ONNX Runtime into the process and warms the caches.
	if _, err := e.runE2E(ctx, data, lib); err != nil {
		return err
	}
	pixels, _, err := e.digitsPixels(ctx)
	if err != nil {
		return err
	}
	vals := make([]float32, digitsBatch*64)
	for i := range vals {
		vals[i] = float32(pixels[i%len(pixels)]) / 16
	}
	bare, err := newBareORT(e.path(digitsModel), e2eThreads, digitsBatch, vals)
	if err != nil {
		return err
	}
	defer bare.close()
	runs := rows / digitsBatch
	var last, lastBin *e2eRun
	var cpu [3][]float64 // CPU seconds of the process during each side
	pipelineSide := func(data, layout string, cpu *[]float64, last **e2eRun) func() (float64, error) {
		return func() (float64, error) {
			c0 := cpuTime()
			run, err := e.runE2ETimed(ctx, data, lib, "", layout)
			*cpu = append(*cpu, (cpuTime() - c0).Seconds())
			if err != nil {
				return 0, err
			}
			if got := run.sum.Sink.RowsIn; got != int64(rows) {
				return 0, fmt.Errorf("the pipeline (%s) wrote %d rows of %d", data, got, rows)
			}
			*last = run
			return run.seconds, nil
		}
	}
	sides, err := interleave(ctx, max(1, e.p.reps-2),
		func() (float64, error) {
			c0 := cpuTime()
			s, err := timed(func() error {
				for range runs {
					if err := bare.run(); err != nil {
						return err
					}
				}
				return nil
			})
			cpu[0] = append(cpu[0], (cpuTime() - c0).Seconds())
			return s, err
		},
		pipelineSide(data, "", &cpu[1], &last),
		pipelineSide(binData, dataset.TensorLayoutBinary, &cpu[2], &lastBin))
	if err != nil {
		return err
	}
	for i := range cpu {
		cpu[i] = cpu[i][1:] // without the warm-up round
	}
	r.setSamples(ratios(sides[0], sides[1]))
	rb.setSamples(ratios(sides[0], sides[2]))
	// details of pipeline side i against the bare side (0).
	details := func(i int, last *e2eRun) map[string]any {
		d := map[string]any{
			"rows": rows, "batch_rows": digitsBatch, "threads": e2eThreads,
			"bare_rows_per_s": float64(rows) / median(sides[0]), "pipeline_rows_per_s": float64(rows) / median(sides[i]),
			"bare_us_per_row": median(sides[0]) / float64(rows) * 1e6,
			// Process CPU time during each side: what the work costs, without
			// the waits for a core that the wall time includes on a busy machine.
			"bare_cpu_us_per_row":     median(cpu[0]) / float64(rows) * 1e6,
			"pipeline_cpu_us_per_row": median(cpu[i]) / float64(rows) * 1e6,
			"cpu_ratio":               median(cpu[0]) / median(cpu[i]),
		}
		addStageShares(d, last)
		return d
	}
	r.Details = details(1, last)
	db := details(2, lastBin)
	db["list_layout_cpu_us_per_row"] = median(cpu[1]) / float64(rows) * 1e6
	db["vs_list_layout"] = median(ratios(sides[1], sides[2]))
	rb.Details = db
	return nil
}

// addStageShares records each stage's busy time ÷ the run's wall time.
func addStageShares(d map[string]any, run *e2eRun) {
	if run == nil {
		return
	}
	wall := time.Duration(run.sum.Wall).Seconds()
	busy := map[string]float64{}
	for _, st := range run.sum.Stages {
		busy[st.Name] = time.Duration(st.Busy).Seconds() / wall
	}
	d["stage_busy_share"] = busy
	d["model_busy_share"] = busy["classify"]
	d["stages_loaded_ms"] = run.open.Seconds() * 1e3
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return 0
}

func pct(f float64) string { return fmt.Sprintf("%.0f %%", f*100) }
