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

func TestConfigFileTags(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dict.txt"), []byte("a\nb\r\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "note.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WASINFER_TEST_DICT_DIR", dir)
	spec := specIn(t, dir, `source: {format: parquet, paths: [$ROOT/examples/quickstart/readings.parquet]}
stages:
  - udf: $ROOT/sdk/c/examples/identity/identity.wasm
    config:
      dictionary: [!lines dict.txt, " "]
      all: !lines ${WASINFER_TEST_DICT_DIR}/dict.txt
      note: !file note.txt
sink: {format: parquet, path: out/}
`)
	s, err := Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(s.Stages[0].Config)
	if want := `{"all":["a","b","c"],"dictionary":["a","b","c"," "],"note":"hello\n"}`; string(got) != want {
		t.Fatalf("config = %s, want %s", got, want)
	}
}

func TestConfigFileTagErrors(t *testing.T) {
	dir := t.TempDir()
	spec := specIn(t, dir, `source: {format: parquet, paths: [$ROOT/examples/quickstart/readings.parquet]}
stages:
  - udf: !file $ROOT/sdk/c/examples/identity/identity.wasm
    config:
      a: !lines missing.txt
      b: !include x.yaml
sink: {format: parquet, path: out/}
`)
	_, err := Load(spec)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"pipeline.yaml:3:10: stages[0].udf: YAML tag !file is for config values only (!file and !lines)",
		"pipeline.yaml:5:10: stages[0].config.a: !lines missing.txt: stat " + filepath.Join(dir, "missing.txt") + ": no such file or directory",
		"pipeline.yaml:6:10: stages[0].config.b: unknown YAML tag !include (config values take !file PATH, the file's text, and !lines PATH, its lines)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestResolvePathDefaults(t *testing.T) {
	s := &Spec{dir: "/base"}
	t.Setenv("WASINFER_TEST_SET", "/set")
	t.Setenv("WASINFER_TEST_EMPTY", "")
	home, _ := os.UserHomeDir()
	for in, want := range map[string]string{
		"${WASINFER_TEST_SET:-/def}/m.onnx":     "/set/m.onnx",
		"${WASINFER_TEST_UNSET_X:-/def}/m.onnx": "/def/m.onnx",
		"${WASINFER_TEST_EMPTY:-~/.cache}/m":    filepath.Join(home, ".cache", "m"),
		"${WASINFER_TEST_UNSET_X:-rel}/m.onnx":  "/base/rel/m.onnx",
		"$WASINFER_TEST_SET/a":                  "/set/a",
		"models/a.onnx":                         "/base/models/a.onnx",
	} {
		got, err := s.ResolvePath(in)
		if err != nil || got != want {
			t.Errorf("ResolvePath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := s.ResolvePath("${WASINFER_TEST_UNSET_X}/a"); err == nil || err.Error() != "$WASINFER_TEST_UNSET_X is not set in the environment (set it, or write the path out)" {
		t.Errorf("unset: %v", err)
	}
}
