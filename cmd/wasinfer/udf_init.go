package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/urfave/cli/v3"

	"github.com/wasinfer/wasinfer/host"
)

// Writing UDFs: a project from a template, then a build.
//
//	wasinfer udf init --lang go|c|rust|assemblyscript NAME [--dir DIR]
//	wasinfer udf build [DIR]
//
// The templates are in templates/<lang>/. In their file names and contents
// __NAME__ becomes the project's name, a ".tmpl" suffix is dropped (it keeps
// Go sources out of this module's packages) and "gitignore" becomes
// ".gitignore" (so that it does not apply to this repository). The SDK each
// project carries is a verbatim copy of sdk/<lang> kept in templates/_sdk/<lang>
// (go:embed cannot read outside this directory); TestUDFTemplateSDKCopies
// fails when a copy differs from sdk/, and `go generate` refreshes them.

//go:generate go test -run ^TestUDFTemplateSDKCopies$ . -args -rewrite-sdk

//go:embed all:templates/c all:templates/go all:templates/rust all:templates/assemblyscript all:templates/_sdk
var templateFS embed.FS

func init() {
	registerUDFCommand(udfInitCommand)
	registerUDFCommand(udfBuildCommand)
}

// udfLang is one language a UDF project can be written in.
type udfLang struct {
	name    string // the --lang value and the templates' directory
	display string // the language's name in messages
	// sdkDir is where a project keeps its copy of the SDK ("" = the
	// project's root).
	sdkDir string
	// ident matches a valid NAME; identRule says what it allows.
	ident     *regexp.Regexp
	identRule string
	keywords  []string // NAMEs ident accepts that the language reserves
	reserved  []string // NAMEs that would collide with the toolchain or the SDK
	build     func(ctx context.Context, b *builder) error
}

