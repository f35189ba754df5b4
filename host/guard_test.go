package host

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The guard's code for a module with no imported or defined globals and no
// imported or defined function but the one under test: the flag is global 0,
// the budget global 1, $yield function 1. Written out here, not derived from
// guard.go, so that the encoding itself is checked.
var (
	testCheck = []byte{
		0x23, 0x00, 0x04, 0x40, 0x00, 0x0b, // global.get $flag if unreachable end
		0x23, 0x01, 0x41, 0x01, 0x6b, 0x24, 0x01, // $budget -= 1
		0x23, 0x01, 0x41, 0x00, 0x4c, 0x04, 0x40, 0x10, 0x01, 0x0b, // if $budget <= 0 { call $yield }
	}
	// Around a bulk instruction, in a function whose added local is 0.
	testTee  = []byte{0x22, 0x00} // local.tee $length
	testBulk = []byte{
		0x23, 0x01, 0x20, 0x00, 0x41, 0x10, 0x76, 0x6b, 0x41, 0x01, 0x6b, 0x24, 0x01, // $budget -= $length>>16 + 1
		0x23, 0x01, 0x41, 0x00, 0x4c, 0x04, 0x40, 0x10, 0x01, 0x0b,
	}
	testYield = []byte{0x00, 0x41, 0x80, 0x08, 0x24, 0x01, 0x41, 0x00, 0x40, 0x00, 0x1a, 0x0b}
)

// wasmModule assembles a module from sections given as id, contents.
func wasmModule(secs ...[]byte) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range secs {
		out = appendSection(out, s[0], s[1:])
	}
	return out
}

func sec(id byte, contents ...[]byte) []byte {
	return append([]byte{id}, bytes.Join(contents, nil)...)
}

func vec(items ...[]byte) []byte {
	return append(appendUleb(nil, uint64(len(items))), bytes.Join(items, nil)...)
}

func b(bs ...byte) []byte { return bs }

func name(s string) []byte { return append(appendUleb(nil, uint64(len(s))), s...) }

// committedModules returns every .wasm under ../sdk (build directories
// excepted) and testdata/guests, by path.
func committedModules(tb testing.TB) map[string][]byte {
	tb.Helper()
	mods := map[string][]byte{}
	walk := func(root string) {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "target" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".wasm") {
				mods[path] = readGuest(tb, path)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	walk("../sdk")
	walk(filepath.Join("testdata", "guests"))
	if len(mods) < 10 {
		tb.Fatalf("found %d committed modules; run `make udfs`", len(mods))
	}
	return mods
}

// TestGuardCommittedModules: every committed module that is a valid module
// still is one once guarded (wazero compiles it; wasm-validate accepts it
// where wabt is installed), and carries one check per function and per loop
// and one tick per bulk instruction, counted by wabt's own decoder.
func TestGuardCommittedModules(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	objdump, _ := exec.LookPath("wasm-objdump")
	validate, _ := exec.LookPath("wasm-validate")
	for path, wasm := range committedModules(t) {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			out, flagName, err := guardModule(wasm)
			if err != nil {
				// Only the corpus's deliberately broken files may be refused.
				if c, cerr := rt.CompileModule(ctx, wasm); cerr == nil {
					c.Close(ctx)
					t.Fatalf("refused a module wazero compiles: %v", err)
				}
				return
			}
			if flagName != interruptExport {
				t.Fatalf("flag exported as %q", flagName)
			}
			c, err := rt.CompileModule(ctx, out)
			if err != nil {
				t.Fatalf("guarded module does not compile: %v", err)
			}
			defer c.Close(ctx)
			if len(wasm) > 1<<20 || objdump == "" || validate == "" {
				return // wabt's text output for the Go guests is too large to read here
			}
			dir := t.TempDir()
			in, guarded := filepath.Join(dir, "in.wasm"), filepath.Join(dir, "out.wasm")
			if err := os.WriteFile(in, wasm, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(guarded, out, 0o644); err != nil {
				t.Fatal(err)
			}
			if msg, err := exec.Command(validate, guarded).CombinedOutput(); err != nil {
				t.Fatalf("wasm-validate: %v\n%s", err, msg)
			}
			dis, err := exec.Command(objdump, "-d", in).Output()
			if err != nil {
				t.Fatalf("wasm-objdump: %v", err)
			}
			funcs := len(regexp.MustCompile(`(?m)^[0-9a-f]+ func\[`).FindAll(dis, -1))
			loops := len(regexp.MustCompile(`(?m)\| *loop\b`).FindAll(dis, -1))
			bulks := len(regexp.MustCompile(`(?m)\| *(memory\.(fill|copy|init)|table\.(fill|copy|init))\b`).FindAll(dis, -1))
			g := testPlan(t, wasm)
			if got, want := bytes.Count(out, g.check), funcs+loops; got != want {
				t.Errorf("%d checks, want %d (functions %d + loops %d)", got, want, funcs, loops)
			}
			if got := bytes.Count(out, g.bulkEnd); got != bulks {
				t.Errorf("%d bulk ticks, want %d", got, bulks)
			}
		})
	}
}

