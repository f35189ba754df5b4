package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var rewriteSDK = flag.Bool("rewrite-sdk", false, "rewrite the SDK copies in templates/_sdk from sdk/ (go generate does this)")

// sdkFiles are the files of each SDK that its projects carry, as globs
// relative to sdk/<lang>; templates/_sdk/<lang> holds exactly these.
var sdkFiles = map[string][]string{
	"c":              {"wasinfer.h"},
	"go":             {"*.go", "go.mod", "go.sum"}, // without *_test.go
	"rust":           {"src/*.rs"},
	"assemblyscript": {"index.ts", "exports.ts", "assembly/*.ts", "test/harness.mjs"},
}

// sdkSources returns the SDK files of lang: their path in the template
// (templates/_sdk/<lang>/...) → their content.
func sdkSources(t *testing.T, lang string) map[string][]byte {
	t.Helper()
	root := filepath.Join("..", "..", "sdk", lang)
	want := map[string][]byte{}
	for _, g := range sdkFiles[lang] {
		matches, err := filepath.Glob(filepath.Join(root, g))
		if err != nil || len(matches) == 0 {
			t.Fatalf("sdk/%s: no file matches %s (%v)", lang, g, err)
		}
		for _, m := range matches {
			if strings.HasSuffix(m, "_test.go") {
				continue
			}
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(root, m)
			rel = filepath.ToSlash(rel)
			if rel == "go.mod" {
				rel = "go.mod.txt" // see sdkProjectName
			}
			want[rel] = b
		}
	}
	return want
}