var (
	cIdent  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	npmName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// maxNameLen bounds NAME, which names files and a module.
const maxNameLen = 64

const identRule = "use ASCII letters, digits and _, not starting with a digit"

var udfLangs = []*udfLang{
	{
		name: "go", display: "Go", sdkDir: "wasinfer-sdk", ident: cIdent, identRule: identRule,
		keywords: strings.Fields("break case chan const continue default defer else fallthrough for func go goto if " +
			"import interface map package range return select struct switch type var"),
		reserved: []string{"_", "std", "cmd", "main"},
		build:    buildGo,
	},
	{
		name: "c", display: "C", ident: cIdent, identRule: identRule,
		keywords: strings.Fields("auto break case char const continue default do double else enum extern float for goto if " +
			"inline int long register restrict return short signed sizeof static struct switch typedef union unsigned " +
			"void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local"),
		reserved: []string{"wasinfer"}, // wasinfer.c would sit beside the SDK's wasinfer.h
		build:    buildC,
	},
	{
		name: "rust", display: "Rust", sdkDir: "wasinfer-sdk", ident: cIdent, identRule: identRule,
		keywords: strings.Fields("as async await break const continue crate dyn else enum extern false fn for if impl in let " +
			"loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while " +
			"abstract become box do final macro override priv try typeof unsized virtual yield"),
		reserved: []string{"_", "std", "core", "alloc", "proc_macro", "test", "wasinfer_sdk"},
		build:    buildRust,
	},
	{
		name: "assemblyscript", display: "AssemblyScript", sdkDir: "wasinfer-sdk", ident: npmName,
		identRule: "use lower-case ASCII letters, digits and _, starting with a letter (npm package names are lower-case)",
		keywords: strings.Fields("break case catch class const continue debugger default delete do else enum export extends " +
			"false finally for function if import in instanceof new null return super switch this throw true try typeof " +
			"var void while with as implements interface let package private protected public static yield"),
		reserved: []string{"node_modules"},
		build:    buildAssemblyScript,
	},
}

func langNames() string {
	names := make([]string, len(udfLangs))
	for i, l := range udfLangs {
		names[i] = l.name
	}
	return strings.Join(names, ", ")
}

func findLang(name string) *udfLang {
	for _, l := range udfLangs {
		if l.name == name {
			return l
		}
	}
	return nil
}

// checkName says why name cannot name a project in lang, or returns nil.
func (l *udfLang) checkName(name string) error {
	switch {
	case len(name) > maxNameLen:
		return fmt.Errorf("NAME %q is longer than %d characters", name, maxNameLen)
	case !l.ident.MatchString(name):
		return fmt.Errorf("NAME %q is not a valid %s identifier: %s", name, l.display, l.identRule)
	case slices.Contains(l.keywords, name):
		return fmt.Errorf("NAME %q is a keyword in %s: choose another name", name, l.display)
	case slices.Contains(l.reserved, name):
		return fmt.Errorf("NAME %q is reserved in a %s UDF project (a standard or SDK name): choose another name", name, l.display)
	}
	return nil
}

func udfInitCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "create a UDF project: source, SDK, Makefile, sample input, native test, README",
		ArgsUsage: "NAME",
		Description: "Creates DIR (default ./NAME) holding a small, working UDF in the chosen language: it\n" +
			"appends the float64 column <column>_out = <column> * factor (config: column, default\n" +
			"\"value\"; factor, default 2) and passes every other column through. The project carries\n" +
			"its own copy of the SDK, a Makefile (make builds NAME.wasm, make test runs the native test\n" +
			"and then `wasinfer udf test` over sample.arrow), and a README with the three steps: edit,\n" +
			"build, test. NAME must be a valid identifier in the language; DIR must not exist, or be empty.\n\n" +
			"Toolchains (make deps in the project installs them):\n" +
			"  go              Go 1.25 or newer\n" +
			"  c               Debian clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32\n" +
			"  rust            Debian rustc libstd-rust-dev-wasm32 (rustc 1.63, no crates needed)\n" +
			"  assemblyscript  Node.js 20 or newer and the npm package assemblyscript\n\n" +
			"Examples:\n" +
			"  wasinfer udf init --lang c scale\n" +
			"  wasinfer udf init --lang rust tokenize --dir udfs/tokenize\n" +
			"  cd scale && make && make test",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "lang", Aliases: []string{"l"}, Usage: "the language: " + langNames() + "; required"},
			&cli.StringFlag{Name: "dir", Aliases: []string{"d"}, Usage: "create the project here (default ./NAME); it must not exist, or be empty"},
		},
		Action: udfInit,
	}
}

func udfInit(_ context.Context, c *cli.Command) error {
	usage := func(format string, args ...any) error {
		return usageError{fmt.Errorf(commandName(c)+": "+format, args...)}
	}
	if c.Args().Len() != 1 {
		return usage("want exactly one NAME argument, got %d", c.Args().Len())
	}
	name := c.Args().First()
	langName := c.String("lang")
	if langName == "" {
		return usage("--lang is required: one of %s", langNames())
	}
	lang := findLang(langName)
	if lang == nil {
		return usage("unknown --lang %q: want one of %s", langName, langNames())
	}
	if err := lang.checkName(name); err != nil {
		return usage("%v", err)
	}
	dir := c.String("dir")
	if dir == "" {
		dir = name
	}
	if err := checkProjectDir(dir); err != nil {
		return usage("%v", err)
	}
	files, err := renderProject(lang, name)
	if err != nil {
		return err
	}
	if err := writeProject(dir, files); err != nil {
		return err
	}
	w := c.Root().Writer
	fmt.Fprintf(w, "created %s (%s UDF %q):\n", dir, lang.display, name)
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if lang.sdkDir != "" && strings.HasPrefix(p, lang.sdkDir+"/") {
			continue
		}
		fmt.Fprintf(w, "  %s\n", p)
	}
	if lang.sdkDir != "" {
		fmt.Fprintf(w, "  %s/ (the SDK)\n", lang.sdkDir)
	}
	fmt.Fprintf(w, "next:\n  cd %s\n  make deps    # once: install the toolchain\n  make         # build %s.wasm (or: wasinfer udf build)\n"+
		"  make test    # the native test, then wasinfer udf test over sample.arrow\n", dir, name)
	return nil
}