func testPlan(t *testing.T, wasm []byte) *guard {
	t.Helper()
	secs, err := splitSections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	m := &moduleInfo{start: -1}
	for _, s := range secs {
		if err := m.scan(wasm, s); err != nil {
			t.Fatal(err)
		}
	}
	return m.plan()
}

// ins, in an instruction sequence, is code the guard must insert there.
type ins []byte

var (
	atCheck = ins(testCheck)
	atTee   = ins(testTee)
	atBulk  = ins(testBulk)
)

// TestGuardInstructions: hand-written bodies whose immediates are built to
// mislead a careless decoder (bytes equal to the loop opcode, multi-byte
// LEB128 sub-opcodes, 16-byte SIMD immediates) get the guard exactly at the
// marked places, and the result compiles.
func TestGuardInstructions(t *testing.T) {
	v128 := func(c byte) []byte { return append(b(0xfd, 0x0c), bytes.Repeat(b(c), 16)...) }
	cases := []struct {
		name   string
		locals []byte // 0x00 (none) if nil
		code   []any  // []byte or ins; the function's final end is added
	}{
		{"empty", nil, nil},
		{"loop", nil, []any{b(0x03, 0x40), atCheck, b(0x0b)}},
		{"nested blocks", nil, []any{
			b(0x02, 0x40, 0x03, 0x40), atCheck, b(0x41, 0x03, 0x04, 0x40, 0x03, 0x7f), atCheck,
			b(0x41, 0x03, 0x0b, 0x1a, 0x05, 0x03, 0x40), atCheck, b(0x0b, 0x0b, 0x0b, 0x0b)}},
		{"locals", b(0x02, 0x03, 0x7f, 0x01, 0x7b), []any{
			b(0x20, 0x02, 0x21, 0x01, 0x03, 0x40), atCheck, b(0x0b)}},
		{"constants", nil, []any{
			b(0x41, 0x03, 0x1a), b(0x42, 0x83, 0x03, 0x1a), b(0x41, 0x83, 0x83, 0x83, 0x03, 0x1a),
			b(0x43, 0x03, 0x03, 0x03, 0x03, 0x1a), b(0x44, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x1a)}},
		{"br_table", nil, []any{
			b(0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x02, 0x40, 0x41, 0x00),
			b(0x0e, 0x03, 0x03, 0x02, 0x01, 0x03), b(0x0b, 0x0b, 0x0b, 0x0b)}},
		{"br br_if return", nil, []any{
			b(0x03, 0x40), atCheck, b(0x41, 0x00, 0x0d, 0x00, 0x02, 0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x0f)}},
		{"select", nil, []any{
			b(0x41, 0x01, 0x41, 0x02, 0x41, 0x03, 0x1b, 0x1a),
			b(0x41, 0x01, 0x41, 0x02, 0x41, 0x03, 0x1c, 0x01, 0x7f, 0x1a),
			b(0xd0, 0x70, 0xd0, 0x70, 0x41, 0x03, 0x1c, 0x01, 0x70, 0x1a)}},
		{"multi-value loop", nil, []any{
			b(0x41, 0x03, 0x03, 0x01), atCheck, b(0x41, 0x03, 0x0b, 0x1a, 0x1a)}},
		{"type index in two bytes", nil, []any{
			b(0x41, 0x03, 0x03, 0x81, 0x00), atCheck, b(0x41, 0x03, 0x0b, 0x1a, 0x1a)}},
		{"multi-value block and if", nil, []any{
			b(0x41, 0x03, 0x02, 0x01, 0x41, 0x03, 0x0b, 0x1a, 0x1a),
			b(0x41, 0x03, 0x41, 0x01, 0x04, 0x01, 0x41, 0x03, 0x05, 0x41, 0x04, 0x0b, 0x1a, 0x1a)}},
		{"calls", nil, []any{
			b(0x41, 0x00, 0x11, 0x00, 0x00), b(0x03, 0x40), atCheck, b(0x0b), b(0x10, 0x00)}},
		{"memory", nil, []any{
			b(0x41, 0x00, 0x28, 0x02, 0x03, 0x1a), b(0x41, 0x00, 0x42, 0x03, 0x37, 0x03, 0x83, 0x03),
			b(0x41, 0x00, 0x2d, 0x00, 0x03, 0x1a), b(0x3f, 0x00, 0x1a, 0x41, 0x03, 0x40, 0x00, 0x1a)}},
		{"sign extension", nil, []any{b(0x41, 0x03, 0xc0, 0x1a, 0x42, 0x03, 0xc4, 0x1a)}},
		{"saturating conversions", nil, []any{
			b(0x43, 0x00, 0x00, 0x00, 0x00, 0xfc, 0x00, 0x1a),
			b(0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xfc, 0x07, 0x1a),
			b(0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xfc, 0x83, 0x00, 0x1a)}},
		{"bulk memory", nil, []any{
			b(0x41, 0x00, 0x41, 0x00, 0x41, 0x03), atTee, b(0xfc, 0x08, 0x00, 0x00), atBulk,
			b(0xfc, 0x09, 0x00),
			b(0x41, 0x00, 0x41, 0x03, 0x41, 0x03), atTee, b(0xfc, 0x0a, 0x00, 0x00), atBulk,
			b(0x41, 0x00, 0x41, 0x03, 0x41, 0x03), atTee, b(0xfc, 0x0b, 0x00), atBulk,
			b(0x41, 0x00, 0x41, 0x03, 0x41, 0x03), atTee, b(0xfc, 0x8b, 0x00, 0x00), atBulk}},
		{"tables", nil, []any{
			b(0x41, 0x00, 0x41, 0x00, 0x41, 0x01), atTee, b(0xfc, 0x0c, 0x00, 0x00), atBulk,
			b(0xfc, 0x0d, 0x00),
			b(0x41, 0x00, 0x41, 0x00, 0x41, 0x01), atTee, b(0xfc, 0x0e, 0x00, 0x00), atBulk,
			b(0xd0, 0x70, 0x41, 0x03, 0xfc, 0x0f, 0x00, 0x1a),
			b(0xfc, 0x10, 0x00, 0x1a),
			b(0x41, 0x00, 0xd0, 0x70, 0x41, 0x01), atTee, b(0xfc, 0x11, 0x00), atBulk,
			b(0x41, 0x00, 0x25, 0x00, 0x1a, 0x41, 0x00, 0xd0, 0x70, 0x26, 0x00)}},
		{"bulk memory after locals", b(0x02, 0x01, 0x7f, 0x02, 0x7e), []any{ // $length is local 3
			b(0x41, 0x00, 0x41, 0x03, 0x41, 0x03), ins(b(0x22, 0x03)), b(0xfc, 0x0b, 0x00),
			ins(b(0x23, 0x01, 0x20, 0x03)), ins(testBulk[4:])}},
		{"reference types", nil, []any{b(0xd2, 0x00, 0x1a, 0xd0, 0x70, 0xd1, 0x1a, 0xd0, 0x6f, 0x1a)}},
		{"v128 constants and shuffle", nil, []any{
			v128(0x03), b(0x1a),
			v128(0x00), v128(0x01), b(0xfd, 0x0d), bytes.Repeat(b(0x03), 16), b(0x1a)}},
		{"lanes", nil, []any{
			v128(0x03), b(0xfd, 0x15, 0x03, 0x1a),
			v128(0x03), b(0x41, 0x03, 0xfd, 0x17, 0x03, 0x1a),
			v128(0x03), b(0xfd, 0x1d, 0x01, 0x1a),
			v128(0x03), b(0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x22, 0x01, 0x1a)}},
		{"SIMD memory", nil, []any{
			b(0x41, 0x00, 0xfd, 0x00, 0x04, 0x03, 0x1a),
			b(0x41, 0x00, 0xfd, 0x07, 0x00, 0x03, 0x1a),
			b(0x41, 0x00), v128(0x03), b(0xfd, 0x0b, 0x04, 0x03),
			b(0x41, 0x00), v128(0x03), b(0xfd, 0x54, 0x00, 0x03, 0x03, 0x1a),
			b(0x41, 0x00), v128(0x03), b(0xfd, 0x5b, 0x03, 0x03, 0x01),
			b(0x41, 0x00, 0xfd, 0x5c, 0x02, 0x03, 0x1a)}},
		{"SIMD two-byte opcodes", nil, []any{
			v128(0x03), v128(0x03), b(0xfd, 0xba, 0x01, 0x1a),
			v128(0x03), b(0xfd, 0xff, 0x01, 0x1a)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			locals := c.locals
			if locals == nil {
				locals = b(0x00)
			}
			in, want := bytes.Clone(locals), bytes.Clone(testCheck)
			for _, part := range c.code {
				switch p := part.(type) {
				case []byte:
					in, want = append(in, p...), append(want, p...)
				case ins:
					want = append(want, p...)
				}
			}
			in, want = append(in, 0x0b), append(want, 0x0b)
			if bytes.Contains(want, testBulk[4:]) { // a local i32 is declared last
				n, _, _ := uleb(locals, 0)
				locals = append(append(appendUleb(nil, n+1), locals[1:]...), 0x01, 0x7f)
			}
			want = append(locals, want...)
			got, _, err := guardModule(instrModule(in, nil))
			if err != nil {
				t.Fatal(err)
			}
			if want := instrModule(want, guarded); !bytes.Equal(got, want) {
				t.Fatalf("guarded module:\n got  %x\n want %x", got, want)
			}
			ctx := context.Background()
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			for _, m := range [][]byte{instrModule(in, nil), got} {
				if _, err := rt.CompileModule(ctx, m); err != nil {
					t.Fatalf("does not compile: %v", err)
				}
			}
		})
	}
}