// TestUDFTemplateSDKCopies fails when a template's copy of an SDK differs
// from sdk/. With -rewrite-sdk (go generate ./cmd/wasinfer) it rewrites the
// copies instead.
func TestUDFTemplateSDKCopies(t *testing.T) {
	for _, lang := range udfLangs {
		t.Run(lang.name, func(t *testing.T) {
			want := sdkSources(t, lang.name)
			dir := filepath.Join("templates", "_sdk", lang.name)
			if *rewriteSDK {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				for rel, b := range want {
					p := filepath.Join(dir, filepath.FromSlash(rel))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := map[string][]byte{}
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				rel, _ := filepath.Rel(dir, p)
				got[filepath.ToSlash(rel)] = b
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, rel := range slices.Sorted(maps.Keys(want)) {
				switch g, ok := got[rel]; {
				case !ok:
					problems = append(problems, "missing "+rel)
				case !bytes.Equal(g, want[rel]):
					problems = append(problems, "differs: "+rel)
				}
			}
			for _, rel := range slices.Sorted(maps.Keys(got)) {
				if _, ok := want[rel]; !ok {
					problems = append(problems, "not in the SDK: "+rel)
				}
			}
			if len(problems) > 0 {
				t.Fatalf("%s is not a copy of sdk/%s:\n  %s\nrun: go generate ./cmd/wasinfer",
					dir, lang.name, strings.Join(problems, "\n  "))
			}
		})
	}
}

// TestUDFTemplateMatchesSDK checks the template files that repeat settings
// of an SDK: the AssemblyScript compiler options and version, rustfmt's.
func TestUDFTemplateMatchesSDK(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// The project's asconfig.json is the SDK's, with the SDK's sources at
	// wasinfer-sdk/ instead of in node_modules/@wasinfer/sdk.
	sdk := strings.ReplaceAll(read("../../sdk/assemblyscript/asconfig.json"), "~lib/@wasinfer/sdk/", "wasinfer-sdk/")
	if got := read("templates/assemblyscript/asconfig.json"); got != sdk {
		t.Errorf("templates/assemblyscript/asconfig.json:\n%s\nwant sdk/assemblyscript/asconfig.json with wasinfer-sdk/ paths:\n%s", got, sdk)
	}
	if got, want := read("templates/rust/rustfmt.toml"), read("../../sdk/rust/rustfmt.toml"); got != want {
		t.Errorf("templates/rust/rustfmt.toml:\n%s\nwant sdk/rust/rustfmt.toml:\n%s", got, want)
	}
	version := regexp.MustCompile(`"assemblyscript": "([^"]+)"`)
	sdkV := version.FindAllStringSubmatch(read("../../sdk/assemblyscript/package.json"), -1)
	gotV := version.FindStringSubmatch(read("templates/assemblyscript/package.json"))
	if len(sdkV) == 0 || gotV == nil || gotV[1] != sdkV[len(sdkV)-1][1] {
		t.Errorf("templates/assemblyscript/package.json: assemblyscript %v, want the SDK's devDependency %v", gotV, sdkV)
	}
}

// makeVar is the value of a variable set in a Makefile (continuation lines
// joined, whitespace collapsed), with $(X) replaced by X's value for each
// X in expand.
func makeVar(t *testing.T, makefile, name string, expand ...string) string {
	t.Helper()
	b, err := os.ReadFile(makefile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	def := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `\s*(?::=|\?=|=)(.*)$`)
	for i, line := range lines {
		m := def.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v := m[1]
		for strings.HasSuffix(v, "\\") && i+1 < len(lines) {
			i++
			v = strings.TrimSuffix(v, "\\") + " " + lines[i]
		}
		v = strings.Join(strings.Fields(v), " ")
		for _, x := range expand {
			v = strings.ReplaceAll(v, "$("+x+")", makeVar(t, makefile, x))
		}
		return v
	}
	t.Fatalf("%s sets no %s", makefile, name)
	return ""
}

// TestUDFTemplateMakefileFlags checks that the projects' Makefiles build
// with the flags of the SDKs' Makefiles (TestUDFInitBuildTest checks that
// udf build and a project's Makefile give the same bytes).
func TestUDFTemplateMakefileFlags(t *testing.T) {
	cases := []struct {
		sdk, template string // Makefile variables
		expand        []string
		replace       []string // old, new pairs applied to the SDK's value
	}{
		{sdk: "c/WASM_CFLAGS", template: "c/WASM_CFLAGS"},
		{sdk: "go/WASM_FLAGS", template: "go/WASM_FLAGS"},
		// The SDK pins the toolchain of its committed modules; a project uses the local one.
		{sdk: "go/WASM_ENV", template: "go/WASM_ENV", replace: []string{"GOTOOLCHAIN=$(GO_TOOLCHAIN) ", ""}},
		{sdk: "rust/WASMFLAGS", template: "rust/WASMFLAGS", expand: []string{"RUSTFLAGS_COMMON", "TARGET"},
			replace: []string{"$(CURDIR)=sdk/rust", "$(CURDIR)=."}},
		{sdk: "assemblyscript/ASC", template: "assemblyscript/ASC"},
	}
	for _, c := range cases {
		t.Run(c.sdk, func(t *testing.T) {
			lang, v, _ := strings.Cut(c.sdk, "/")
			want := makeVar(t, filepath.Join("..", "..", "sdk", lang, "Makefile"), v, c.expand...)
			for i := 0; i+1 < len(c.replace); i += 2 {
				want = strings.ReplaceAll(want, c.replace[i], c.replace[i+1])
			}
			lang, v, _ = strings.Cut(c.template, "/")
			if got := makeVar(t, filepath.Join("templates", lang, "Makefile"), v); got != want {
				t.Errorf("templates/%s/Makefile: %s = %s\nwant (from sdk/%s):\n%s", lang, v, got, c.sdk, want)
			}
		})
	}
}

// TestUDFHelperCLI is not a test: the Makefiles of the projects under test
// run the CLI through it (make test WASINFER=...), so that `make test` runs
// this build of wasinfer.
func TestUDFHelperCLI(t *testing.T) {
	if os.Getenv("WASINFER_HELPER_CLI") != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(context.Background(), append([]string{"wasinfer"}, args...), os.Stdout, os.Stderr))
}

// helperCLI is the WASINFER a project's Makefile runs to reach TestUDFHelperCLI.
func helperCLI(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe + " -test.run=TestUDFHelperCLI --" // no $: make would expand it
}

var buildOutput = regexp.MustCompile(`^module:  (.+)\nsize:    (\d+) bytes\nsha256:  ([0-9a-f]{64})\nadmission: ok \(ABI v1\)\n$`)

// TestUDFInitBuildTest makes a project in each language, builds it, runs it
// over its sample input, and runs its own `make test`.
func TestUDFInitBuildTest(t *testing.T) {
	asModules := filepath.Join("..", "..", "sdk", "assemblyscript", "node_modules")
	for _, lang := range udfLangs {
		t.Run(lang.name, func(t *testing.T) {
			t.Parallel()
			name := "scale_" + map[string]string{"go": "go", "c": "c", "rust": "rs", "assemblyscript": "as"}[lang.name]
			dir := filepath.Join(t.TempDir(), name)
			code, out, errs := runCLI(t, "udf", "init", "--lang", lang.name, name, "--dir", dir)
			if code != exitOK {
				t.Fatalf("udf init: exit %d: %s", code, errs)
			}
			if !strings.HasPrefix(out, fmt.Sprintf("created %s (%s UDF %q):\n", dir, lang.display, name)) {
				t.Errorf("udf init printed:\n%s", out)
			}
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if bytes.Contains(b, []byte("__NAME__")) || strings.Contains(p, "__NAME__") {
					t.Errorf("%s: __NAME__ left in", p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if lang.name == "assemblyscript" {
				// The compiler, from package.json: the SDK's node_modules
				// (make deps installs it) holds the same version.
				abs, err := filepath.Abs(asModules)
				if err == nil {
					_, err = os.Stat(filepath.Join(abs, "assemblyscript", "bin", "asc.js"))
				}
				if err != nil {
					t.Fatalf("the AssemblyScript compiler is not installed (%v): run make -C sdk/assemblyscript deps", err)
				}
				if err := os.Symlink(abs, filepath.Join(dir, "node_modules")); err != nil {
					t.Fatal(err)
				}
			}

			code, out, errs = runCLI(t, "udf", "build", dir)
			if code != exitOK {
				t.Fatalf("udf build: exit %d:\n%s%s", code, out, errs)
			}
			m := buildOutput.FindStringSubmatch(out)
			wasmPath := filepath.Join(dir, name+".wasm")
			if len(m) != 4 || m[1] != wasmPath {
				t.Fatalf("udf build printed:\n%s", out)
			}
			built := fileSHA256(t, wasmPath)
			if m[3] != built {
				t.Errorf("udf build printed sha256 %s, the file has %s", m[3], built)
			}

			sample := filepath.Join(dir, "sample.arrow")
			for _, c := range []struct {
				config, column string
				factor         float64
			}{
				{``, "value", 2},
				{`{"column": "value", "factor": 2.5}`, "value", 2.5},
				{`{"column": "score", "factor": -2}`, "score", -2},
			} {
				dst := filepath.Join(t.TempDir(), "out.arrow")
				args := []string{"udf", "test", wasmPath, "--input", sample, "--output", dst}
				if c.config != "" {
					args = append(args, "--config", c.config)
				}
				if code, _, errs := runCLI(t, args...); code != exitOK {
					t.Fatalf("udf test --config %s: exit %d: %s", c.config, code, errs)
				}
				checkScaled(t, sample, dst, c.column, c.factor)
			}

			typeErr := `column "label": want int64 or float64, got format "u"`
			if lang.name == "go" {
				typeErr = `column "label": want int64 or float64, got utf8`
			}
			for _, c := range []struct{ config, want string }{
				{`{"factor": 1e306}`, `batch 0: guest error (status ERROR): column "value": row 4: value * factor is not finite`},
				{`{"column": "nope"}`, `batch 0: guest error (status UNSUPPORTED_INPUT): column "nope": not found in the input (columns: "id", "value", "score", "label")`},
				{`{"column": "label"}`, `batch 0: guest error (status UNSUPPORTED_INPUT): ` + typeErr},
				{`{"factr": 2}`, `init (status INVALID_CONFIG): config: unknown key "factr" (known keys: column, factor)`},
				{`{"factor": "2"}`, `init (status INVALID_CONFIG): config: "factor" must be a number, got a string`},
				{`{"column": ""}`, `init (status INVALID_CONFIG): config: "column" must not be empty`},
			} {
				code, out, errs := runCLI(t, "udf", "test", wasmPath, "--input", sample, "--config", c.config)
				want := fmt.Sprintf("wasinfer: udf %q: %s\n", name+".wasm", c.want)
				if code != exitFail || out != "" || errs != want {
					t.Errorf("udf test --config %s: exit %d, stdout %q, stderr:\n%s\nwant exit 1, stderr:\n%s", c.config, code, out, errs, want)
				}
			}

			// The project's own Makefile: the native test, the same module, and udf test.
			makeCmd := func(args ...string) string {
				cmd := exec.Command("make", args...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "WASINFER_HELPER_CLI=1")
				b, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, b)
				}
				return string(b)
			}
			makeCmd("clean")
			got := makeCmd("test", "WASINFER="+helperCLI(t))
			if s := fileSHA256(t, wasmPath); s != built {
				t.Errorf("make built %s.wasm with sha256 %s; udf build, %s", name, s, built)
			}
			for _, want := range []string{"value_out (float64)\n", "\n5   1500   100.125   (null)   3750\n",
				name + ".wasm: 6 rows in, 6 rows out, 1 batches"} {
				if !strings.Contains(squeezeSpaces(got), want) {
					t.Errorf("make test printed no %q:\n%s", want, got)
				}
			}
		})
	}
}

func squeezeSpaces(s string) string { return regexp.MustCompile(` {2,}`).ReplaceAllString(s, "   ") }

func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readArrow reads the one batch of an Arrow IPC file; the caller releases it.
func readArrow(t *testing.T, mem memory.Allocator, p string) arrow.RecordBatch {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumRecords() != 1 {
		t.Fatalf("%s: %d batches, want 1", p, r.NumRecords())
	}
	rec, err := r.RecordBatch(0)
	if err != nil {
		t.Fatal(err)
	}
	rec.Retain()
	return rec
}

// checkScaled checks that the batch in out is the one in in, plus the
// float64 column <column>_out = column * factor.
func checkScaled(t *testing.T, in, out, column string, factor float64) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src, dst := readArrow(t, mem, in), readArrow(t, mem, out)
	defer src.Release()
	defer dst.Release()
	want := append(slices.Clone(src.Schema().Fields()), arrow.Field{Name: column + "_out", Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	if !dst.Schema().Equal(arrow.NewSchema(want, nil)) {
		t.Fatalf("output schema %v, want %v", dst.Schema(), want)
	}
	for i := range src.NumCols() {
		if !array.Equal(src.Column(int(i)), dst.Column(int(i))) {
			t.Errorf("column %s: %v, want it passed through: %v", src.ColumnName(int(i)), dst.Column(int(i)), src.Column(int(i)))
		}
	}
	x := src.Column(src.Schema().FieldIndices(column)[0])
	y := dst.Column(int(src.NumCols())).(*array.Float64)
	nonNull := 0
	for r := range x.Len() {
		var v float64
		switch x := x.(type) {
		case *array.Int64:
			v = float64(x.Value(r))
		case *array.Float64:
			v = x.Value(r)
		}
		switch {
		case x.IsNull(r) != y.IsNull(r):
			t.Errorf("%s_out row %d: null %v, want %v", column, r, y.IsNull(r), x.IsNull(r))
		case x.IsValid(r) && (y.Value(r) != v*factor || math.IsNaN(y.Value(r))):
			t.Errorf("%s_out row %d: %v, want %v × %v = %v", column, r, y.Value(r), v, factor, v*factor)
		case x.IsValid(r):
			nonNull++
		}
	}
	if nonNull != 5 {
		t.Errorf("%d non-null rows checked, want 5 (the sample has one null per column)", nonNull)
	}
}

func TestUDFInitErrors(t *testing.T) {
	tmp := t.TempDir()
	full := filepath.Join(tmp, "full")
	if err := os.MkdirAll(filepath.Join(full, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 65)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--lang", "c"}, "udf init: want exactly one NAME argument, got 0"},
		{[]string{"--lang", "c", "a", "b"}, "udf init: want exactly one NAME argument, got 2"},
		{[]string{"scale"}, "udf init: --lang is required: one of go, c, rust, assemblyscript"},
		{[]string{"--lang", "python", "scale"}, `udf init: unknown --lang "python": want one of go, c, rust, assemblyscript`},
		{[]string{"--lang", "c", "1scale"}, `udf init: NAME "1scale" is not a valid C identifier: use ASCII letters, digits and _, not starting with a digit`},
		{[]string{"--lang", "go", "my-udf"}, `udf init: NAME "my-udf" is not a valid Go identifier: use ASCII letters, digits and _, not starting with a digit`},
		{[]string{"--lang", "rust", "héllo"}, `udf init: NAME "héllo" is not a valid Rust identifier: use ASCII letters, digits and _, not starting with a digit`},
		{[]string{"--lang", "assemblyscript", "Scale"}, `udf init: NAME "Scale" is not a valid AssemblyScript identifier: use lower-case ASCII letters, digits and _, starting with a letter (npm package names are lower-case)`},
		{[]string{"--lang", "c", "int"}, `udf init: NAME "int" is a keyword in C: choose another name`},
		{[]string{"--lang", "go", "func"}, `udf init: NAME "func" is a keyword in Go: choose another name`},
		{[]string{"--lang", "rust", "fn"}, `udf init: NAME "fn" is a keyword in Rust: choose another name`},
		{[]string{"--lang", "assemblyscript", "class"}, `udf init: NAME "class" is a keyword in AssemblyScript: choose another name`},
		{[]string{"--lang", "rust", "wasinfer_sdk"}, `udf init: NAME "wasinfer_sdk" is reserved in a Rust UDF project (a standard or SDK name): choose another name`},
		{[]string{"--lang", "c", "wasinfer"}, `udf init: NAME "wasinfer" is reserved in a C UDF project (a standard or SDK name): choose another name`},
		{[]string{"--lang", "c", long}, `udf init: NAME "` + long + `" is longer than 64 characters`},
		{[]string{"--lang", "c", "scale", "--dir", full}, fmt.Sprintf("udf init: DIR %q exists and is not empty: choose another --dir, or remove it", full)},
		{[]string{"--lang", "c", "scale", "--dir", file}, fmt.Sprintf("udf init: DIR %q exists and is not a directory", file)},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"udf", "init"}, c.args...)...)
			if code != exitUsage || out != "" || errs != "wasinfer: "+c.want+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2, stderr:\n%s", code, out, errs, "wasinfer: "+c.want)
			}
		})
	}
	// Nothing was written.
	entries, _ := os.ReadDir(full)
	if len(entries) != 1 {
		t.Errorf("%s holds %v, want only src", full, entries)
	}
	entries, _ = os.ReadDir(tmp)
	if len(entries) != 2 {
		t.Errorf("%s holds %v, want only full and file", tmp, entries)
	}
}

