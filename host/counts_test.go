package host

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/tetratelabs/wazero"
)

// hugeCountModules: modules that each declare one vector far longer than
// the bytes that follow (or than the JS API's limits), one per count that
// wazero's decoder allocates by, with checkCounts' refusal.
var hugeCountModules = []struct {
	name string
	wasm []byte
	want string
}{
	{"types", wasmModule(sec(1, u(1<<32-1))), "type section: byte 10: 4294967295 types, above the limit of 1000000"},
	{"types_bytes", wasmModule(sec(1, u(1000), b(0x60, 0x00))), "type section: byte 10: 1000 types declared in the 2 bytes left (each takes at least 3)"},
	{"params", wasmModule(sec(1, u(1), b(0x60), u(0x12c58b16))), "type section: byte 12: 314936086 parameters, above the limit of 1000"},
	{"params_bytes", wasmModule(sec(1, u(1), b(0x60), u(999), b(0x7f))), "type section: byte 12: 999 parameters declared in the 1 bytes left (each takes at least 1)"},
	{"results", wasmModule(sec(1, u(1), b(0x60, 0x00), u(1<<31))), "type section: byte 13: 2147483648 results, above the limit of 1000"},
	{"imports", wasmModule(sec(2, u(1<<32-1))), "import section: byte 10: 4294967295 imports, above the limit of 100000"},
	{"imports_bytes", wasmModule(sec(2, u(99999), name("a"))), "import section: byte 10: 99999 imports declared in the 2 bytes left (each takes at least 4)"},
	{"import_name", wasmModule(sec(2, u(1), u(1<<32-16))), "import section: byte 11: a name of 4294967280 bytes runs past the section"},
	{"functions", wasmModule(sec(3, u(999999), b(0x00))), "function section: byte 10: 999999 functions declared in the 1 bytes left (each takes at least 1)"},
	{"tables", wasmModule(sec(4, u(1<<32-1))), "table section: byte 10: 4294967295 tables, above the limit of 100000"},
	{"memories", wasmModule(sec(5, u(50000), b(0x00, 0x01))), "memory section: byte 10: 50000 memories declared in the 2 bytes left (each takes at least 2)"},
	{"globals", wasmModule(sec(6, u(1<<32-1))), "global section: byte 10: 4294967295 globals, above the limit of 1000000"},
	{"exports", wasmModule(sec(7, u(99999), name("x"), b(0x00, 0x00))), "export section: byte 10: 99999 exports declared in the 4 bytes left (each takes at least 3)"},
	{"export_name", wasmModule(sec(7, u(1), u(1000), b(0x00, 0x00))), "export section: byte 11: a name of 1000 bytes runs past the section"},
	{"element_segments", wasmModule(sec(9, u(1<<32-1))), "element section: byte 10: 4294967295 element segments, above the limit of 10000000"},
	{"element_functions", wasmModule(sec(9, u(1), b(0x01, 0x00), u(5_000_000))), "element section: byte 13: 5000000 function indices declared in the 0 bytes left (each takes at least 1)"},
	{"element_expressions", wasmModule(sec(9, u(1), b(0x05, 0x70), u(1<<32-1))), "element section: byte 13: 4294967295 element expressions, above the limit of 10000000"},
	{"function_bodies", wasmModule(sec(10, u(999999), b(0x02, 0x00, 0x0b))), "code section: byte 10: 999999 function bodies declared in the 3 bytes left (each takes at least 2)"},
	{"body_size", wasmModule(sec(10, u(1), u(1<<32-16), b(0x00, 0x0b))), "code section: byte 16: a function body of 4294967280 bytes runs past the section"},
	{"local_groups", wasmModule(sec(10, u(1), u(5), u(40000), b(0x7f, 0x0b))), "code section: byte 12: 40000 local groups declared in the 2 bytes left (each takes at least 2)"},
	{"locals", wasmModule(sec(10, u(1), u(8), u(1), u(1<<32-2), b(0x7f, 0x0b))), "code section: byte 13: more than 50000 locals in a function"},
	{"locals_sum", wasmModule(sec(10, u(1), u(9), u(2), u(30000), b(0x7f), u(30000), b(0x7e, 0x0b))), "code section: byte 17: more than 50000 locals in a function"},
	{"data_segments", wasmModule(sec(11, u(1<<32-1))), "data section: byte 10: 4294967295 data segments, above the limit of 100000"},
	{"data_bytes", wasmModule(sec(11, u(1), b(0x01), u(1<<32-1))), "data section: byte 12: 4294967295 data bytes, above the limit of 2147483647"},
	{"data_bytes_left", wasmModule(sec(11, u(1), b(0x00, 0x41, 0x00, 0x0b), u(100), b(1, 2, 3))), "data section: byte 15: 100 data bytes declared in the 3 bytes left (each takes at least 1)"},
	{"custom_name", wasmModule(sec(0, u(1<<32-1))), "custom section: byte 10: a name of 4294967295 bytes runs past the section"},
	{"function_names", wasmModule(sec(0, name("name"), b(0x01), u(5), u(1<<32-1))), "custom section: name subsection 1: byte 17: 4294967295 function names, above the limit of 1000000"},
	{"function_names_bytes", wasmModule(sec(0, name("name"), b(0x01), u(5), u(900000), b(0x00, 0x00))), "custom section: name subsection 1: byte 17: 900000 function names declared in the 2 bytes left (each takes at least 2)"},
	{"local_names", wasmModule(sec(0, name("name"), b(0x02), u(7), u(1), b(0x00), u(60000), b(0x00, 0x00))), "custom section: name subsection 2: byte 19: 60000 local names, above the limit of 51000"},
	{"name_subsection_lies", wasmModule(sec(0, name("name"), b(0x01), u(1), u(1), b(0x00, 0x01, 'f'))), "custom section: name subsection 1: byte 17: 1 function names declared in the 0 bytes left (each takes at least 2)"},
	{"name_subsection_short", wasmModule(sec(0, name("name"), b(0x00), u(3), name("m"), b(0xff))), "custom section: byte 19: name subsection 0 declares 3 bytes, its contents take 2"},
}