// guarded, given to instrModule, adds what guardModule adds.
var guarded = &struct{}{}

// instrModule is a module whose function 0, of type [] -> [], has body; it
// has a table, a memory, a passive element and a passive data segment, and a
// type [i32] -> [i32 i32] (1) for multi-value blocks.
func instrModule(body []byte, withGuard *struct{}) []byte {
	types := [][]byte{b(0x60, 0x00, 0x00), b(0x60, 0x01, 0x7f, 0x02, 0x7f, 0x7f)}
	funcs := [][]byte{b(0x00)}
	code := [][]byte{append(appendUleb(nil, uint64(len(body))), body...)}
	var extra [][]byte
	if withGuard != nil {
		types = append(types, b(0x60, 0x00, 0x00))
		funcs = append(funcs, b(0x02))
		code = append(code, append(appendUleb(nil, uint64(len(testYield))), testYield...))
		extra = [][]byte{
			sec(6, vec(b(0x7f, 0x01, 0x41, 0x00, 0x0b), b(0x7f, 0x01, 0x41, 0x80, 0x08, 0x0b))),
			sec(7, vec(append(name(interruptExport), 0x03, 0x00))),
		}
	}
	secs := [][]byte{
		sec(1, vec(types...)),
		sec(3, vec(funcs...)),
		sec(4, vec(b(0x70, 0x00, 0x01))),
		sec(5, vec(b(0x00, 0x01))),
	}
	secs = append(secs, extra...)
	secs = append(secs,
		sec(9, vec(b(0x01, 0x00, 0x01, 0x00))),
		sec(12, b(0x01)),
		sec(10, vec(code...)),
		sec(11, vec(b(0x01, 0x03, 0xaa, 0xbb, 0xcc))),
	)
	return wasmModule(secs...)
}