func TestUDFInitIntoEmptyDir(t *testing.T) {
	dir := t.TempDir() // exists, empty
	code, out, errs := runCLI(t, "udf", "init", "--lang", "c", "scale", "--dir", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := fmt.Sprintf("created %s (C UDF \"scale\"):\n  .gitignore\n  Makefile\n  README.md\n  sample.arrow\n  scale.c\n  test/native_test.c\n  wasinfer.h\n"+
		"next:\n  cd %s\n  make deps    # once: install the toolchain\n  make         # build scale.wasm (or: wasinfer udf build)\n"+
		"  make test    # the native test, then wasinfer udf test over sample.arrow\n", dir, dir)
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return err
	})
	if want := []string{".gitignore", "Makefile", "README.md", "sample.arrow", "scale.c", "test/native_test.c", "wasinfer.h"}; !slices.Equal(files, want) {
		t.Errorf("files %v, want %v", files, want)
	}
	for _, f := range files {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); bytes.Contains(b, []byte("__NAME__")) {
			t.Errorf("%s still holds __NAME__", f)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary directory %s left behind", e.Name())
		}
	}
}

func TestUDFBuildErrors(t *testing.T) {
	tmp := t.TempDir()
	project := func(lang, name string) string {
		dir := filepath.Join(tmp, name)
		if code, _, errs := runCLI(t, "udf", "init", "--lang", lang, name, "--dir", dir); code != exitOK {
			t.Fatalf("udf init: %s", errs)
		}
		return dir
	}
	cDir, goDir, rustDir, asDir := project("c", "c1"), project("go", "g1"), project("rust", "r1"), project("assemblyscript", "a1")
	broken := project("c", "broken")
	if err := os.WriteFile(filepath.Join(broken, "broken.c"), []byte("#define WASINFER_IMPLEMENTATION\n#include \"wasinfer.h\"\nint x = ;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  []string // KEY=VALUE
		args []string
		code int
		want string // stderr's last line
	}{
		{"not a project", nil, []string{empty}, exitUsage, fmt.Sprintf("wasinfer: udf build: %s: not a UDF project: no go.mod, .go, Cargo.toml, asconfig.json or .c file (make one with wasinfer udf init)", empty)},
		{"two dirs", nil, []string{empty, cDir}, exitUsage, "wasinfer: udf build: want at most one DIR argument, got 2"},
		{"no such dir", nil, []string{filepath.Join(tmp, "nope")}, exitUsage, fmt.Sprintf("wasinfer: udf build: DIR %q: lstat %s: no such file or directory", filepath.Join(tmp, "nope"), filepath.Join(tmp, "nope"))},
		{"a file", nil, []string{filepath.Join(cDir, "Makefile")}, exitUsage, fmt.Sprintf("wasinfer: udf build: DIR %q is not a directory", filepath.Join(cDir, "Makefile"))},
		{"no clang", []string{"CLANG=clang-0-missing"}, []string{cDir}, exitFail,
			"wasinfer: clang-0-missing not found: install the Debian packages clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32, or run `make deps` in the project"},
		{"compile error", nil, []string{broken}, exitFail, "wasinfer: building broken: clang-14: exit status 1"},
		{"no go", []string{"GO=go-0-missing"}, []string{goDir}, exitFail,
			"wasinfer: go-0-missing not found: install Go 1.25 or newer (Debian's golang-go is older), or run `make deps` in the project"},
		{"no rustc", []string{"RUSTC=/nonexistent/rustc"}, []string{rustDir}, exitFail,
			"wasinfer: /nonexistent/rustc not found: install the Debian packages rustc libstd-rust-dev-wasm32, or run `make deps` in the project"},
		{"no asc", nil, []string{asDir}, exitFail,
			"wasinfer: the AssemblyScript compiler is not installed (no node_modules/assemblyscript/bin/asc.js): run npm install in the project (the npm package assemblyscript, from package.json), or run `make deps` in the project"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, kv := range c.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			code, out, errs := runCLI(t, append([]string{"udf", "build"}, c.args...)...)
			lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			if code != c.code || out != "" || lines[len(lines)-1] != c.want {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit %d, stderr ending:\n%s", code, out, errs, c.code, c.want)
			}
		})
	}
	if entries, _ := os.ReadDir(broken); slices.ContainsFunc(entries, func(e fs.DirEntry) bool {
		return strings.HasSuffix(e.Name(), ".wasm") || strings.HasPrefix(e.Name(), ".wasinfer-build-")
	}) {
		t.Errorf("a failed build left files behind: %v", entries)
	}
}

