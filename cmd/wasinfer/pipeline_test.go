package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSpec writes a pipeline file into a temporary directory whose paths
// point at the repository's committed modules and sample data.
func writeSpec(t *testing.T, body string) (spec, dir string) {
	t.Helper()
	dir = t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	spec = filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(spec, []byte(strings.ReplaceAll(body, "$ROOT", root)), 0o644); err != nil {
		t.Fatal(err)
	}
	return spec, dir
}

const filterSpec = `source:
  format: parquet
  paths: [$ROOT/examples/quickstart/readings.parquet]
stages:
  - name: keep_high
    udf: $ROOT/sdk/c/examples/filter/filter.wasm
    config: {column: value, min: 90}
    concurrency: 2
sink:
  format: parquet
  path: out/
`

func TestRunWritesAndResumes(t *testing.T) {
	spec, dir := writeSpec(t, filterSpec)
	code, out, errs := runCLI(t, "run", spec, "--json", "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != "" {
		t.Fatalf("--quiet printed %q", out)
	}
	code, out, errs = runCLI(t, "run", spec, "--json")
	if code != exitOK {
		t.Fatalf("rerun: exit %d: %s", code, errs)
	}
	var sum struct {
		OK              bool  `json:"ok"`
		SplitsCommitted int   `json:"splits_committed"`
		SplitsSkipped   int   `json:"splits_skipped"`
		RowsIn          int64 `json:"rows_in"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	if !sum.OK || sum.SplitsCommitted != 0 || sum.SplitsSkipped == 0 {
		t.Fatalf("rerun redid committed splits: %+v", sum)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "out", "*.parquet"))
	if len(files) == 0 {
		t.Fatal("no output files")
	}
	// Read every output file back through peek-free means: udf test with
	// the identity module counts the rows.
	var rows int
	for _, f := range files {
		code, _, errs := runCLI(t, "udf", "test", "../../sdk/c/examples/identity/identity.wasm", "--input", f, "--rows", "0")
		if code != exitOK {
			t.Fatalf("reading %s: %s", f, errs)
		}
		var in, outRows, batches int
		if _, err := fmtSscanSummary(errs, &in, &outRows, &batches); err != nil {
			t.Fatalf("summary %q: %v", errs, err)
		}
		rows += outRows
	}
	if rows != 19 { // readings.parquet has 19 rows with value > 90 (see TestUDFTestPrintsTable)
		t.Fatalf("output holds %d rows, want 19", rows)
	}
}

func TestRunSpecProblems(t *testing.T) {
	spec, _ := writeSpec(t, `source:
  format: parquet
  paths: [$ROOT/examples/quickstart/readings.parquet]
stages:
  - udf: $ROOT/sdk/c/examples/filter/missing.wasm
    concurency: 2
sink: {format: parquet, path: out/}
`)
	code, _, errs := runCLI(t, "run", spec)
	if code != exitFail {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		spec + `:6:5: stages[0].concurency: unknown key "concurency" (did you mean "concurrency"?)`,
		spec + `:5:10: stages[0].udf: `,
		"missing.wasm does not exist",
		"wasinfer: 2 problems:",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestValidate(t *testing.T) {
	spec, _ := writeSpec(t, filterSpec)
	code, out, errs := runCLI(t, "validate", spec, "--rows", "100")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, ": ok: 1 stage loaded in ") || !strings.Contains(out, "output schema: id int64, value int64, sensor utf8") {
		t.Fatalf("stdout:\n%s", out)
	}
	code, out, _ = runCLI(t, "validate", spec, "--static", "--json")
	var v struct {
		OK bool `json:"ok"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &v) != nil || !v.OK {
		t.Fatalf("exit %d, --json:\n%s", code, out)
	}
}