// TestGuardSections: sections are created where absent, in order; indices
// follow imports; a start section becomes an export.
func TestGuardSections(t *testing.T) {
	yieldCode := append(appendUleb(nil, uint64(len(testYield))), testYield...)
	globals := sec(6, vec(b(0x7f, 0x01, 0x41, 0x00, 0x0b), b(0x7f, 0x01, 0x41, 0x80, 0x08, 0x0b)))
	flagExport := append(name(interruptExport), 0x03, 0x00)
	cases := []struct {
		name    string
		in, out []byte
	}{
		{"empty module", wasmModule(), wasmModule(
			sec(1, vec(b(0x60, 0x00, 0x00))),
			sec(3, vec(b(0x00))),
			sec(5, vec(b(0x00, 0x00))),
			globals,
			sec(7, vec(flagExport)),
			// $yield is function 0 here: the check is not in it, so its
			// code is the same.
			sec(10, vec(yieldCode)),
		)},
		{"custom sections stay where they are", wasmModule(
			sec(0, name("a"), b(1, 2, 3)),
			sec(5, vec(b(0x00, 0x01))),
			sec(0, name("b"), b(4)),
			sec(11, vec()),
			sec(0, name("c"), b(5)),
		), wasmModule(
			sec(0, name("a"), b(1, 2, 3)),
			sec(1, vec(b(0x60, 0x00, 0x00))),
			sec(3, vec(b(0x00))),
			sec(5, vec(b(0x00, 0x01))),
			sec(0, name("b"), b(4)),
			globals,
			sec(7, vec(flagExport)),
			sec(10, vec(yieldCode)),
			sec(11, vec()),
			sec(0, name("c"), b(5)),
		)},
		{"start section becomes an export", wasmModule(
			sec(1, vec(b(0x60, 0x00, 0x00))),
			sec(3, vec(b(0x00))),
			sec(5, vec(b(0x00, 0x01))),
			sec(7, vec(append(name("f"), 0x00, 0x00))),
			sec(8, b(0x00)),
			sec(10, vec(b(0x02, 0x00, 0x0b))),
		), wasmModule(
			sec(1, vec(b(0x60, 0x00, 0x00), b(0x60, 0x00, 0x00))),
			sec(3, vec(b(0x00), b(0x01))),
			sec(5, vec(b(0x00, 0x01))),
			globals,
			sec(7, vec(append(name("f"), 0x00, 0x00), flagExport, append(name(startExport), 0x00, 0x00))),
			sec(10, vec(append(appendUleb(nil, uint64(len(testCheck)+2)), append(append(b(0x00), testCheck...), 0x0b)...), yieldCode)),
		)},
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := guardModule(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.out) {
				t.Fatalf("guarded module:\n got  %x\n want %x", got, c.out)
			}
			if _, err := rt.CompileModule(ctx, got); err != nil {
				t.Fatalf("does not compile: %v", err)
			}
		})
	}
}

// TestGuardIndices: the flag, the budget and $yield are numbered after the
// imported and defined globals and functions.
func TestGuardIndices(t *testing.T) {
	in := wasmModule(
		sec(1, vec(b(0x60, 0x00, 0x00), b(0x60, 0x01, 0x7f, 0x00))),
		sec(2, vec(
			append(append(name("m"), name("f")...), 0x00, 0x01),
			append(append(name("m"), name("g")...), 0x03, 0x7e, 0x00),
			append(append(name("m"), name("t")...), 0x01, 0x70, 0x00, 0x00),
			append(append(name("m"), name("mem")...), 0x02, 0x01, 0x01, 0x02),
			append(append(name("m"), name("h")...), 0x03, 0x7f, 0x01),
		)),
		sec(3, vec(b(0x00), b(0x00))),
		sec(6, vec(b(0x7f, 0x00, 0x41, 0x07, 0x0b))),
		sec(10, vec(b(0x02, 0x00, 0x0b), b(0x02, 0x00, 0x0b))),
	)
	g := testPlan(t, in)
	if g.flag != 3 || g.yield != 3 || g.yType != 2 {
		t.Fatalf("flag %d, $yield %d of type %d; want 3, 3, 2", g.flag, g.yield, g.yType)
	}
	out, _, err := guardModule(in)
	if err != nil {
		t.Fatal(err)
	}
	// The imported memory is memory 0: no memory section is added.
	secs, err := splitSections(out)
	if err != nil {
		t.Fatal(err)
	}
	var ids []byte
	for _, s := range secs {
		ids = append(ids, s.id)
	}
	if want := []byte{1, 2, 3, 6, 7, 10}; !bytes.Equal(ids, want) {
		t.Fatalf("sections %v, want %v", ids, want)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, out); err != nil {
		t.Fatalf("does not compile: %v", err)
	}
}