func TestUDFBuildRefusedModule(t *testing.T) {
	// A project whose module the host refuses at load: its init rejects the
	// configuration the admission check passes.
	dir := filepath.Join(t.TempDir(), "scale")
	if code, _, errs := runCLI(t, "udf", "init", "--lang", "c", "scale", "--dir", dir); code != exitOK {
		t.Fatalf("udf init: %s", errs)
	}
	code, out, errs := runCLI(t, "udf", "build", dir, "--config", `{"factor": "x"}`)
	if code != exitFail || !strings.HasSuffix(out, "admission: refused\n") ||
		!strings.HasSuffix(errs, "wasinfer: udf \"scale.wasm\": init (status INVALID_CONFIG): config: \"factor\" must be a number, got a string\n") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// TestUDFInitNames accepts the names each language allows.
func TestUDFInitNames(t *testing.T) {
	for _, c := range []struct{ lang, name string }{
		{"c", "_scale2"}, {"c", "Scale"}, {"go", "myUDF"}, {"rust", "tokenize_v2"}, {"assemblyscript", "scale_2"},
	} {
		if err := findLang(c.lang).checkName(c.name); err != nil {
			t.Errorf("%s %q: %v", c.lang, c.name, err)
		}
	}
}

const udfInitHelp = `NAME:
   wasinfer udf init - create a UDF project: source, SDK, Makefile, sample input, native test, README

USAGE:
   wasinfer udf init [options] NAME

DESCRIPTION:
   Creates DIR (default ./NAME) holding a small, working UDF in the chosen language: it
   appends the float64 column <column>_out = <column> * factor (config: column, default
   "value"; factor, default 2) and passes every other column through. The project carries
   its own copy of the SDK, a Makefile (make builds NAME.wasm, make test runs the native test
   and then ` + "`wasinfer udf test`" + ` over sample.arrow), and a README with the three steps: edit,
   build, test. NAME must be a valid identifier in the language; DIR must not exist, or be empty.

   Toolchains (make deps in the project installs them):
     go              Go 1.25 or newer
     c               Debian clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
     rust            Debian rustc libstd-rust-dev-wasm32 (rustc 1.63, no crates needed)
     assemblyscript  Node.js 20 or newer and the npm package assemblyscript

   Examples:
     wasinfer udf init --lang c scale
     wasinfer udf init --lang rust tokenize --dir udfs/tokenize
     cd scale && make && make test

OPTIONS:
   --lang string, -l string  the language: go, c, rust, assemblyscript; required
   --dir string, -d string   create the project here (default ./NAME); it must not exist, or be empty
   --help, -h                show help
`

const udfBuildHelp = `NAME:
   wasinfer udf build - build a UDF project's NAME.wasm and check that the host admits it

USAGE:
   wasinfer udf build [options] [DIR]

DESCRIPTION:
   Finds the project's language and NAME from its files (default DIR: .):
     go.mod, *.go    Go: NAME is the module path's last element (without /vN), or DIR's name
                     when DIR is a main package inside a module
     Cargo.toml      Rust: NAME is the package name (- becomes _)
     asconfig.json   AssemblyScript: NAME is the name in package.json; entry assembly/index.ts
     *.c             C: NAME is the .c file that defines WASINFER_IMPLEMENTATION
   builds DIR/NAME.wasm with the flags of the SDKs' Makefiles (a project's own Makefile,
   from wasinfer udf init, uses the same ones):
     go              GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-s -w'
                     -tags arrow_json_stdlib
     c               clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -std=c11 -Wall -Wextra -Werror
                     -ffp-contract=off -ffile-prefix-map=DIR=. -I. -Wl,--strip-debug *.c
     rust            /usr/bin/rustc --edition 2021 --target wasm32-wasi -C opt-level=3 -C codegen-units=1
                     -C debuginfo=0 -C strip=debuginfo -C lto=fat --remap-path-prefix=DIR=.,
                     first wasinfer-sdk/src/lib.rs (--crate-type rlib), then src/lib.rs (--crate-type cdylib)
     assemblyscript  node node_modules/assemblyscript/bin/asc.js assembly/index.ts --config asconfig.json
   then prints the module's path, size and sha256, and loads it as the host does (one
   instance; its wasinfer_init gets --config, or no configuration), so that a module the
   host would refuse is reported now. The environment variables CLANG, WASI_SYSROOT, RUSTC
   and GO choose other toolchains, as they do for the Makefiles.

   Examples:
     wasinfer udf build
     wasinfer udf build udfs/scale --config '{"factor": 3}'
     wasinfer udf build --quiet --json | jq -r .sha256

OPTIONS:
   --config string  configuration for the admission check's wasinfer_init, as JSON
   --json           print module, size, sha256 and admission as a JSON object
   --quiet, -q      do not echo the toolchain's commands (its errors still go to stderr)
   --help, -h       show help
`

func TestUDFInitHelp(t *testing.T) {
	code, out, errs := runCLI(t, "udf", "init", "--help")
	if code != exitOK || out != udfInitHelp || errs != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errs, out, udfInitHelp)
	}
}

