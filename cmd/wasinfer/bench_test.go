package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/internal/bench"
)

// TestBenchQuick runs `wasinfer bench --quick` once, as make test does:
// every benchmark still runs and emits its key, with a number or an
// explicit null and the reason. No figure is checked against anything.
func TestBenchQuick(t *testing.T) {
	dir := t.TempDir()
	jsonPath, mdPath := filepath.Join(dir, "bench.json"), filepath.Join(dir, "BENCHMARKS.md")
	code, _, errs := runCLI(t, "bench", "--quick", "--quiet", "--root", "../..", "--json", jsonPath, "--out", mdPath)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Schema  string `json:"schema"`
		Quick   bool   `json:"quick"`
		Machine struct {
			Cores int `json:"cores"`
		} `json:"machine"`
		Results map[string]map[string]json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if rep.Schema != bench.Schema || !rep.Quick || rep.Machine.Cores < 1 {
		t.Fatalf("schema %q, quick %v, cores %d", rep.Schema, rep.Quick, rep.Machine.Cores)
	}
	if len(rep.Results) != len(bench.Keys()) {
		t.Errorf("%d results, want %d (one per key)", len(rep.Results), len(bench.Keys()))
	}
	md, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range bench.Keys() {
		res, ok := rep.Results[key]
		if !ok {
			t.Errorf("key %s missing", key)
			continue
		}
		var value *float64
		var reason, errMsg string
		if err := json.Unmarshal(res["value"], &value); err != nil {
			t.Errorf("%s: value %s: %v", key, res["value"], err)
		}
		if r, ok := res["reason"]; ok {
			_ = json.Unmarshal(r, &reason)
		}
		if e, ok := res["error"]; ok {
			_ = json.Unmarshal(e, &errMsg)
		}
		switch {
		case errMsg != "":
			t.Errorf("%s failed: %s", key, errMsg)
		case value == nil && reason == "":
			t.Errorf("%s: null value without a reason", key)
		case value != nil && reason != "":
			t.Errorf("%s: value %v and reason %q", key, *value, reason)
		}
		if !strings.Contains(string(md), "`"+key+"`") {
			t.Errorf("BENCHMARKS.md does not mention %s", key)
		}
	}
	if !strings.Contains(string(md), bench.NotesBegin) || !strings.Contains(string(md), bench.NotesEnd) {
		t.Fatal("BENCHMARKS.md has no notes section")
	}

	// Rendered again from the JSON after the notes were written by hand:
	// the same file, with the notes kept.
	notes := "## Hand-written\n\nThe pipeline is slow because *reasons*."
	before, rest, _ := strings.Cut(string(md), bench.NotesBegin)
	_, after, _ := strings.Cut(rest, bench.NotesEnd)
	edited := before + bench.NotesBegin + "\n" + notes + "\n" + bench.NotesEnd + after
	if err := os.WriteFile(mdPath, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "bench", "--root", "../..", "--from", jsonPath, "--out", mdPath)
	if code != exitOK {
		t.Fatalf("--from: exit %d: %s", code, errs)
	}
	again, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(bench.Notes(again)); got != notes {
		t.Errorf("notes after re-rendering: %q, want %q", got, notes)
	}
	outside := func(b []byte) string {
		before, rest, _ := strings.Cut(string(b), bench.NotesBegin)
		_, after, _ := strings.Cut(rest, bench.NotesEnd)
		return before + after
	}
	if outside(again) != outside(md) {
		t.Errorf("re-rendered BENCHMARKS.md differs outside the notes:\n%s", again)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	keys := strings.Join(bench.Keys(), ", ")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"bench", "extra"}, "wasinfer: bench: takes no arguments, got [\"extra\"]\n"},
		{[]string{"bench", "--only", "nope"}, "wasinfer: bench: --only \"nope\": no such key (keys: " + keys + ")\n"},
		{[]string{"bench", "--profile-time", "0s"}, "wasinfer: bench: --profile-time 0s: want a positive duration\n"},
		{[]string{"bench", "--from", "x.json", "--quick"}, "wasinfer: bench: --from renders a report without measuring: it takes no --quick\n"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, c.args...)
		if code != exitUsage || out != "" || errs != c.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stderr %q", c.args, code, out, errs, exitUsage, c.want)
		}
	}
}

func TestBenchNotACheckout(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := runCLI(t, "bench", "--quick", "--quiet", "--root", dir)
	want := "wasinfer: bench: " + dir + " is not a wasinfer checkout (no examples/digits/train/digits.onnx): run wasinfer bench inside one, or give --root\n"
	if code != exitFail || errs != want {
		t.Fatalf("exit %d, stderr %q; want exit 1, %q", code, errs, want)
	}
}

func TestBenchChildErrors(t *testing.T) {
	code, _, errs := runCLI(t, bench.ChildCommand, "startup")
	want := "wasinfer: bench: " + bench.ChildCommand + ": want MODE PIPELINE.yaml ORT_LIBRARY, got 1 arguments\n"
	if code != exitFail || errs != want {
		t.Fatalf("exit %d, stderr %q; want exit 1, %q", code, errs, want)
	}
}