// TestGuardRefuses: proposals wazero does not enable and malformed code are
// errors, each naming the place.
func TestGuardRefuses(t *testing.T) {
	body := func(code ...byte) []byte { return instrModule(append(append(b(0x00), code...), 0x0b), nil) }
	cases := []struct {
		name string
		wasm []byte
		want string // a regular expression for the whole message
	}{
		{"threads", body(0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a), `module uses threads \(function 0, byte \d+: opcode 0xfe\), which wasinfer does not support: build it for WebAssembly 2\.0 without that feature`},
		{"tail calls", body(0x12, 0x00), `module uses tail calls \(function 0, byte \d+: opcode 0x12\), `},
		{"exceptions", body(0x06, 0x40, 0x0b), `module uses exception handling \(function 0, byte \d+: opcode 0x6\), `},
		{"GC", body(0xfb, 0x00), `module uses typed function references or GC \(function 0, byte \d+: opcode 0xfb\), `},
		{"typed select", body(0x41, 0x01, 0x41, 0x02, 0x41, 0x03, 0x1c, 0x01, 0x63, 0x6f, 0x1a), `module uses typed function references or GC \(function 0, byte \d+: value type 0x63\), `},
		{"relaxed SIMD", body(0xfd, 0x80, 0x02), `module uses the SIMD instruction 256 \(relaxed SIMD\) \(function 0, byte \d+: opcode 0xfd\), `},
		{"unassigned SIMD", body(0xfd, 0x9a, 0x01), `module uses the unassigned SIMD instruction 154 \(`},
		{"0xfc 18", body(0xfc, 0x12), `module uses the 0xfc instruction 18 \(`},
		{"multiple memories", body(0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x1a), `module uses multiple memories \(function 0, byte \d+: memory argument\), `},
		{"shared memory", wasmModule(sec(2, vec(append(append(name("m"), name("mem")...), 0x02, 0x03, 0x01, 0x01)))), `module uses threads \(byte 18: shared memory\), `},
		{"tag section", wasmModule(sec(13, vec())), `module uses exception handling \(a tag section at byte 8\), `},
		{"unknown opcode", body(0x27), `^function 0: byte \d+: unknown opcode 0x27$`},
		{"truncated immediate", instrModule(b(0x00, 0x44, 0x00, 0x00), nil), `^function 0: byte \d+: unexpected end$`},
		{"no final end", instrModule(b(0x00, 0x01), nil), `^function 0: byte \d+: function body ends without its final end$`},
		{"code after end", instrModule(b(0x00, 0x0b, 0x01, 0x0b), nil), `^function 0: byte \d+: code after the function's final end$`},
		{"bad block type", body(0x02, 0x50, 0x0b), `^function 0: byte \d+: value type 0x50$`},
		{"reserved export", wasmModule(sec(7, vec(append(name(startExport), 0x00, 0x00)))), `^the module exports "__wasinfer_start", a name the host reserves$`},
		{"sections out of order", wasmModule(sec(3, vec()), sec(1, vec())), `^section 1 at byte 11 is out of order or repeated$`},
		{"section repeated", wasmModule(sec(1, vec()), sec(1, vec())), `^section 1 at byte 11 is out of order or repeated$`},
		{"section too long", append([]byte("\x00asm\x01\x00\x00\x00"), 0x01, 0x05, 0x00), `^section 1 at byte 8 runs past the end of the module$`},
		{"unknown section", wasmModule(sec(14, vec())), `^unknown section id 14 at byte 8$`},
		{"import kind", wasmModule(sec(2, vec(append(append(name("m"), name("x")...), 0x07)))), `^import section: byte 15: import kind 0x7$`},
		{"no header", []byte("\x00asm\x0d\x00\x01\x00"), `^no WebAssembly 1\.0 binary header$`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := guardModule(c.wasm)
			if err == nil || !regexp.MustCompile(c.want).MatchString(err.Error()) {
				t.Fatalf("error:\n got  %v\n want %s", err, c.want)
			}
		})
	}
}

// TestGuardGarbage: every prefix of a module, and the module with any one
// byte changed, gives a module or an error, never a panic.
func TestGuardGarbage(t *testing.T) {
	wasm := instrModule(append(append(b(0x00, 0x03, 0x40), testBulk...), 0x0b, 0x0b), nil)
	for n := range len(wasm) {
		_, _, _ = guardModule(wasm[:n])
	}
	for i := range wasm {
		for _, v := range []byte{0x00, 0x01, 0x03, 0x0b, 0x7f, 0x80, 0xfc, 0xfd, 0xff} {
			w := bytes.Clone(wasm)
			w[i] = v
			_, _, _ = guardModule(w)
		}
	}
}