func TestUDFBuildHelp(t *testing.T) {
	code, out, errs := runCLI(t, "udf", "build", "--help")
	if code != exitOK || out != udfBuildHelp || errs != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errs, out, udfBuildHelp)
	}
}

func TestUDFBuildJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scale")
	if code, _, errs := runCLI(t, "udf", "init", "--lang", "c", "scale", "--dir", dir); code != exitOK {
		t.Fatalf("udf init: %s", errs)
	}
	wasm := filepath.Join(dir, "scale.wasm")
	type report struct {
		Module, SHA256, Admission, Error string
		Size                             int
	}
	for _, c := range []struct {
		config string
		code   int
		want   report // without size and sha256
	}{
		{``, exitOK, report{Module: wasm, Admission: "ok"}},
		{`{"factor": "x"}`, exitFail, report{Module: wasm, Admission: "refused",
			Error: `udf "scale.wasm": init (status INVALID_CONFIG): config: "factor" must be a number, got a string`}},
	} {
		code, out, errs := runCLI(t, "udf", "build", "--quiet", "--json", dir, "--config", c.config)
		var got report
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != c.code {
			t.Fatalf("--config %s: exit %d, stdout %q (%v), stderr:\n%s", c.config, code, out, err, errs)
		}
		if want := "wasinfer: " + c.want.Error + "\n"; c.want.Error == "" && errs != "" || c.want.Error != "" && errs != want {
			t.Errorf("--config %s: stderr:\n%s", c.config, errs)
		}
		c.want.Size, c.want.SHA256 = int(fileSize(t, wasm)), fileSHA256(t, wasm)
		if got != c.want {
			t.Errorf("--config %s: %+v, want %+v", c.config, got, c.want)
		}
	}
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestUDFBuildGoPackageInModule builds a main package of a bigger module
// (no go.mod of its own), named after its directory.
func TestUDFBuildGoPackageInModule(t *testing.T) {
	t.Parallel()
	mod := t.TempDir()
	sdk, err := filepath.Abs(filepath.Join("..", "..", "sdk", "go"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(p string, b []byte) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := strings.Replace(string(read(filepath.Join(sdk, "go.mod"))), "module "+goSDKModule+"\n", "module example.com/udfs\n", 1) +
		"\nrequire " + goSDKModule + " v0.0.0\n\nreplace " + goSDKModule + " => " + sdk + "\n"
	write(filepath.Join(mod, "go.mod"), []byte(gomod))
	write(filepath.Join(mod, "go.sum"), read(filepath.Join(sdk, "go.sum")))
	pkg := filepath.Join(mod, "udfs", "ident")
	write(filepath.Join(pkg, "main.go"), read(filepath.Join(sdk, "examples", "identity", "main.go")))
	code, out, errs := runCLI(t, "udf", "build", "--quiet", pkg)
	if m := buildOutput.FindStringSubmatch(out); code != exitOK || len(m) != 4 || m[1] != filepath.Join(pkg, "ident.wasm") || errs != "" {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

func TestGoModuleName(t *testing.T) {
	for path, want := range map[string]string{
		"scale": "scale", "example.com/udfs/scale": "scale", "example.com/udfs/scale/v2": "scale", "v2": "v2",
	} {
		if got := goModuleName(path); got != want {
			t.Errorf("goModuleName(%q) = %q, want %q", path, got, want)
		}
	}
}
