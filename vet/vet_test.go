package vet

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero"

	"github.com/wasinfer/wasinfer/manifest"
)

// cache is shared by the tests: each module compiles once per engine.
var cache = wazero.NewCompilationCache()

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vetModule vets wasm with the small sweep and a leak-checked allocator.
func vetModule(t *testing.T, wasm []byte, opts ...Option) *Report {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts = append([]Option{WithSweep(SweepSmall), WithCompilationCache(cache), WithAllocator(mem)}, opts...)
	r, err := Module(context.Background(), wasm, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func reportText(r *Report) string {
	var b strings.Builder
	_ = r.WriteText(&b, TextOptions{})
	return b.String()
}

// expectFail checks that check name failed, that every other check has the
// status in others (default pass), and that its detail or notes contain
// want.
func expectFail(t *testing.T, r *Report, name, want string) {
	t.Helper()
	if r.Passed {
		t.Fatalf("passed:\n%s", reportText(r))
	}
	c := r.Check(name)
	if c == nil || c.Status != Fail {
		t.Fatalf("check %s did not fail:\n%s", name, reportText(r))
	}
	all := c.Detail + "\n" + strings.Join(c.Notes, "\n")
	if !strings.Contains(all, want) {
		t.Fatalf("check %s: %q does not contain %q", name, all, want)
	}
}

const argmaxPath = "../udfs/argmax/argmax.wasm"

// embedded returns the manifest embedded in a library module, decoded as
// JSON for editing.
func embedded(t *testing.T, path string) (wasm []byte, m map[string]any) {
	t.Helper()
	wasm = readFile(t, path)
	data, err := manifest.Extract(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return wasm, m
}

func marshal(t *testing.T, m any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLibraryModulePasses(t *testing.T) {
	wasm := readFile(t, argmaxPath)
	r := vetModule(t, wasm, WithPath(argmaxPath))
	if !r.Passed {
		t.Fatalf("not vetted:\n%s", reportText(r))
	}
	if r.Module != "argmax" || r.ManifestSource != "embedded" || len(r.Checks) != len(CheckNames) {
		t.Fatalf("report %+v", r)
	}
	for i, c := range r.Checks {
		if c.Name != CheckNames[i] || c.Status != Pass {
			t.Fatalf("check %d: %+v", i, c)
		}
	}
	if r.Check(CheckResources).Metrics["peak_memory_bytes"] <= 0 {
		t.Fatalf("no peak memory measured: %+v", r.Check(CheckResources))
	}
}

func TestCapabilitiesLie(t *testing.T) {
	wasm, m := embedded(t, argmaxPath)
	m["capabilities"] = []string{"clock"}
	r := vetModule(t, wasm, WithManifest(marshal(t, m), "lying.json"))
	expectFail(t, r, CheckCapabilities, "declares clock but imports no clock function (clock_res_get, clock_time_get, poll_oneoff): it cannot use it; remove it from capabilities")
	if r.ManifestSource != "lying.json" || r.Check(CheckVectors).Status != Pass {
		t.Fatalf("report:\n%s", reportText(r))
	}
}

func TestVectorMismatch(t *testing.T) {
	wasm, m := embedded(t, argmaxPath)
	vecs := m["vectors"].([]any)
	// Expect vector 1's output for vector 2's input.
	vecs[1].(map[string]any)["output"] = vecs[0].(map[string]any)["output"]
	r := vetModule(t, wasm, WithManifest(marshal(t, m), "mismatch.json"))
	expectFail(t, r, CheckVectors, "a [2, 2] tensor, renamed outputs: output differs from the expected output: ")
	if got := r.Check(CheckVectors).Detail; got != "1 of 3 vectors failed" {
		t.Fatalf("detail %q", got)
	}
}

func TestVectorTolerance(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	mk := func(v float32) arrow.RecordBatch {
		b := array.NewFloat32Builder(mem)
		defer b.Release()
		b.AppendValues([]float32{1, v}, nil)
		a := b.NewArray()
		defer a.Release()
		return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "p", Type: arrow.PrimitiveTypes.Float32}}, nil), []arrow.Array{a}, 2)
	}
	got, want := mk(0.5), mk(0.5001)
	defer got.Release()
	defer want.Release()
	if err := equalBatches(got, want, nil); err == nil || err.Error() != `column "p", row 1: got 0.5 (0x3f000000), want 0.5001 (0x3f00068e)` {
		t.Fatalf("exact: %v", err)
	}
	if err := equalBatches(got, want, &manifest.Tolerance{Abs: 1e-3}); err != nil {
		t.Fatalf("abs 1e-3: %v", err)
	}
	err := equalBatches(got, want, &manifest.Tolerance{Rel: 1e-6})
	if err == nil || !strings.HasPrefix(err.Error(), `column "p", row 1: got 0.5, want 0.5001000165939331 (difference 0.0001, tolerance abs 0 rel 1e-06)`) {
		t.Fatalf("rel 1e-6: %v", err)
	}
}