// FuzzGuardModule: checkCounts and guardModule never panic; guardModule
// guards every module wazero compiles (unless it uses a reserved export
// name); a guarded module compiles if and only if the original does (a
// module without memory aside: the guard adds one). Only modules that pass
// checkCounts reach wazero, as in Load: wazero's decoder allocates by the
// counts a module declares (counts.go), and a worker died of it.
func FuzzGuardModule(f *testing.F) {
	for _, wasm := range committedModules(f) {
		if len(wasm) <= 256<<10 {
			f.Add(wasm)
		}
	}
	f.Add(instrModule(b(0x00, 0x03, 0x40, 0x0b, 0x0b), nil))
	f.Add(wasmModule(sec(5, vec(b(0x00, 0x01))), sec(11, vec(dataAt(0, "ab"), dataAt(6, "cd"), dataPassive("p"), dataAt(9, "e")))))
	for _, c := range hugeCountModules {
		f.Add(c.wasm)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, _, err := guardModule(wasm)
		if checkCounts(wasm) != nil {
			return
		}
		orig, origErr := compileModule(ctx, rt, wasm)
		if origErr == nil {
			defer orig.Close(ctx)
		}
		if err != nil {
			var u *unsupportedError
			if origErr == nil && !errors.As(err, &u) && !strings.Contains(err.Error(), "reserves") {
				t.Fatalf("refused a module wazero compiles: %v", err)
			}
			return
		}
		g, gErr := compileModule(ctx, rt, out)
		if gErr == nil {
			defer g.Close(ctx)
		}
		if origErr == nil {
			if a, b := dataSection(t, wasm), dataSection(t, out); a != nil {
				sameImage(t, a, b) // merged data segments make the same memory
			}
		}
		switch {
		case origErr == nil && gErr != nil:
			t.Fatalf("guarded module does not compile: %v", gErr)
		case origErr != nil && gErr == nil && checkGuarded(g) == nil && hasMemory(wasm):
			t.Fatalf("guarding made an invalid module valid (%v)", origErr)
		}
	})
}

func hasMemory(wasm []byte) bool {
	secs, err := splitSections(wasm)
	if err != nil {
		return false
	}
	m := &moduleInfo{}
	for _, s := range secs {
		_ = m.scan(wasm, s)
	}
	return m.importedMemories+m.definedMemories > 0
}

// withStart returns ok_identity with a start section that runs a new
// function of type [] -> [] with the given body (locals included).
func withStart(t *testing.T, body []byte) []byte {
	wasm := guest(t, "ok_identity")
	secs, err := splitSections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	m := &moduleInfo{}
	out := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range secs {
		if err := m.scan(wasm, s); err != nil {
			t.Fatal(err)
		}
		contents := wasm[s.start:s.end]
		switch s.id {
		case 1:
			contents = append(withCount(contents, m.types+1), 0x60, 0x00, 0x00)
		case 3:
			contents = appendUleb(withCount(contents, m.definedFuncs+1), m.types)
		case 10:
			n, _, _ := uleb(contents, 0)
			contents = append(appendUleb(withCount(contents, n+1), uint64(len(body))), body...)
		}
		out = appendSection(out, s.id, contents)
		if s.id == 7 {
			out = appendSection(out, 8, appendUleb(nil, m.importedFuncs+m.definedFuncs))
		}
	}
	return out
}

// TestGuardStartSection: a start function runs under the deadline, with
// either engine.
func TestGuardStartSection(t *testing.T) {
	forever := b(0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b)
	trap := b(0x00, 0x00, 0x0b)
	for _, engine := range []struct {
		name string
		opts []Option
	}{{"compiler", nil}, {"interpreter", []Option{WithInterpreter()}}} {
		t.Run(engine.name, func(t *testing.T) {
			for _, c := range []struct {
				name string
				body []byte
				kind ErrorKind
			}{{"loop", forever, KindTimeout}, {"trap", trap, KindInit}} {
				opts := append([]Option{WithName(c.name), WithPoolSize(1), WithCacheDir(testCacheDir), WithTimeout(300 * time.Millisecond)}, engine.opts...)
				_, err := Load(context.Background(), withStart(t, c.body), opts...)
				var ue *UDFError
				if !errors.As(err, &ue) || ue.Kind != c.kind {
					t.Fatalf("%s: got %v, want kind %s", c.name, err, c.kind)
				}
			}
		})
	}
}

// TestGuardCancel: a canceled call is reported as canceled, not as a trap,
// and the instance is replaced.
func TestGuardCancel(t *testing.T) {
	u, err := loadGuest(t, "loop", WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(context.Background())
	rec := smallBatch(memory.DefaultAllocator)
	defer rec.Release()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = u.Transform(ctx, 3, rec)
	want := `udf "loop": batch 3: canceled: call canceled: stopped by the host: context canceled`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got  %v\n want %s", err, want)
	}
	if ue := (*UDFError)(nil); !errors.As(err, &ue) || !ue.Replaced() || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %#v, want a replaced instance and context.Canceled", err)
	}
}