// checkProjectDir refuses a DIR that exists and is not an empty directory.
func checkProjectDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("DIR %q exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("DIR %q exists and is not empty: choose another --dir, or remove it", dir)
	}
	return nil
}

// sdkProjectName maps the name of a file in templates/_sdk/<lang> to its
// name in a project: a go.mod is kept as go.mod.txt, because go:embed
// skips a directory that holds a go.mod (another module).
func sdkProjectName(rel string) string {
	if path.Base(rel) == "go.mod.txt" {
		return strings.TrimSuffix(rel, ".txt")
	}
	return rel
}

// renderProject returns the files of a new project, by slash-separated path.
func renderProject(lang *udfLang, name string) (map[string][]byte, error) {
	files := map[string][]byte{}
	root := "templates/" + lang.name
	err := fs.WalkDir(templateFS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".tmpl"), "__NAME__", name)
		if path.Base(rel) == "gitignore" {
			rel = path.Join(path.Dir(rel), ".gitignore")
		}
		files[rel] = bytes.ReplaceAll(b, []byte("__NAME__"), []byte(name))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the %s template: %w", lang.name, err)
	}
	sdkRoot := "templates/_sdk/" + lang.name
	err = fs.WalkDir(templateFS, sdkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		files[path.Join(lang.sdkDir, sdkProjectName(strings.TrimPrefix(p, sdkRoot+"/")))] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the %s SDK: %w", lang.name, err)
	}
	if lang.name == "go" {
		// The project's module requires the SDK's module, replaced by the
		// copy, and everything the SDK requires, with its checksums.
		sdkMod, sum := files["wasinfer-sdk/go.mod"], files["wasinfer-sdk/go.sum"]
		const sdkModule = "module " + goSDKModule + "\n"
		if !bytes.HasPrefix(sdkMod, []byte(sdkModule)) {
			return nil, fmt.Errorf("the Go SDK's go.mod does not start with %q", sdkModule)
		}
		mod := "module " + name + "\n" + string(sdkMod[len(sdkModule):]) +
			"\nrequire " + goSDKModule + " v0.0.0\n\n" +
			"// The SDK is not published as a module: this project carries a copy.\n" +
			"replace " + goSDKModule + " => ./wasinfer-sdk\n"
		files["go.mod"] = []byte(mod)
		files["go.sum"] = sum
	}
	sample, err := sampleInput()
	if err != nil {
		return nil, err
	}
	files["sample.arrow"] = sample
	return files, nil
}

const goSDKModule = "github.com/wasinfer/wasinfer/sdk/go"

// sampleInput is the Arrow IPC file a new project's `make test` runs over:
// six rows with an int64 and a float64 column to scale, nulls, and columns
// that pass through.
func sampleInput() ([]byte, error) {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "value", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3, 4, 5, 6}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{3, -2, 0, 10, 1500, 0}, []bool{true, true, false, true, true, true})
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{0.5, -1.25, 2, 0, 100.125, 3.75}, []bool{true, true, true, false, true, true})
	b.Field(3).(*array.StringBuilder).AppendValues([]string{"a", "b", "c", "d", "", "f"}, []bool{true, true, true, true, false, true})
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err != nil {
		return nil, fmt.Errorf("writing sample.arrow: %w", err)
	}
	if err := w.Write(rec); err != nil {
		return nil, fmt.Errorf("writing sample.arrow: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("writing sample.arrow: %w", err)
	}
	return buf.Bytes(), nil
}

// writeProject writes files into a new directory beside dir and renames it
// to dir (which does not exist, or is empty), so that a failure leaves
// nothing behind.
func writeProject(dir string, files map[string][]byte) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	parent := filepath.Dir(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating project directory: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".tmp-")
	if err != nil {
		return fmt.Errorf("creating project directory: %w", err)
	}
	fail := func(err error) error {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("creating project %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fail(err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fail(err)
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return fail(err)
		}
	}
	if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(err) // not empty any more, or not ours to remove
	}
	if err := os.Rename(tmp, abs); err != nil {
		return fail(err)
	}
	return nil
}