// writeIPC writes recs as an Arrow IPC file in dir.
func writeIPC(t *testing.T, dir, name string, recs ...arrow.RecordBatch) {
	t.Helper()
	var buf bytes.Buffer
	w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(recs[0].Schema()))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// int64Batch makes a batch of int64 columns named names, nullable as
// nullable says.
func int64Batch(mem memory.Allocator, names []string, nullable []bool, cols ...[]int64) arrow.RecordBatch {
	var fields []arrow.Field
	var arrs []arrow.Array
	rows := 0
	for i, name := range names {
		b := array.NewInt64Builder(mem)
		b.AppendValues(cols[i], nil)
		arrs = append(arrs, b.NewArray())
		b.Release()
		fields = append(fields, arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int64, Nullable: nullable[i]})
		rows = len(cols[i])
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// testManifest is a manifest for the modules of vet/testdata: input x
// (int64, nullable), output y or n (int64), one vector from dir.
func testManifest(name, output string, nullable bool) []byte {
	m := map[string]any{
		"name": name, "version": "0.1.0", "description": "a test module", "license": "MIT", "abi": "v1", "language": "c",
		"inputs":       []any{map[string]any{"name": "x", "type": "int64", "nullable": nullable}},
		"outputs":      []any{map[string]any{"name": output, "type": "int64", "nullable": true}},
		"capabilities": []any{},
		"resources":    map[string]any{"memory_bytes": 16 << 20, "ns_per_row": 100000},
		"vectors":      []any{map[string]any{"input": "in.arrow", "output": "out.arrow"}},
	}
	b, _ := json.Marshal(m)
	return b
}

func TestTrapOnNulls(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	in := int64Batch(mem, []string{"x"}, []bool{true}, []int64{1, 2, 3})
	out := int64Batch(mem, []string{"x", "y"}, []bool{true, true}, []int64{1, 2, 3}, []int64{2, 4, 6})
	writeIPC(t, dir, "in.arrow", in)
	writeIPC(t, dir, "out.arrow", out)
	in.Release()
	out.Release()
	wasm := readFile(t, "testdata/trap_on_null.wasm")
	r := vetModule(t, wasm, WithManifest(testManifest("trap_on_null", "y", true), "trap.json"), WithVectorDir(os.DirFS(dir)))
	expectFail(t, r, CheckRobustness, `sweep typical/nulls (16 rows): udf "trap_on_null": batch 3: trap`)
	if r.Check(CheckVectors).Status != Pass {
		t.Fatalf("report:\n%s", reportText(r))
	}
	// Declared not nullable, the sweep sends no nulls: the same module passes.
	r = vetModule(t, wasm, WithManifest(testManifest("trap_on_null", "y", false), "trap.json"), WithVectorDir(os.DirFS(dir)))
	if !r.Passed {
		t.Fatalf("not vetted:\n%s", reportText(r))
	}
}

func TestNondeterminism(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	in := int64Batch(mem, []string{"x"}, []bool{true}, []int64{1, 2})
	out := int64Batch(mem, []string{"x", "n"}, []bool{true, false}, []int64{1, 2}, []int64{1, 1})
	writeIPC(t, dir, "in.arrow", in)
	writeIPC(t, dir, "out.arrow", out)
	in.Release()
	out.Release()
	wasm := readFile(t, "testdata/counter.wasm")
	r := vetModule(t, wasm, WithManifest(testManifest("counter", "n", true), "counter.json"), WithVectorDir(os.DirFS(dir)))
	expectFail(t, r, CheckDeterminism, `vector 1: two instances disagree: column "n", row 0: got 1, want 0`)
}

func TestNoManifest(t *testing.T) {
	wasm := readFile(t, "testdata/counter.wasm")
	r := vetModule(t, wasm, WithPath("testdata/counter.wasm"))
	expectFail(t, r, CheckManifest, "manifest: module has no wasinfer.manifest section, and there is no sidecar testdata/counter.manifest.json: embed one (go run ./manifest/cmd/embed) or write the sidecar")
	if r.Check(CheckAdmission).Status != Pass {
		t.Fatalf("admission: %+v", r.Check(CheckAdmission))
	}
	for _, name := range CheckNames[2:] {
		if c := r.Check(name); c.Status != Skip || c.Detail != "not run: the manifest check failed" {
			t.Fatalf("%s: %+v", name, c)
		}
	}
}

// section finds the first section with id (and name, for custom sections).
func section(t *testing.T, wasm []byte, id byte, name string) manifest.Section {
	t.Helper()
	secs, err := manifest.Sections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.ID == id && s.Name == name {
			return s
		}
	}
	t.Fatalf("no section %d %q", id, name)
	return manifest.Section{}
}