// u is a u32 as LEB128.
func u(v uint64) []byte { return appendUleb(nil, v) }

// TestHugeDeclaredCountsRefused: checkCounts refuses a module for every
// vector it declares longer than the bytes left for it (or than the JS
// API's limits), saying which and where. Found by FuzzGuardModule, whose
// worker died as wazero's decoder allocated 0x12c58b16 parameters for a
// module of a few bytes.
func TestHugeDeclaredCountsRefused(t *testing.T) {
	for _, c := range hugeCountModules {
		t.Run(c.name, func(t *testing.T) {
			err := checkCounts(c.wasm)
			if err == nil || err.Error() != c.want {
				t.Fatalf("checkCounts:\n got  %v\n want %s", err, c.want)
			}
		})
	}
}

// TestLoadRefusesHugeCounts: Load refuses those modules under both engines
// before wazero decodes them, with next to no memory. Under the
// interpreter, "locals" (26 bytes) made the process die (fatal error:
// runtime: out of memory), and "params" allocated 2.4 GB.
func TestLoadRefusesHugeCounts(t *testing.T) {
	for _, engine := range []struct {
		name string
		opts []Option
	}{{"compiler", nil}, {"interpreter", []Option{WithInterpreter()}}} {
		t.Run(engine.name, func(t *testing.T) {
			for _, c := range hugeCountModules {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				u, err := Load(context.Background(), c.wasm, append(engine.opts, WithName(c.name), WithCacheDir(testCacheDir))...)
				runtime.ReadMemStats(&after)
				if err == nil {
					u.Close(context.Background())
					t.Fatalf("%s: loaded", c.name)
				}
				want := `udf "` + c.name + `": load: not a valid WebAssembly module: ` + c.want
				var ue *UDFError
				if !errors.As(err, &ue) || ue.Kind != KindLoad || err.Error() != want {
					t.Fatalf("%s: error:\n got  %v\n want %s", c.name, err, want)
				}
				if heap := after.TotalAlloc - before.TotalAlloc; heap > 1<<20 {
					t.Fatalf("%s: refusing it allocated %d bytes", c.name, heap)
				}
			}
		})
	}
}

// TestCountsAcceptCommittedModules: no module this repository builds is
// refused by checkCounts.
func TestCountsAcceptCommittedModules(t *testing.T) {
	for path, wasm := range committedModules(t) {
		if err := checkCounts(wasm); err != nil && !isBroken(path) {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// isBroken: the corpus's modules that are not valid on purpose.
func isBroken(path string) bool {
	switch path {
	case "testdata/guests/not_wasm.wasm", "testdata/guests/truncated.wasm":
		return true
	}
	return false
}

// callOfMissingType is the module FuzzGuardModule found
// (testdata/fuzz/FuzzGuardModule/3d41b363aab22c32), reduced: function 0
// calls function 1, whose type index (48) is past the 1 type there is.
// wazero v1.12 checks a function's type index only when it validates that
// function, and panicked (index out of range) validating the call.
var callOfMissingType = wasmModule(
	sec(1, vec(b(0x60, 0x00, 0x00))),
	sec(3, vec(b(0x00), b(0x30))),
	sec(10, vec(b(0x04, 0x00, 0x10, 0x01, 0x0b), b(0x02, 0x00, 0x0b))),
)

// TestLoadRefusesCallOfMissingType: Load refuses that module under both
// engines, with an error; under the interpreter it panicked in Load.
func TestLoadRefusesCallOfMissingType(t *testing.T) {
	for _, engine := range []struct {
		name string
		opts []Option
	}{{"compiler", nil}, {"interpreter", []Option{WithInterpreter()}}} {
		t.Run(engine.name, func(t *testing.T) {
			_, err := Load(context.Background(), callOfMissingType, append(engine.opts, WithName("m"), WithCacheDir(testCacheDir))...)
			want := `udf "m": load: not a valid WebAssembly module: function section: byte 18: a function of type 48; the module has 1 types`
			if err == nil || err.Error() != want {
				t.Fatalf("error:\n got  %v\n want %s", err, want)
			}
		})
	}
}

// TestCompileModulePanicRefused: a panic of wazero's decoder or validator
// is the module's refusal, not the host's crash (the module above, which
// checkCounts would refuse first, given to wazero directly).
func TestCompileModulePanicRefused(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	_, err := compileModule(ctx, rt, callOfMissingType)
	want := "wazero failed on this module (panic: runtime error: index out of range [48] with length 1): it is refused"
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got  %v\n want %s", err, want)
	}
}