// TestGuardLetsGCRun: while a guest spins, garbage collections complete
// (the guest yields to Go), and canceling the call still stops it. Without
// the yields a collection would wait for the spinning goroutine forever, and
// so would the cancellation, which needs the collector's world to restart.
// Nothing here is timed: the collections must finish while the guest is
// still running (its deadline is far away), whatever the machine's load.
func TestGuardLetsGCRun(t *testing.T) {
	for _, name := range []string{"loop", "exp_calls", "bulk_memory"} {
		t.Run(name, func(t *testing.T) {
			u, err := loadGuest(t, name, WithTimeout(10*time.Minute), WithMemoryLimit(256<<20))
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close(context.Background())
			rec := smallBatch(memory.DefaultAllocator)
			defer rec.Release()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := u.Transform(ctx, 0, rec)
				done <- err
			}()
			for range 3 {
				time.Sleep(20 * time.Millisecond)
				runtime.GC()
			}
			select {
			case err := <-done:
				t.Fatalf("the guest stopped before it was canceled: %v", err)
			default:
			}
			cancel()
			var ue *UDFError
			if err := <-done; !errors.As(err, &ue) || ue.Kind != KindCanceled {
				t.Fatalf("got %v, want a cancellation", err)
			}
		})
	}
}

// TestGuardInterpreter: under the interpreter wazero's own mechanism stops
// guests, loops and loop-free call trees alike.
func TestGuardInterpreter(t *testing.T) {
	for _, name := range []string{"loop", "exp_calls"} {
		t.Run(name, func(t *testing.T) {
			u, err := loadGuest(t, name, WithInterpreter(), WithTimeout(300*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close(context.Background())
			if u.guarded {
				t.Fatal("the interpreter runs a guarded module")
			}
			rec := smallBatch(memory.DefaultAllocator)
			defer rec.Release()
			_, err = u.Transform(context.Background(), 0, rec)
			var ue *UDFError
			if !errors.As(err, &ue) || ue.Kind != KindTimeout {
				t.Fatalf("got %v, want a timeout", err)
			}
		})
	}
}

// TestWatchdog: the flag is set when ctx ends or the deadline passes during
// an operation, set at once for one that starts with ctx done, and never set
// after disarm returned nil; a registration on one context does not stop an
// operation that came with another. The flag is read only after disarm,
// which synchronises with the callbacks.
func TestWatchdog(t *testing.T) {
	ctx := context.Background()
	out, _, err := guardModule(guest(t, "ok_identity"))
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	fresh := func() (*watchdog, api.Module) {
		mod, err := rt.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			t.Fatal(err)
		}
		g, err := bindInterrupt(mod)
		if err != nil {
			t.Fatal(err)
		}
		w := newWatchdog(g)
		t.Cleanup(w.close)
		return w, mod
	}

	w, _ := fresh()
	cctx, cancel := context.WithCancel(ctx)
	w.arm(cctx, time.Hour)
	if err := w.disarm(); err != nil || w.flag.Get() != 0 {
		t.Fatalf("disarmed before ctx ended: flag %d, cause %v", w.flag.Get(), err)
	}
	cancel()
	time.Sleep(10 * time.Millisecond)
	if err := w.disarm(); err != nil || w.flag.Get() != 0 {
		t.Fatal("ctx ended after disarm: flag set")
	}

	w, _ = fresh()
	cctx, cancel = context.WithCancel(ctx)
	w.arm(cctx, time.Hour)
	cancel()
	for !w.tripped() {
		time.Sleep(time.Millisecond)
	}
	if err := w.disarm(); !errors.Is(err, context.Canceled) || w.flag.Get() != 1 {
		t.Fatalf("ctx ended during the operation: flag %d, cause %v when disarm returned", w.flag.Get(), err)
	}

	w, _ = fresh()
	w.arm(ctx, time.Nanosecond)
	for !w.tripped() {
		time.Sleep(time.Millisecond)
	}
	if err := w.disarm(); !errors.Is(err, context.DeadlineExceeded) || w.flag.Get() != 1 {
		t.Fatalf("deadline passed before disarm: flag %d, cause %v when disarm returned", w.flag.Get(), err)
	}

	w, _ = fresh()
	first, cancelFirst := context.WithCancel(ctx)
	w.arm(first, time.Hour)
	_ = w.disarm()
	w.arm(ctx, time.Hour) // no Done channel: the registration on first is dropped
	cancelFirst()
	time.Sleep(10 * time.Millisecond)
	if err := w.disarm(); err != nil || w.flag.Get() != 0 {
		t.Fatal("an operation without a context was stopped by an earlier one's")
	}
	second, cancelSecond := context.WithCancel(ctx)
	defer cancelSecond()
	w.arm(second, time.Hour)
	if err := w.disarm(); err != nil || w.flag.Get() != 0 {
		t.Fatal("a new context was stopped by an earlier one's")
	}

	w, mod := fresh()
	w.arm(cctx, time.Hour)
	if err := w.disarm(); !errors.Is(err, context.Canceled) || w.flag.Get() != 1 {
		t.Fatal("ctx done before the operation: flag not set")
	}
	_, err = mod.ExportedFunction("wasinfer_abi_v1").Call(ctx)
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("call with the flag set: got %v, want the guard's trap", err)
	}
}

