package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wasinfer/wasinfer/dataset"
)

// writeRowGroups writes groups row groups of rows rows each, column x =
// 0, 1, 2, ...: one split per row group.
func writeRowGroups(t *testing.T, path string, groups, rows int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(int64(rows))), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for g := range groups {
		for r := range rows {
			b.Append(int64(g*rows + r))
		}
		col := b.NewArray()
		rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(rows))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		col.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRunInterruptAndResume: SIGINT to a running `wasinfer run` stops it
// cleanly (exit 1, a message saying what was committed and what was not, no
// temporary files left), and running it again writes exactly the rows that
// were missing: every row once.
func TestRunInterruptAndResume(t *testing.T) {
	t0 := time.Now()
	cli := cliDir(t)
	bin := filepath.Join(cli, "wasinfer")
	dir := t.TempDir()
	const groups, rows = 40, 400
	writeRowGroups(t, filepath.Join(dir, "in.parquet"), groups, rows)
	root, _ := filepath.Abs("../..")
	spec := filepath.Join(dir, "pipeline.yaml")
	// The poison test UDF with no poisoned rows burns CPU per row (work), so
	// the run lasts long enough to be interrupted in the middle.
	body := fmt.Sprintf(`source: {format: parquet, paths: [in.parquet]}
stages:
  - udf: %s/scheduler/testdata/poison.wasm
    config: {column: x, every: 0, work: 30000}
    concurrency: 2
sink: {format: parquet, path: out/}
`, root)
	if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard, not a measurement
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "run", spec, "--quiet")
	cmd.Env = cliEnv(cli)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the first split is committed.
	manifests := filepath.Join(dir, "out", "_wasinfer")
	for {
		if ents, _ := os.ReadDir(manifests); len(ents) > 0 {
			if data, _ := os.ReadFile(filepath.Join(manifests, ents[0].Name())); bytes.Count(data, []byte("\n")) >= 1 {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatal("no split was committed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("first commit after %v", time.Since(t0))
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFail {
		t.Fatalf("interrupted run: %v (want exit 1); stderr:\n%s", err, stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "splits committed") || !strings.Contains(msg, "not committed") {
		t.Fatalf("the interrupted run does not say what it committed:\n%s", msg)
	}
	hidden, _ := filepath.Glob(filepath.Join(dir, "out", ".*"))
	if len(hidden) > 0 {
		t.Fatalf("temporary files left after the interrupt: %v", hidden)
	}

	t.Logf("interrupted run ended after %v", time.Since(t0))
	rerun := exec.CommandContext(ctx, bin, "run", spec, "--json")
	rerun.Env = cliEnv(cli)
	out, err := rerun.Output()
	t.Logf("rerun ended after %v", time.Since(t0))
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if !strings.Contains(string(out), `"splits_skipped": `) || strings.Contains(string(out), `"splits_skipped": 0,`) {
		t.Fatalf("the rerun did not skip the splits committed before the interrupt:\n%s", out)
	}

	// Every row exactly once.
	src, err := dataset.OpenStream(ctx, dataset.SourceSpec{Format: "parquet", Paths: []string{filepath.Join(dir, "out")}}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	seen := make([]int, groups*rows)
	for {
		rec, err := src.Read(ctx)
		if err != nil {
			break
		}
		for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
			seen[v]++
		}
		rec.Release()
	}
	for x, n := range seen {
		if n != 1 {
			t.Fatalf("row x=%d written %d times", x, n)
		}
	}
}
