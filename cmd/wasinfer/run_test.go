package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"wasinfer"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

const (
	normalizeC = "../../sdk/c/examples/normalize/normalize.wasm"
	filterC    = "../../sdk/c/examples/filter/filter.wasm"
	images     = "../../examples/quickstart/images.arrow"
	readings   = "../../examples/quickstart/readings.parquet"
)

func TestUDFTestPrintsTable(t *testing.T) {
	code, out, errs := runCLI(t, "udf", "test", filterC, "--input", readings, "--config", `{"column":"value","min":90}`, "--rows", "3")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "id (int64)  value (int64)  sensor (utf8)\n8           94             sensor-a\n19          97             sensor-d\n30          100            sensor-c\n"
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(errs, "filter.wasm: 200 rows in, 19 rows out, 2 batches") {
		t.Fatalf("stderr summary: %s", errs)
	}
}

func TestUDFTestWritesOutputAtomically(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "out.arrow")
	code, _, errs := runCLI(t, "udf", "test", normalizeC, "--input", images, "--output", dst)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Read it back through the identity of the same pipeline: 8 rows, two columns.
	code, out, errs := runCLI(t, "udf", "test", normalizeC, "--input", images, "--output", filepath.Join(dir, "missing-dir", "x.arrow"))
	if code != exitFail || out != "" || !strings.Contains(errs, "creating output") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "out.arrow" {
		t.Fatalf("output dir holds %v; want only out.arrow (no temp files)", entries)
	}
}

func TestCLIErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"udf", "test", normalizeC}, exitUsage, "wasinfer: udf test: --input FILE is required\n"},
		{[]string{"udf", "test", "--input", images}, exitUsage, "wasinfer: udf test: want exactly one MODULE.wasm argument, got 0\n"},
		{[]string{"udf", "test", "nope.wasm", "--input", images}, exitFail, "wasinfer: reading udf module: open nope.wasm: no such file or directory\n"},
		{[]string{"udf", "test", normalizeC, "--input", "data.csv"}, exitFail, "wasinfer: dataset: no input files: data.csv does not exist\n"},
		{[]string{"udf", "test", normalizeC, "--input", readings}, exitFail, `wasinfer: udf "normalize.wasm": batch 0: guest error (status UNSUPPORTED_INPUT): `},
		{[]string{"udf", "test", normalizeC, "--input", images, "--config", `{"std":[0]}`}, exitFail, `wasinfer: udf "normalize.wasm": init (status INVALID_CONFIG): `},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errs := runCLI(t, c.args...)
			if code != c.code || !strings.HasPrefix(errs, c.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d, stderr starting:\n%s", code, errs, c.code, c.want)
			}
		})
	}
}