// tripped reports whether a callback has recorded a cause (tests).
func (w *watchdog) tripped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cause != nil
}

// BenchmarkDeadlineGuard measures what stopping a runaway guest costs a
// guest that does not run away: tight_loop's spin, a loop of an add and a
// decrement, run in the same process three ways, interleaved: with no
// deadline mechanism at all, with wazero's WithCloseOnContextDone, and with
// the guard of guardModule (armed per call, as the host does). It reports
// ns per loop iteration for each and the ratios of the two mechanisms to
// none and to each other.
func BenchmarkDeadlineGuard(b *testing.B) {
	ctx := context.Background()
	wasm := guest(b, "tight_loop")
	guardedWasm, _, err := guardModule(wasm)
	if err != nil {
		b.Fatal(err)
	}
	n := uint64(1 << 20)
	type variant struct {
		spin  api.Function
		watch *watchdog // the guard's; nil for the other two
		total time.Duration
	}
	load := func(wasm []byte, closeOnDone, guard bool) *variant {
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
		b.Cleanup(func() { rt.Close(ctx) })
		mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			b.Fatal(err)
		}
		v := &variant{spin: mod.ExportedFunction("spin")}
		if guard {
			g, err := bindInterrupt(mod)
			if err != nil {
				b.Fatal(err)
			}
			v.watch = newWatchdog(g)
			b.Cleanup(v.watch.close)
		}
		return v
	}
	none, wz, grd := load(wasm, false, false), load(wasm, true, false), load(guardedWasm, false, true)
	cctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	stack := make([]uint64, 1)
	for b.Loop() {
		for _, v := range []*variant{none, wz, grd} {
			start := time.Now()
			if v.watch != nil {
				v.watch.arm(cctx, time.Hour)
			}
			stack[0] = n
			err := v.spin.CallWithStack(cctx, stack)
			if v.watch != nil {
				_ = v.watch.disarm()
			}
			v.total += time.Since(start)
			if err != nil || uint32(stack[0]) != uint32(n*(n+1)/2) {
				b.Fatalf("spin(%d) = %d, %v", n, stack[0], err)
			}
		}
	}
	iters := float64(b.N) * float64(n)
	perIter := func(v *variant) float64 { return float64(v.total.Nanoseconds()) / iters }
	b.ReportMetric(perIter(none), "ns/iter_none")
	b.ReportMetric(perIter(wz), "ns/iter_wazero")
	b.ReportMetric(perIter(grd), "ns/iter_guard")
	b.ReportMetric(perIter(wz)/perIter(none), "x_wazero/none")
	b.ReportMetric(perIter(grd)/perIter(none), "x_guard/none")
	b.ReportMetric(perIter(wz)/perIter(grd), "x_wazero/guard")
}

// TestGuardRefusesGuardIndices: an index one past the original module's
// index spaces is out of range there, and after guarding would name the
// guard's own $yield, its type, the flag or the budget. The guard refuses
// such a module (wazero refuses the original too); otherwise a hostile
// module could clear the flag or refill the budget and outrun its deadline.
func TestGuardRefusesGuardIndices(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	exportOf := func(kind byte, index byte) []byte {
		return wasmModule(
			sec(1, vec(b(0x60, 0x00, 0x00))),
			sec(3, vec(b(0x00))),
			sec(5, vec(b(0x00, 0x01))),
			sec(7, vec(append(name("x"), kind, index))),
			sec(10, vec(b(0x02, 0x00, 0x0b))),
		)
	}
	for _, c := range []struct {
		name, want string
		wasm       []byte
	}{
		{"global.set of the flag", "global 0; the module has 0", instrModule(b(0x00, 0x41, 0x00, 0x24, 0x00, 0x0b), nil)},
		{"global.get of the budget", "global 1; the module has 0", instrModule(b(0x00, 0x23, 0x01, 0x1a, 0x0b), nil)},
		{"call of $yield", "function 1; the module has 1", instrModule(b(0x00, 0x10, 0x01, 0x0b), nil)},
		{"ref.func of $yield", "function 1; the module has 1", instrModule(b(0x00, 0xd2, 0x01, 0x1a, 0x0b), nil)},
		{"call_indirect of $yield's type", "type 2; the module has 2", instrModule(b(0x00, 0x41, 0x00, 0x11, 0x02, 0x00, 0x0b), nil)},
		{"block of $yield's type", "a block of type 2; the module has 2", instrModule(b(0x00, 0x02, 0x02, 0x0b, 0x0b), nil)},
		{"export of $yield", `export "x" is function 1; the module has 1`, exportOf(0x00, 0x01)},
		{"export of the flag", `export "x" is global 0; the module has 0`, exportOf(0x03, 0x00)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if m, err := rt.CompileModule(ctx, c.wasm); err == nil {
				m.Close(ctx)
				t.Fatal("wazero compiles the original; the case is wrong")
			}
			_, _, err := guardModule(c.wasm)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("guardModule: %v; want an error containing %q", err, c.want)
			}
		})
	}
}
