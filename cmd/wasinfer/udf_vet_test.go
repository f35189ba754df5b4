package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/manifest"
)

var rewriteVet = flag.Bool("rewrite-vet", false, "rewrite testdata/udf_vet_argmax.golden")

const (
	argmaxUDF   = "../../udfs/argmax/argmax.wasm"
	vetGolden   = "testdata/udf_vet_argmax.golden"
	trapOnNulls = "../../vet/testdata/trap_on_null.wasm"
)

// volatile matches what varies from run to run (the time per row) or with
// every rebuild of the module (its digest and sizes).
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b\d+ ns/row\b`), "N ns/row"},
	{regexp.MustCompile(`sha256 [0-9a-f]{64}`), "sha256 …"},
	{regexp.MustCompile(`\b\d+ bytes, sha256`), "N bytes, sha256"},
	{regexp.MustCompile(`ABI v1, [0-9.]+ KiB`), "ABI v1, N KiB"},
}

func TestUDFVetGolden(t *testing.T) {
	code, out, errs := runCLI(t, "udf", "vet", argmaxUDF, "--sweep", "small")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	got := out
	for _, v := range volatile {
		got = v.re.ReplaceAllString(got, v.with)
	}
	if *rewriteVet {
		if err := os.WriteFile(vetGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(vetGolden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("stdout:\n%s\nwant (%s; -rewrite-vet after rebuilding argmax):\n%s", got, vetGolden, want)
	}
}

func TestUDFVetJSON(t *testing.T) {
	code, out, errs := runCLI(t, "udf", "vet", argmaxUDF, "--sweep", "small", "--json")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	var r struct {
		Module string
		Passed bool
		Checks []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if r.Module != "argmax" || !r.Passed || len(r.Checks) != 7 || r.Checks[6].Name != "resources" || r.Checks[6].Status != "pass" {
		t.Fatalf("report %+v", r)
	}
}

// lyingManifest writes the embedded manifest of argmax, changed by edit,
// to a file in dir and returns its path.
func editedManifest(t *testing.T, dir string, edit func(m map[string]any)) string {
	t.Helper()
	wasm, err := os.ReadFile(argmaxUDF)
	if err != nil {
		t.Fatal(err)
	}
	data, err := manifest.Extract(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ := json.Marshal(m)
	path := filepath.Join(dir, "edited.manifest.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// trapModule copies trap_on_null.wasm into dir with a sidecar manifest and
// a vector, as a user would ship a module without an embedded manifest.
func trapModule(t *testing.T, dir string) string {
	t.Helper()
	wasm, err := os.ReadFile(trapOnNulls)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "trap.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	mk := func(cols ...[]int64) []byte {
		var fields []arrow.Field
		var arrs []arrow.Array
		for i, v := range cols {
			b := array.NewInt64Builder(mem)
			b.AppendValues(v, nil)
			arrs = append(arrs, b.NewArray())
			b.Release()
			fields = append(fields, arrow.Field{Name: []string{"x", "y"}[i], Type: arrow.PrimitiveTypes.Int64, Nullable: true})
		}
		rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(len(cols[0])))
		defer rec.Release()
		for _, a := range arrs {
			a.Release()
		}
		var buf bytes.Buffer
		w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(rec.Schema()))
		if err == nil {
			err = w.Write(rec)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	man := `{"name":"trap","version":"0.1.0","description":"doubles x; traps on a null","license":"MIT","abi":"v1","language":"c",
"inputs":[{"name":"x","type":"int64","nullable":true}],"outputs":[{"name":"y","type":"int64","nullable":true}],
"capabilities":[],"resources":{"memory_bytes":16777216,"ns_per_row":100000},
"vectors":[{"input":"` + manifest.DataURI(mk([]int64{1, 2})) + `","output":"` + manifest.DataURI(mk([]int64{1, 2}, []int64{2, 4})) + `"}]}`
	if err := os.WriteFile(manifest.SidecarPath(path), []byte(man), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUDFVetFailures(t *testing.T) {
	dir := t.TempDir()
	lying := editedManifest(t, dir, func(m map[string]any) { m["capabilities"] = []string{"clock"} })
	mismatchDir := t.TempDir()
	mismatch := editedManifest(t, mismatchDir, func(m map[string]any) {
		v := m["vectors"].([]any)
		v[1].(map[string]any)["output"] = v[0].(map[string]any)["output"]
	})
	trap := trapModule(t, t.TempDir())
	cases := []struct {
		name   string
		args   []string
		stdout []string // lines the report has
		stderr string
	}{
		{"capabilities lie", []string{argmaxUDF, "--manifest", lying},
			[]string{"manifest: " + lying + "; sweep: small", "FAIL capabilities declared: clock; the imports disagree",
				"     declares clock but imports no clock function (clock_res_get, clock_time_get, poll_oneoff): it cannot use it; remove it from capabilities",
				"not vetted: 1 of 7 checks did not pass"},
			"wasinfer: " + argmaxUDF + ": not vetted: 1 of 7 checks did not pass\n"},
		{"vector mismatch", []string{argmaxUDF, "--manifest", mismatch},
			[]string{"FAIL vectors      1 of 3 vectors failed", "PASS robustness"},
			"wasinfer: " + argmaxUDF + ": not vetted: 1 of 7 checks did not pass\n"},
		{"trap on nulls", []string{trap},
			[]string{"manifest: sidecar " + manifest.SidecarPath(trap) + "; sweep: small", "PASS vectors      1 vectors (1 batches) passed, bit-exact",
				"FAIL robustness   2 of 10 sweep batches failed", `     sweep typical/nulls (16 rows): udf "trap": batch 3: trap: wasm error: unreachable`},
			"wasinfer: " + trap + ": not vetted: "},
		{"no manifest", []string{"../../vet/testdata/counter.wasm"},
			[]string{"FAIL manifest     manifest: module has no wasinfer.manifest section, and there is no sidecar ../../vet/testdata/counter.manifest.json: embed one (go run ./manifest/cmd/embed) or write the sidecar",
				"SKIP vectors      not run: the manifest check failed", "not vetted: 6 of 7 checks did not pass"},
			"wasinfer: ../../vet/testdata/counter.wasm: not vetted: 6 of 7 checks did not pass\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"udf", "vet", "--sweep", "small"}, c.args...)...)
			if code != exitFail || !strings.HasPrefix(errs, c.stderr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 1, stderr starting:\n%s", code, errs, c.stderr)
			}
			lines := strings.Split(out, "\n")
			for _, want := range c.stdout {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("no line starting %q in:\n%s", want, out)
				}
			}
		})
	}
}

func TestUDFVetTampered(t *testing.T) {
	wasm, err := os.ReadFile(argmaxUDF)
	if err != nil {
		t.Fatal(err)
	}
	secs, err := manifest.Sections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var code, man manifest.Section
	for _, s := range secs {
		switch {
		case s.ID == 10:
			code = s
		case s.ID == 0 && s.Name == manifest.SectionName:
			man = s
		}
	}
	dir := t.TempDir()
	flip := func(name string, at int) string {
		b := bytes.Clone(wasm)
		b[at] ^= 0x01
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct{ path, want string }{
		// A flipped byte in the middle of the code: refused by the compiler,
		// or run and caught by the code digest.
		{flip("code.wasm", code.Start+len(code.Payload)/2), "FAIL "},
		{flip("manifest.wasm", man.End-20), "FAIL manifest     manifest: manifest section does not match its digest: the wasinfer.manifest section (byte "},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, "udf", "vet", "--sweep", "small", c.path)
		if code != exitFail || !strings.Contains(out, c.want) || !strings.Contains(errs, "not vetted") {
			t.Errorf("%s: exit %d, stdout:\n%s\nstderr: %s", c.path, code, out, errs)
		}
		if c.path == cases[0].path && !strings.Contains(out, "code_sha256") && !strings.Contains(out, "FAIL admission") {
			t.Errorf("%s: neither admission nor the code digest failed:\n%s", c.path, out)
		}
	}
}

func TestUDFVetUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"udf", "vet"}, exitUsage, "wasinfer: udf vet: want exactly one MODULE.wasm argument, got 0\n"},
		{[]string{"udf", "vet", argmaxUDF, "--sweep", "huge"}, exitUsage, "wasinfer: udf vet: --sweep \"huge\": want full or small\n"},
		{[]string{"udf", "vet", argmaxUDF, "--time-factor", "0.5"}, exitUsage, "wasinfer: udf vet: --time-factor 0.5: want at least 1\n"},
		{[]string{"udf", "vet", "nope.wasm"}, exitFail, "wasinfer: reading udf module: open nope.wasm: no such file or directory\n"},
		{[]string{"udf", "vet", argmaxUDF, "--manifest", "nope.json"}, exitFail, "wasinfer: reading manifest: open nope.json: no such file or directory\n"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, c.args...)
		if code != c.code || errs != c.want || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit %d, stderr:\n%s", c.args, code, out, errs, c.code, c.want)
		}
	}
}
