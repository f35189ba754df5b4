package host

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasinfer/wasinfer/abi"
)

// wasiFunctions is WASI preview 1 less the sock_* functions (spec §7).
var wasiFunctions = map[string]bool{
	"args_get": true, "args_sizes_get": true, "environ_get": true, "environ_sizes_get": true,
	"clock_res_get": true, "clock_time_get": true, "fd_advise": true, "fd_allocate": true,
	"fd_close": true, "fd_datasync": true, "fd_fdstat_get": true, "fd_fdstat_set_flags": true,
	"fd_fdstat_set_rights": true, "fd_filestat_get": true, "fd_filestat_set_size": true,
	"fd_filestat_set_times": true, "fd_pread": true, "fd_prestat_get": true, "fd_prestat_dir_name": true,
	"fd_pwrite": true, "fd_read": true, "fd_readdir": true, "fd_renumber": true, "fd_seek": true,
	"fd_sync": true, "fd_tell": true, "fd_write": true, "path_create_directory": true,
	"path_filestat_get": true, "path_filestat_set_times": true, "path_link": true, "path_open": true,
	"path_readlink": true, "path_remove_directory": true, "path_rename": true, "path_symlink": true,
	"path_unlink_file": true, "poll_oneoff": true, "proc_exit": true, "proc_raise": true,
	"sched_yield": true, "random_get": true,
}

type signature struct {
	params, results []api.ValueType
}

var (
	i32, i64 = api.ValueTypeI32, api.ValueTypeI64
	required = map[string]signature{
		abi.ExportVersion:   {},
		abi.ExportAlloc:     {[]api.ValueType{i32, i32}, []api.ValueType{i32}},
		abi.ExportFree:      {[]api.ValueType{i32, i32, i32}, nil},
		abi.ExportTransform: {[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}},
		abi.ExportRelease:   {[]api.ValueType{i32, i32}, nil},
		abi.ExportLastError: {nil, []api.ValueType{i64}},
	}
	optional = map[string]signature{
		abi.ExportInit:       {[]api.ValueType{i32, i32}, []api.ValueType{i32}},
		abi.ExportDescribe:   {nil, []api.ValueType{i64}},
		abi.ExportInitialize: {},
	}
)

// checkBinary refuses bytes that are not a core WebAssembly module, before
// they reach the compiler.
func checkBinary(wasm []byte, limit int64) error {
	if int64(len(wasm)) > limit {
		return fmt.Errorf("module is %d bytes, above the limit of %d (raise it with the max module size option)", len(wasm), limit)
	}
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return fmt.Errorf("not a WebAssembly module (no \\0asm header)")
	}
	if v := wasm[4:8]; !bytes.Equal(v, []byte{1, 0, 0, 0}) {
		return fmt.Errorf("WebAssembly binary version %x is not a core module (components are not supported)", v)
	}
	return nil
}

// admit checks a compiled module against spec §2, §3 and §7.
func admit(m wazero.CompiledModule, hasConfig bool) error {
	exports := m.ExportedFunctions()
	var versions []string
	for name := range exports {
		if strings.HasPrefix(name, abi.VersionPrefix) {
			versions = append(versions, name)
		}
	}
	slices.Sort(versions)
	switch {
	case len(versions) == 0:
		return fmt.Errorf("not a wasinfer UDF: missing export %s (build it with a wasinfer SDK)", abi.ExportVersion)
	case !slices.Contains(versions, abi.ExportVersion):
		v := strings.TrimPrefix(versions[0], abi.VersionPrefix)
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("export %s names no ABI version", versions[0])
		}
		return fmt.Errorf("module targets wasinfer ABI v%s; this host supports ABI v%d: rebuild it with an SDK for ABI v%d", v, abi.Version, abi.Version)
	}
	if _, ok := exports[abi.ExportStart]; ok {
		if _, ok := exports[abi.ExportInitialize]; !ok {
			return fmt.Errorf("module is a WASI command (exports _start): build it as a reactor (clang -mexec-model=reactor, go build -buildmode=c-shared, rustc --crate-type cdylib)")
		}
	}
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(required)) {
		def, ok := exports[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		if err := checkSignature(name, def, required[name]); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("module lacks required exports %s (ABI v%d spec §2)", strings.Join(missing, ", "), abi.Version)
	}
	for name, sig := range optional {
		if def, ok := exports[name]; ok {
			if err := checkSignature(name, def, sig); err != nil {
				return err
			}
		}
	}
	if _, ok := exports[abi.ExportInit]; !ok && hasConfig {
		return fmt.Errorf("the stage passes configuration but the module has no %s export", abi.ExportInit)
	}
	if len(m.ImportedMemories()) > 0 {
		return fmt.Errorf("module imports its memory; a UDF must export its own memory as %q", abi.ExportMemory)
	}
	if _, ok := m.ExportedMemories()[abi.ExportMemory]; !ok {
		return fmt.Errorf("module does not export its memory as %q", abi.ExportMemory)
	}
	for _, f := range m.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != abi.WASIModule || !wasiFunctions[name] {
			return fmt.Errorf("module imports %s.%s, which UDFs may not use: allowed imports are %s functions except sock_*", mod, name, abi.WASIModule)
		}
	}
	return nil
}

func checkSignature(name string, def api.FunctionDefinition, want signature) error {
	if !slices.Equal(def.ParamTypes(), want.params) || !slices.Equal(def.ResultTypes(), want.results) {
		return fmt.Errorf("export %s has signature %s, want %s", name, sigString(def.ParamTypes(), def.ResultTypes()), sigString(want.params, want.results))
	}
	return nil
}

func sigString(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		var s []string
		for _, t := range ts {
			s = append(s, api.ValueTypeName(t))
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return names(params) + " -> " + names(results)
}
