package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// The keys are part of the JSON contract: other tools track them.
func TestKeysStable(t *testing.T) {
	want := []string{
		"abi_identity_vs_memcpy", "abi_empty_batch_us",
		"udf_c_vs_native", "udf_rust_vs_native", "udf_go_vs_native", "udf_as_vs_native",
		"executor_overhead", "pipeline_vs_bare_ort", "pipeline_vs_bare_ort_binary_layout", "startup_cold_ms", "startup_warm_ms",
		"rss_growth_10x", "pool_scaling", "wasm_deadline_overhead", "wasinfer_vs_python",
	}
	if got := Keys(); !slices.Equal(got, want) {
		t.Fatalf("Keys() = %q\nwant %q", got, want)
	}
}

func TestSummarize(t *testing.T) {
	cases := []struct {
		in   []float64
		want summary
	}{
		{[]float64{3}, summary{Spread{3, 3, 3, 3}, 3}},
		{[]float64{4, 1, 3, 2}, summary{Spread{1, 1.75, 3.25, 4}, 2.5}},
		{[]float64{5, 1, 4, 2, 3}, summary{Spread{1, 2, 4, 5}, 3}},
	}
	for _, c := range cases {
		if got := summarize(c.in); got != c.want {
			t.Errorf("summarize(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestTargets(t *testing.T) {
	cases := []struct {
		t    *Target
		v    float64
		want bool
	}{
		{atLeast(0.4, ""), 0.4, true},
		{atLeast(0.4, ""), 0.39, false},
		{atMost(1.1, ""), 1.1, true},
		{atMost(1.1, ""), 1.2, false},
		{below(5, ""), 4.9, true},
		{below(5, ""), 5, false},
	}
	for _, c := range cases {
		if got := c.t.holds(c.v); got != c.want {
			t.Errorf("%s %v holds(%v) = %v", c.t.Op, c.t.Value, c.v, got)
		}
	}
}

func TestResultStatus(t *testing.T) {
	r := &Result{Unit: "x", Target: atLeast(0.9, "≥ 0.9")}
	if r.Status() != "not measured" || r.ValueText() != "null" {
		t.Fatalf("empty: %s %s", r.Status(), r.ValueText())
	}
	r.setSamples([]float64{0.5, 0.7, 0.6})
	if r.Status() != "MISSED" || *r.Value != 0.6 || r.Repetitions != 3 || r.Spread.Min != 0.5 || r.Spread.Max != 0.7 {
		t.Fatalf("missed: %s %+v", r.Status(), r)
	}
	r.setSamples([]float64{1, 1})
	if r.Status() != "met" || r.ValueText() != "1.000×" {
		t.Fatalf("met: %s %s", r.Status(), r.ValueText())
	}
	r = &Result{Unit: "ms"}
	r.setValue(1234.5)
	if r.Status() != "no target" || r.ValueText() != "1234 ms" {
		t.Fatalf("no target: %s %s", r.Status(), r.ValueText())
	}
	r.Error = "boom"
	if r.Status() != "FAILED" {
		t.Fatal(r.Status())
	}
}

// TestInterleave: one warm-up round, then the sides alternate.
func TestInterleave(t *testing.T) {
	var order []string
	side := func(name string, v float64) func() (float64, error) {
		return func() (float64, error) { order = append(order, name); return v, nil }
	}
	got, err := interleave(context.Background(), 2, side("a", 1), side("b", 2))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "a", "b", "a", "b"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if !slices.Equal(got[0], []float64{1, 1}) || !slices.Equal(got[1], []float64{2, 2}) {
		t.Fatalf("figures %v", got)
	}
	order = nil
	if _, err := rounds(context.Background(), false, 1, side("a", 1), side("b", 2)); err != nil || len(order) != 2 {
		t.Fatalf("without warm-up: %v %v", order, err)
	}
	boom := errors.New("boom")
	_, err = interleave(context.Background(), 3, side("a", 1), func() (float64, error) { return 0, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := interleave(ctx, 3, side("a", 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}

func testReport() *Report {
	met := &Result{Key: "abi_empty_batch_us", Title: "Fixed cost of an empty batch", Unit: "µs", Target: below(5, "< 5 µs"),
		Measures: "what it measures", Details: map[string]any{"calls": 100, "sizes": map[string]any{
			"64KiB": map[string]any{"ratio": 0.5}, "1MiB": map[string]any{"ratio": 0.25}, "1KiB": map[string]any{"ratio": 0.125}}}}
	met.setSamples([]float64{1, 2, 3})
	missed := &Result{Key: "pipeline_vs_bare_ort", Title: "Pipeline | bare", Unit: "x", Target: atLeast(0.9, "≥ 0.9"), Note: "missed: because"}
	missed.setSamples([]float64{0.5})
	return &Report{
		Schema: Schema, Command: "wasinfer bench", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Machine: Machine{CPUModel: "Test CPU", Cores: 2, MemoryBytes: 4 << 30, GoVersion: "go1.26", Kernel: "6.1", OS: "linux", Arch: "amd64", LoadStart: 3, LoadEnd: 0.5},
		Results: map[string]*Result{
			met.Key:              met,
			missed.Key:           missed,
			"wasinfer_vs_python": {Key: "wasinfer_vs_python", Title: "Python", Unit: "x", Reason: pythonMissing},
			"pool_scaling":       {Key: "pool_scaling", Title: "Scaling", Unit: "x", Error: "bench: exploded\nbadly"},
		},
	}
}

// TestMarkdownKeepsNotes: the hand-written section survives a rewrite,
// word for word; everything else is generated.
func TestMarkdownKeepsNotes(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/gpu", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/gpu/BENCHMARKS-gpu.md", []byte("# gpu/ figures\n\n```sh\n# not a heading\n```\n\n## Pool\n\ntext\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := testReport()
	var first bytes.Buffer
	if err := rep.WriteMarkdown(&first, nil, dir); err != nil {
		t.Fatal(err)
	}
	if got := string(Notes(first.Bytes())); got != strings.TrimSpace(defaultNotes) {
		t.Fatalf("default notes %q", got)
	}
	notes := "## Analysis\n\nThe pipeline | is slow because *reasons*.\n"
	edited := strings.Replace(first.String(), strings.TrimSpace(defaultNotes), notes, 1)
	var second bytes.Buffer
	if err := rep.WriteMarkdown(&second, []byte(edited), dir); err != nil {
		t.Fatal(err)
	}
	if got := string(Notes(second.Bytes())); got != strings.TrimSpace(notes) {
		t.Fatalf("notes after a rewrite: %q, want %q", got, notes)
	}
	md := second.String()
	for _, want := range []string{
		"```sh\nwasinfer bench\n```",
		"**Test CPU, 2 cores, 4.0 GiB RAM, linux/amd64 6.1, go1.26**",
		"**the machine was shared with other work during the run**",
		"| `abi_empty_batch_us` | Fixed cost of an empty batch | 2.000 µs | < 5 µs | met | [1.000 – 3.000], IQR 1.500 – 2.500, n=3 |",
		"| `pipeline_vs_bare_ort` | Pipeline \\| bare | 0.500× | ≥ 0.9 | **MISSED** |",
		"- `pipeline_vs_bare_ort` (0.500×): missed: because",
		"- `wasinfer_vs_python` (null): not measured: python3 with onnxruntime, numpy and pyarrow not available.",
		"- `pool_scaling` (null): failed: bench: exploded badly",
		"| 1KiB | 0.125 |\n| 64KiB | 0.500 |\n| 1MiB | 0.250 |",
		"### From `gpu/BENCHMARKS-gpu.md`\n\n#### gpu/ figures\n\n```sh\n# not a heading\n```\n\n##### Pool\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, md)
		}
	}
}

// TestJSONFields: the field names of the JSON document, which the package
// documentation promises.
func TestJSONFields(t *testing.T) {
	var b bytes.Buffer
	if err := testReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "command", "quick", "started", "seconds", "machine", "ort_library", "ort_version", "results"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q", k)
		}
	}
	var results map[string]map[string]json.RawMessage
	if err := json.Unmarshal(doc["results"], &results); err != nil {
		t.Fatal(err)
	}
	r := results["abi_empty_batch_us"]
	for _, k := range []string{"key", "title", "value", "unit", "target", "met", "median", "spread", "repetitions", "measures", "details", "seconds"} {
		if _, ok := r[k]; !ok {
			t.Errorf("result has no %q", k)
		}
	}
	if got := string(results["wasinfer_vs_python"]["value"]); got != "null" {
		t.Errorf("unmeasured value %s, want null", got)
	}
	var spread bytes.Buffer
	if err := json.Compact(&spread, r["spread"]); err != nil || spread.String() != `{"min":1,"q1":1.5,"q3":2.5,"max":3}` {
		t.Errorf("spread %s", r["spread"])
	}
}

// TestRunOne measures one real, cheap key end to end through Run.
func TestRunOne(t *testing.T) {
	rep, err := Run(context.Background(), WithQuick(true), WithOnly("abi_empty_batch_us"), WithRoot("../.."))
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results["abi_empty_batch_us"]
	if len(rep.Results) != 1 || r == nil || r.Error != "" || r.Value == nil || r.Repetitions != quickParams.reps {
		t.Fatalf("results %+v", rep.Results)
	}
}

func TestRunErrors(t *testing.T) {
	_, err := Run(context.Background(), WithOnly("nope"), WithRoot("../.."))
	if err == nil || !strings.HasPrefix(err.Error(), `bench: unknown key "nope" (keys: abi_identity_vs_memcpy, `) {
		t.Fatalf("unknown key: %v", err)
	}
	dir := t.TempDir()
	_, err = Run(context.Background(), WithRoot(dir))
	want := "bench: " + dir + " is not a wasinfer checkout (no examples/digits/train/digits.onnx): run wasinfer bench inside one, or give --root"
	if err == nil || err.Error() != want {
		t.Fatalf("not a checkout: %v", err)
	}
}

func TestChildErrors(t *testing.T) {
	ctx := context.Background()
	if err := Child(ctx, []string{"startup"}, nil); err == nil || err.Error() != "bench: bench-child: want MODE PIPELINE.yaml ORT_LIBRARY, got 1 arguments" {
		t.Fatalf("arguments: %v", err)
	}
	if err := Child(ctx, []string{"dance", "p.yaml", ""}, nil); err == nil || err.Error() != `bench: bench-child: unknown mode "dance" (want startup or rss)` {
		t.Fatalf("mode: %v", err)
	}
}

func TestDemote(t *testing.T) {
	got := string(demote([]byte("# a\ntext # not\n```\n# code\n```\n## b\n")))
	want := "#### a\ntext # not\n```\n# code\n```\n##### b\n"
	if got != want {
		t.Fatalf("demote: %q, want %q", got, want)
	}
}