func udfBuildCommand(logger *slog.Logger) *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "build a UDF project's NAME.wasm and check that the host admits it",
		ArgsUsage: "[DIR]",
		Description: "Finds the project's language and NAME from its files (default DIR: .):\n" +
			"  go.mod, *.go    Go: NAME is the module path's last element (without /vN), or DIR's name\n" +
			"                  when DIR is a main package inside a module\n" +
			"  Cargo.toml      Rust: NAME is the package name (- becomes _)\n" +
			"  asconfig.json   AssemblyScript: NAME is the name in package.json; entry assembly/index.ts\n" +
			"  *.c             C: NAME is the .c file that defines WASINFER_IMPLEMENTATION\n" +
			"builds DIR/NAME.wasm with the flags of the SDKs' Makefiles (a project's own Makefile,\n" +
			"from wasinfer udf init, uses the same ones):\n" +
			"  go              GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-s -w'\n" +
			"                  -tags arrow_json_stdlib\n" +
			"  c               clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -std=c11 -Wall -Wextra -Werror\n" +
			"                  -ffp-contract=off -ffile-prefix-map=DIR=. -I. -Wl,--strip-debug *.c\n" +
			"  rust            /usr/bin/rustc --edition 2021 --target wasm32-wasi -C opt-level=3 -C codegen-units=1\n" +
			"                  -C debuginfo=0 -C strip=debuginfo -C lto=fat --remap-path-prefix=DIR=.,\n" +
			"                  first wasinfer-sdk/src/lib.rs (--crate-type rlib), then src/lib.rs (--crate-type cdylib)\n" +
			"  assemblyscript  node node_modules/assemblyscript/bin/asc.js assembly/index.ts --config asconfig.json\n" +
			"then prints the module's path, size and sha256, and loads it as the host does (one\n" +
			"instance; its wasinfer_init gets --config, or no configuration), so that a module the\n" +
			"host would refuse is reported now. The environment variables CLANG, WASI_SYSROOT, RUSTC\n" +
			"and GO choose other toolchains, as they do for the Makefiles.\n\n" +
			"Examples:\n" +
			"  wasinfer udf build\n" +
			"  wasinfer udf build udfs/scale --config '{\"factor\": 3}'\n" +
			"  wasinfer udf build --quiet --json | jq -r .sha256",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "configuration for the admission check's wasinfer_init, as JSON"},
			&cli.BoolFlag{Name: "json", Usage: "print module, size, sha256 and admission as a JSON object"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not echo the toolchain's commands (its errors still go to stderr)"},
		},
		Action: func(ctx context.Context, c *cli.Command) error { return udfBuild(ctx, c, logger) },
	}
}

// builder is one build of a project's module.
type builder struct {
	dir    string // the project: absolute, symlinks resolved
	name   string // NAME
	out    string // where the toolchain writes NAME.wasm (a temporary directory in dir)
	stderr io.Writer
	quiet  bool // do not echo commands
}