func TestTamperedCode(t *testing.T) {
	wasm := bytes.Clone(readFile(t, argmaxPath))
	// Flip a byte of the data section: the module stays valid, only its
	// code digest changes.
	data := section(t, wasm, 11, "")
	wasm[data.End-1] ^= 0x01
	r := vetModule(t, wasm)
	expectFail(t, r, CheckManifest, "manifest: module code does not match code_sha256: the module's code has sha256 ")
	expectFail(t, r, CheckManifest, "the module was modified after its manifest was made; rebuild it or fetch it again")
}

func TestTamperedManifest(t *testing.T) {
	wasm := bytes.Clone(readFile(t, argmaxPath))
	man := section(t, wasm, 0, manifest.SectionName)
	wasm[man.End-10] ^= 0x01
	r := vetModule(t, wasm)
	expectFail(t, r, CheckManifest, "manifest: manifest section does not match its digest: the wasinfer.manifest section (byte ")
	if r.Check(CheckAdmission).Status != Pass || r.Check(CheckVectors).Status != Skip {
		t.Fatalf("report:\n%s", reportText(r))
	}
	// Without the digest section, a flipped quote is a JSON syntax error
	// with its position.
	code, err := manifest.Strip(wasm)
	if err != nil {
		t.Fatal(err)
	}
	text := bytes.Clone(man.Payload)
	text[bytes.IndexByte(text, '"')] = '\''
	r = vetModule(t, append(code, customSection(manifest.SectionName, text)...))
	expectFail(t, r, CheckManifest, "manifest: line 1, column 2: invalid character '\\''")
}

func customSection(name string, payload []byte) []byte {
	head := append([]byte{byte(len(name))}, name...)
	size := len(head) + len(payload)
	var leb []byte
	for {
		c := byte(size & 0x7f)
		size >>= 7
		if size != 0 {
			leb = append(leb, c|0x80)
			continue
		}
		leb = append(leb, c)
		break
	}
	out := append([]byte{0}, leb...)
	return append(append(out, head...), payload...)
}

func TestNotAModule(t *testing.T) {
	r := vetModule(t, []byte("hello, world"))
	expectFail(t, r, CheckAdmission, "manifest: not a WebAssembly module (no \\0asm magic number)")
	expectFail(t, r, CheckManifest, "manifest: not a WebAssembly module")
}

func TestReportJSON(t *testing.T) {
	wasm, m := embedded(t, argmaxPath)
	m["capabilities"] = []string{"env"}
	r := vetModule(t, wasm, WithManifest(marshal(t, m), "x.json"))
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Module, Version, SHA256, Sweep string
		ManifestSource                 string `json:"manifest_source"`
		Size                           int
		Passed                         bool
		Checks                         []struct {
			Name, Status, Detail string
			Notes                []string
			DurationMS           *float64 `json:"duration_ms"`
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Module != "argmax" || got.Passed || got.Sweep != "small" || got.ManifestSource != "x.json" || got.Size != len(wasm) || len(got.Checks) != 7 {
		t.Fatalf("json:\n%s", buf.String())
	}
	c := got.Checks[2]
	if c.Name != "capabilities" || c.Status != "fail" || c.DurationMS == nil || !strings.HasPrefix(c.Notes[0], "declares env but imports no env function") {
		t.Fatalf("capabilities: %+v", c)
	}
	for _, key := range []string{`"module":`, `"version":`, `"sha256":`, `"size":`, `"manifest_source":`, `"sweep":`, `"passed":`, `"checks":`, `"name":`, `"status":`, `"detail":`, `"duration_ms":`} {
		if !strings.Contains(buf.String(), key) {
			t.Fatalf("no key %s in:\n%s", key, buf.String())
		}
	}
}

func TestSweepIsDeterministic(t *testing.T) {
	wasm := readFile(t, argmaxPath)
	a := vetModule(t, wasm)
	b := vetModule(t, wasm)
	for i := range a.Checks {
		ca, cb := a.Checks[i], b.Checks[i]
		if ca.Name == CheckResources {
			if ca.Metrics["peak_memory_bytes"] != cb.Metrics["peak_memory_bytes"] {
				t.Fatalf("peak memory differs: %v vs %v", ca.Metrics, cb.Metrics)
			}
			continue
		}
		if ca.Detail != cb.Detail {
			t.Fatalf("%s: %q vs %q", ca.Name, ca.Detail, cb.Detail)
		}
	}
}