func TestValidateDryRunFindsStageError(t *testing.T) {
	// The filter is configured with a column the data does not have: only
	// running it finds that, and the error points at the stage's line.
	spec, _ := writeSpec(t, strings.Replace(filterSpec, "column: value", "column: missing", 1))
	code, out, errs := runCLI(t, "validate", spec, "--json")
	if code != exitFail {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var v struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.OK {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !strings.HasPrefix(v.Error, spec+":5:5: stage \"keep_high\"") {
		t.Fatalf("error does not point at the stage: %s", v.Error)
	}
}

func TestPeek(t *testing.T) {
	spec, dir := writeSpec(t, filterSpec)
	code, out, errs := runCLI(t, "peek", spec, "--rows", "40")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "id (int64)  value (int64)  sensor (utf8)\n8           94             sensor-a\n19          97             sensor-d\n30          100            sensor-c\n38          93             sensor-c\n"
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}
	code, out, _ = runCLI(t, "peek", spec, "--rows", "2", "--after", "source", "--format", "json")
	if code != exitOK || out != `{"id":0,"sensor":"sensor-a","value":0}`+"\n"+`{"id":1,"sensor":"sensor-b","value":37}`+"\n" {
		t.Fatalf("exit %d, json:\n%s", code, out)
	}
	dst := filepath.Join(dir, "first.parquet")
	if code, _, errs := runCLI(t, "peek", spec, "--rows", "40", "--output", dst); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Fatalf("peek wrote the sink: %v", err)
	}
}

func TestPipelineUsageErrors(t *testing.T) {
	spec, _ := writeSpec(t, filterSpec)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "wasinfer: run: want exactly one PIPELINE.yaml argument, got 0\n"},
		{[]string{"run", spec, "--shard", "4/4"}, "wasinfer: --shard \"4/4\": want I/N with 0 <= I < N, e.g. --shard 0/4\n"},
		{[]string{"peek", spec, "--after", "nope"}, "wasinfer: --after \"nope\": no such stage (stages: keep_high; or source)\n"},
		{[]string{"peek", spec, "--format", "xml"}, "wasinfer: --format \"xml\": want table, json, csv, parquet or arrow\n"},
		{[]string{"peek", spec, "--format", "parquet"}, "wasinfer: --format parquet writes a binary file: give --output FILE\n"},
		{[]string{"validate", spec, "--rows", "0"}, "wasinfer: --rows 0: want at least 1\n"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errs := runCLI(t, c.args...)
			if code != exitUsage || errs != c.want {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2, stderr:\n%s", code, errs, c.want)
			}
		})
	}
}

func TestRunSetOverride(t *testing.T) {
	spec, _ := writeSpec(t, filterSpec)
	code, _, errs := runCLI(t, "run", spec, "--quiet", "--set", "keep_high.config={column: value, min: 1000}", "--set", "sink.path=empty/")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, _, errs = runCLI(t, "run", spec, "--set", "keep_high.batchsize=3")
	if code != exitFail || !strings.Contains(errs, `--set keep_high.batchsize=3: stages[0].batchsize: unknown key "batchsize" (did you mean "batch_size"?)`) {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// fmtSscanSummary reads `udf test`'s summary line from its stderr.
func fmtSscanSummary(stderr string, in, out, batches *int) (int, error) {
	i := strings.Index(stderr, ": ")
	if i < 0 {
		return 0, os.ErrInvalid
	}
	rest := stderr[strings.LastIndex(stderr, ".wasm: ")+len(".wasm: "):]
	return fmtSscanf(rest, "%d rows in, %d rows out, %d batches", in, out, batches)
}

var fmtSscanf = fmt.Sscanf

// TestRunResumesFromAnotherDirectory: the manifest does not depend on the
// working directory the run was started from.
func TestRunResumesFromAnotherDirectory(t *testing.T) {
	spec, dir := writeSpec(t, filterSpec)
	if code, _, errs := runCLI(t, "run", spec, "--quiet"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	t.Chdir(dir)
	code, out, errs := runCLI(t, "run", "pipeline.yaml", "--json")
	if code != exitOK {
		t.Fatalf("rerun from %s: exit %d: %s", dir, code, errs)
	}
	var sum struct {
		SplitsCommitted int `json:"splits_committed"`
		SplitsSkipped   int `json:"splits_skipped"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.SplitsCommitted != 0 || sum.SplitsSkipped == 0 {
		t.Fatalf("rerun did not skip the committed splits: %+v %v", sum, err)
	}
}
