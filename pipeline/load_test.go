package pipeline

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestBrokenSpecs loads every spec under testdata/broken and compares the
// whole error with the .golden file beside it (go test -update rewrites
// them). Each golden error names the file, line and column of every problem.
func TestBrokenSpecs(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no broken specs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./pipeline -run TestBrokenSpecs -update)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestLoadOK(t *testing.T) {
	s, err := Load("testdata/ok/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Stages) != 1 || s.Stages[0].Name != "filter" {
		t.Fatalf("stages: %+v", s.Stages)
	}
	cfg, _ := json.Marshal(s.Stages[0].Config)
	if string(cfg) != `{"column":"value","min":90}` {
		t.Errorf("config = %s", cfg)
	}
	p, err := s.ResolvePath(s.Stages[0].UDF)
	if want := filepath.Join("..", "sdk", "c", "examples", "filter", "filter.wasm"); err != nil || p != want {
		t.Errorf("ResolvePath = %q, %v", p, err)
	}
}

func TestOverrides(t *testing.T) {
	s, err := Load("testdata/ok/minimal.yaml",
		"filter.batch_size=16", "filter.on_error.retries=3", "run.ordered=true",
		"source.batch_size=100", "filter.config={column: id, min: 5}", "stages[0].timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stages[0]
	if st.BatchSize != 16 || st.OnError.Retries == nil || *st.OnError.Retries != 3 || !s.Run.Ordered || s.Source.BatchSize != 100 || st.Timeout.D().Seconds() != 5 {
		t.Fatalf("overrides not applied: %+v %+v", st, s.Run)
	}
	if cfg, _ := json.Marshal(st.Config); string(cfg) != `{"column":"id","min":5}` {
		t.Errorf("config = %s", cfg)
	}
}

func TestOverrideErrors(t *testing.T) {
	_, err := Load("testdata/ok/minimal.yaml", "nosuch.batch_size=1", "filter.batchsize=2", "filter.batch_size=abc", "run", "filter=3", "filter.name.x=1")
	want := `6 problems:
--set nosuch.batch_size=1: no stage is named "nosuch" (stages: filter; or use source, sink, run)
--set filter.batchsize=2: stages[0].batchsize: unknown key "batchsize" (did you mean "batch_size"?)
--set filter.batch_size=abc: stages[0].batch_size: want an integer, got the string "abc"
--set run: want target.key=value (target: source, sink, run or a stage name), e.g. --set ocr_det.batch_size=8
--set filter=3: want target.key=value: "filter" names no setting (e.g. filter.batch_size=8)
--set filter.name.x=1: stages[0].name: stages[0].name is a single setting: it has no key "x"`
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestSchemaInSync(t *testing.T) {
	got, err := json.MarshalIndent(JSONSchema(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const file = "pipeline.schema.json"
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil || string(want) != string(got) {
		t.Fatalf("%s is out of date with the Go types: run go test ./pipeline -run TestSchemaInSync -update (%v)", file, err)
	}
}
