package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// pythonMissing is the reason wasinfer_vs_python has no value when its
// peer cannot run.
const pythonMissing = "python3 with onnxruntime, numpy and pyarrow not available"

func pythonBenchmark() benchmark {
	return benchmark{
		keys: []keyInfo{{
			key: "wasinfer_vs_python", title: "wasinfer ÷ the plain-Python loop (pyarrow, numpy, onnxruntime)", unit: "x",
			measures: "rows/s of wasinfer's end-to-end pipeline (pipeline.Run, stages loaded) ÷ rows/s of " + pythonScript +
				" (the seed's loop: read Parquet batches with pyarrow, preprocess in numpy, ONNX Runtime with the same model " +
				"and 1 intra-op thread, argmax in numpy, write Parquet; its loop alone), same data, interleaved; above 1 " +
				"means wasinfer is faster",
		}},
		run: runPython,
	}
}

// pythonVersions returns the versions of Python and of the peer's
// packages, or ok false and what is missing.
func pythonVersions(ctx context.Context) (versions string, ok bool) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return err.Error(), false
	}
	out, err := exec.CommandContext(ctx, py, "-c",
		"import onnxruntime, numpy, pyarrow, sys; print(sys.version.split()[0], onnxruntime.__version__, numpy.__version__, pyarrow.__version__)").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%v: %s", err, lastLine(string(out))), false
	}
	return strings.TrimSpace(string(out)), true
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func runPython(ctx context.Context, e *env, rs []*Result) error {
	r := rs[0]
	versions, ok := pythonVersions(ctx)
	if !ok {
		// A missing peer, not a failure: the key says so.
		r.Reason = pythonMissing
		r.Details = map[string]any{"detection": "python3 -c 'import onnxruntime, numpy, pyarrow': " + versions, "script": pythonScript}
		return nil
	}
	lib, err := e.ort()
	if err != nil {
		return err
	}
	rows := e.p.e2eRows
	data, err := e.digits(rows)
	if err != nil {
		return err
	}
	script := e.path(pythonScript)
	python := func() (float64, error) {
		dir, err := e.dir("python-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "python3", script, "--input", data, "--model", e.path(digitsModel),
			"--output", filepath.Join(dir, "out.parquet"), "--batch-size", fmt.Sprint(digitsBatch), "--threads", fmt.Sprint(e2eThreads))
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%s: %w: %s", pythonScript, err, lastLine(stderr.String()))
		}
		var res struct {
			Rows    int     `json:"rows"`
			Seconds float64 `json:"seconds"`
		}
		if err := json.Unmarshal([]byte(lastLine(stdout.String())), &res); err != nil {
			return 0, fmt.Errorf("%s printed %q: %w", pythonScript, stdout.String(), err)
		}
		if res.Rows != rows {
			return 0, fmt.Errorf("%s read %d rows of %d", pythonScript, res.Rows, rows)
		}
		return res.Seconds, nil
	}
	wasinfer := func() (float64, error) {
		run, err := e.runE2ETimed(ctx, data, lib, "", "")
		if err != nil {
			return 0, err
		}
		return run.seconds, nil
	}
	sides, err := interleave(ctx, max(1, e.p.reps-2), python, wasinfer)
	if err != nil {
		return err
	}
	r.setSamples(ratios(sides[0], sides[1]))
	r.Details = map[string]any{
		"rows": rows, "python_rows_per_s": float64(rows) / median(sides[0]), "wasinfer_rows_per_s": float64(rows) / median(sides[1]),
		"python_versions": versions, "script": pythonScript,
	}
	return nil
}