func udfBuild(ctx context.Context, c *cli.Command, logger *slog.Logger) error {
	if c.Args().Len() > 1 {
		return usageError{fmt.Errorf("%s: want at most one DIR argument, got %d", commandName(c), c.Args().Len())}
	}
	dirArg := c.Args().First()
	if dirArg == "" {
		dirArg = "."
	}
	dir, err := filepath.Abs(dirArg)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return usageError{fmt.Errorf("%s: DIR %q: %w", commandName(c), dirArg, err)}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usageError{fmt.Errorf("%s: DIR %q is not a directory", commandName(c), dirArg)}
	}
	lang, name, err := detectProject(dir)
	if err != nil {
		return usageError{fmt.Errorf("%s: %s: %w", commandName(c), dirArg, err)}
	}
	tmp, err := os.MkdirTemp(dir, ".wasinfer-build-")
	if err != nil {
		return fmt.Errorf("building %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	b := &builder{dir: dir, name: name, out: filepath.Join(tmp, name+".wasm"), stderr: c.Root().ErrWriter, quiet: c.Bool("quiet")}
	if err := lang.build(ctx, b); err != nil {
		return err
	}
	wasm, err := os.ReadFile(b.out)
	if err != nil {
		return fmt.Errorf("building %s: reading the module: %w", name, err)
	}
	dst := filepath.Join(dir, name+".wasm")
	if err := os.Rename(b.out, dst); err != nil {
		return fmt.Errorf("building %s: %w", name, err)
	}
	sum := sha256.Sum256(wasm)
	report := struct {
		Module    string `json:"module"`
		Size      int    `json:"size"`
		SHA256    string `json:"sha256"`
		Admission string `json:"admission"`
		Error     string `json:"error,omitempty"`
	}{Module: filepath.Join(dirArg, name+".wasm"), Size: len(wasm), SHA256: hex.EncodeToString(sum[:]), Admission: "ok"}
	opts := []host.Option{host.WithPoolSize(1), host.WithLogger(logger), host.WithName(name + ".wasm")}
	if cfg := c.String("config"); cfg != "" {
		opts = append(opts, host.WithConfig([]byte(cfg)))
	}
	u, loadErr := host.Load(ctx, wasm, opts...)
	if loadErr != nil {
		report.Admission, report.Error = "refused", loadErr.Error()
	} else {
		defer u.Close(context.WithoutCancel(ctx))
	}
	w := c.Root().Writer
	if c.Bool("json") {
		out, err := json.Marshal(report)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n", out)
	} else {
		fmt.Fprintf(w, "module:  %s\nsize:    %d bytes\nsha256:  %s\nadmission: %s", report.Module, report.Size, report.SHA256, report.Admission)
		if loadErr == nil {
			fmt.Fprint(w, " (ABI v1)")
		}
		fmt.Fprintln(w)
	}
	return loadErr
}

// detectProject finds the language and NAME of the project in dir.
func detectProject(dir string) (*udfLang, string, error) {
	read := func(name string) ([]byte, bool, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return b, err == nil, err
	}
	if mod, ok, err := read("go.mod"); err != nil || ok {
		if err != nil {
			return nil, "", err
		}
		for line := range strings.Lines(string(mod)) {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
				return findLang("go"), goModuleName(strings.Trim(f[1], "\"`")), nil
			}
		}
		return nil, "", errors.New("go.mod has no module line")
	}
	if toml, ok, err := read("Cargo.toml"); err != nil || ok {
		if err != nil {
			return nil, "", err
		}
		name := cargoPackageName(string(toml))
		if name == "" {
			return nil, "", errors.New("no name in the [package] table of Cargo.toml")
		}
		return findLang("rust"), strings.ReplaceAll(name, "-", "_"), nil
	}
	if _, ok, err := read("asconfig.json"); err != nil || ok {
		if err != nil {
			return nil, "", err
		}
		pkg, _, err := read("package.json")
		if err != nil {
			return nil, "", err
		}
		var p struct{ Name string }
		if err := json.Unmarshal(pkg, &p); err != nil || p.Name == "" || strings.ContainsAny(p.Name, `/\`) {
			return nil, "", errors.New("an AssemblyScript project needs a package.json with a plain \"name\"")
		}
		return findLang("assemblyscript"), p.Name, nil
	}
	if goFiles, err := filepath.Glob(filepath.Join(dir, "*.go")); err != nil || len(goFiles) > 0 {
		// A main package inside a module (udfs/NAME/main.go).
		return findLang("go"), filepath.Base(dir), err
	}
	sources, err := filepath.Glob(filepath.Join(dir, "*.c"))
	if err != nil {
		return nil, "", err
	}
	if len(sources) == 0 {
		return nil, "", errors.New("not a UDF project: no go.mod, .go, Cargo.toml, asconfig.json or .c file " +
			"(make one with wasinfer udf init)")
	}
	var mains []string
	for _, s := range sources {
		b, err := os.ReadFile(s)
		if err != nil {
			return nil, "", err
		}
		if bytes.Contains(b, []byte("#define WASINFER_IMPLEMENTATION")) {
			mains = append(mains, filepath.Base(s))
		}
	}
	if len(mains) != 1 {
		return nil, "", fmt.Errorf("want exactly one .c file that defines WASINFER_IMPLEMENTATION, found %d %v", len(mains), mains)
	}
	return findLang("c"), strings.TrimSuffix(mains[0], ".c"), nil
}

// goModuleName is the last element of a module path, without a major
// version suffix: example.com/udfs/scale/v2 → scale.
func goModuleName(modPath string) string {
	if dir, last := path.Split(modPath); dir != "" && regexp.MustCompile(`^v[0-9]+$`).MatchString(last) {
		modPath = path.Clean(dir)
	}
	return path.Base(modPath)
}

// cargoPackageName is the name key of the [package] table of a Cargo.toml.
func cargoPackageName(toml string) string {
	inPackage := false
	for line := range strings.Lines(toml) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			inPackage = line == "[package]"
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if inPackage && ok && strings.TrimSpace(k) == "name" {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

// run runs a toolchain command in the project, echoing it first.
func (b *builder) run(ctx context.Context, env []string, name string, args ...string) error {
	if !b.quiet {
		fmt.Fprintf(b.stderr, "wasinfer: %s%s %s\n", strings.Join(append(slices.Clone(env), ""), " "), name, strings.Join(args, " "))
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = b.dir
	cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s: %s: %w", b.name, filepath.Base(name), err)
	}
	return nil
}

// output runs a command that prints something about a toolchain.
func output(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	return strings.TrimSpace(string(out)), err
}

// missingTool is the error for a toolchain that is not installed: what is
// missing, and how to install it.
func missingTool(what, install string) error {
	return fmt.Errorf("%s: %s, or run `make deps` in the project", what, install)
}

func envOr(key, def string) string { return cmp.Or(os.Getenv(key), def) }

const cPackages = "install the Debian packages clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32"

func buildC(ctx context.Context, b *builder) error {
	clang := envOr("CLANG", "clang-14")
	if _, err := exec.LookPath(clang); err != nil {
		return missingTool(clang+" not found", cPackages)
	}
	if ld, _ := output(ctx, clang, "-print-prog-name=wasm-ld"); !filepath.IsAbs(ld) {
		return missingTool(clang+" finds no wasm-ld", "install the Debian package lld-14")
	}
	if rt, _ := output(ctx, clang, "--target=wasm32-wasi", "-print-libgcc-file-name"); !fileExists(rt) {
		return missingTool("no compiler-rt builtins for wasm32 ("+rt+")", "install the Debian package libclang-rt-14-dev-wasm32")
	}
	sysroot := os.Getenv("WASI_SYSROOT")
	if sysroot == "" {
		for _, d := range []string{"/usr", "/usr/share/wasi-sysroot", "/opt/wasi-sdk/share/wasi-sysroot"} {
			if fileExists(filepath.Join(d, "lib", "wasm32-wasi", "libc.a")) {
				sysroot = d
				break
			}
		}
	}
	if sysroot == "" {
		return missingTool("wasi-libc not found (no lib/wasm32-wasi/libc.a under /usr, /usr/share/wasi-sysroot or "+
			"/opt/wasi-sdk/share/wasi-sysroot; WASI_SYSROOT names another)", "install the Debian package wasi-libc")
	}
	sources, err := filepath.Glob(filepath.Join(b.dir, "*.c"))
	if err != nil {
		return err
	}
	args := []string{"--target=wasm32-wasi", "-O2", "-mexec-model=reactor", "-std=c11",
		"-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-ffile-prefix-map=" + b.dir + "=."}
	if sysroot != "/usr" {
		args = append(args, "--sysroot="+sysroot)
	}
	args = append(args, "-I.", "-Wl,--strip-debug", "-o", b.out)
	for _, s := range sources {
		args = append(args, filepath.Base(s))
	}
	return b.run(ctx, nil, clang, args...)
}

func buildGo(ctx context.Context, b *builder) error {
	goCmd := envOr("GO", "go")
	const install = "install Go 1.25 or newer (Debian's golang-go is older)"
	if _, err := exec.LookPath(goCmd); err != nil {
		return missingTool(goCmd+" not found", install)
	}
	v, err := output(ctx, goCmd, "env", "GOVERSION")
	if err != nil {
		return missingTool(goCmd+" env GOVERSION: "+err.Error(), install)
	}
	var major, minor int
	if _, err := fmt.Sscanf(v, "go%d.%d", &major, &minor); err == nil && (major < 1 || major == 1 && minor < 25) {
		return missingTool(v+" is too old for the Go SDK (wasmexport, arrow-go v18)", install)
	}
	return b.run(ctx, []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"}, goCmd,
		"build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags", "arrow_json_stdlib", "-o", b.out, ".")
}

func buildRust(ctx context.Context, b *builder) error {
	rustc := envOr("RUSTC", "/usr/bin/rustc")
	const install = "install the Debian packages rustc libstd-rust-dev-wasm32"
	if _, err := exec.LookPath(rustc); err != nil {
		return missingTool(rustc+" not found", install)
	}
	sysroot, err := output(ctx, rustc, "--print", "sysroot")
	if err != nil || !fileExists(filepath.Join(sysroot, "lib", "rustlib", "wasm32-wasi", "lib")) {
		return missingTool(rustc+" has no wasm32-wasi standard library", "install the Debian package libstd-rust-dev-wasm32")
	}
	flags := []string{"--edition", "2021", "-C", "opt-level=3", "-C", "codegen-units=1", "-C", "debuginfo=0",
		"-C", "strip=debuginfo", "--remap-path-prefix=" + b.dir + "=.", "--target", "wasm32-wasi", "-C", "lto=fat"}
	// The SDK's rlib goes where the Makefile puts it, target/wasm.
	if err := os.MkdirAll(filepath.Join(b.dir, "target", "wasm"), 0o755); err != nil {
		return fmt.Errorf("building %s: %w", b.name, err)
	}
	err = b.run(ctx, nil, rustc, append(slices.Clone(flags), "--crate-type", "rlib", "--crate-name", "wasinfer_sdk",
		"wasinfer-sdk/src/lib.rs", "--out-dir", "target/wasm/")...)
	if err != nil {
		return err
	}
	return b.run(ctx, nil, rustc, append(flags, "--crate-type", "cdylib", "--crate-name", b.name,
		"--extern", "wasinfer_sdk=target/wasm/libwasinfer_sdk.rlib", "src/lib.rs", "-o", b.out)...)
}

func buildAssemblyScript(ctx context.Context, b *builder) error {
	const install = "install Node.js 20 or newer (Debian packages nodejs npm)"
	if _, err := exec.LookPath("node"); err != nil {
		return missingTool("node not found", install)
	}
	v, err := output(ctx, "node", "--version")
	var major int
	if _, serr := fmt.Sscanf(v, "v%d.", &major); err != nil || serr != nil || major < 20 {
		return missingTool("node "+v+" is too old: the AssemblyScript compiler needs Node.js 20 or newer", install)
	}
	const asc = "node_modules/assemblyscript/bin/asc.js"
	if !fileExists(filepath.Join(b.dir, asc)) {
		return missingTool("the AssemblyScript compiler is not installed (no "+asc+")",
			"run npm install in the project (the npm package assemblyscript, from package.json)")
	}
	return b.run(ctx, nil, "node", asc, "assembly/index.ts", "--config", "asconfig.json", "-o", b.out)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
