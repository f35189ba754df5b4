package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

// probeManifest is a sidecar manifest for the host corpus's grant_probe
// that declares the env and files capabilities.
const probeManifest = `{
  "name": "grant_probe",
  "version": "1.0.0",
  "description": "reports the environment and a file under its first preopen",
  "license": "Apache-2.0",
  "abi": "v1",
  "language": "wat",
  "inputs": [{"name": "value", "type": "float64", "nullable": true}],
  "outputs": [{"name": "value", "type": "float64", "nullable": true}],
  "config": {"schema": {"type": "object", "additionalProperties": false, "properties": {}}},
  "capabilities": ["env", "files"],
  "resources": {"memory_bytes": 2097152, "ns_per_row": 2000}
}
`

// grantProbeIn copies grant_probe.wasm and its manifest into dir.
func grantProbeIn(t *testing.T, dir string) {
	t.Helper()
	wasm, err := os.ReadFile("../host/testdata/guests/grant_probe.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "grant_probe.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "grant_probe.manifest.json"), []byte(probeManifest), 0o644); err != nil {
		t.Fatal(err)
	}
}

const grantSpec = `
source:
  format: parquet
  paths: [$ROOT/examples/quickstart/readings.parquet]
stages:
  - name: probe
    udf: grant_probe.wasm
    concurrency: 1
%GRANT%
sink:
  format: parquet
  path: out/
`

// TestGrantManifestCapabilities: a module whose manifest declares
// capabilities the stage does not grant is refused, naming each and how
// to grant it.
func TestGrantManifestCapabilities(t *testing.T) {
	dir := t.TempDir()
	grantProbeIn(t, dir)
	spec := specIn(t, dir, strings.Replace(grantSpec, "%GRANT%", "    grant: {clock: true}", 1))
	_, err := openPeek(t, spec)
	if err == nil {
		t.Fatal("opened a module whose capabilities are not granted")
	}
	for _, want := range []string{
		"pipeline.yaml:9:5: stages[0].grant: module grant_probe declares capabilities the stage does not grant",
		"env (grant it with grant: {env: [NAME, ...]})",
		"files (grant it with grant: {files: [{path: DIR, mount: /dir}]})",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "clock (") {
		t.Errorf("error %q names the granted clock", err)
	}
}

// TestGrantEndToEnd opens a pipeline whose UDF is granted an environment
// variable and a directory, and sends a batch through it: the probe reports
// the variable's value from the environment of the run and the file's bytes.
func TestGrantEndToEnd(t *testing.T) {
	dir := t.TempDir()
	grantProbeIn(t, dir)
	if err := os.MkdirAll(filepath.Join(dir, "data", "lookup"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "lookup", "data.txt"), []byte("from the spec's dir"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WASINFER_GRANT_TEST", "granted value")
	t.Setenv("WASINFER_GRANT_OTHER", "not granted")
	spec := specIn(t, dir, strings.Replace(grantSpec, "%GRANT%", `    grant:
      env: WASINFER_GRANT_TEST
      files:
        - path: data/lookup
          mount: /lookup`, 1))
	j, err := openPeek(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	b.AppendValues([]float64{1, 2}, nil)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil), []arrow.Array{col}, 2)
	defer rec.Release()
	_, err = j.Stages[0].Stage.Transform(context.Background(), 0, rec)
	var ue *host.UDFError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want the probe's report", err)
	}
	t.Logf("probe saw: %s", ue.Message)
	for _, want := range []string{
		"environ errno=0 count=1 env=WASINFER_GRANT_TEST=granted value;;",
		"read data.txt errno=0 bytes=from the spec's dir;",
	} {
		if !strings.Contains(ue.Message, want) {
			t.Errorf("report %q lacks %q", ue.Message, want)
		}
	}
	if strings.Contains(ue.Message, "create new.txt errno=0;") {
		t.Errorf("report %q: the create succeeded under a read-only mount", ue.Message)
	}
}
