package vet

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/wasinfer/wasinfer/abi"
	"github.com/wasinfer/wasinfer/manifest"
)

// Import is one function (or other entity) a module imports.
type Import struct {
	Module, Name string
	Kind         byte // 0 function, 1 table, 2 memory, 3 global, 4 tag
}

// capabilityOf maps each WASI preview 1 function to the capability it
// exercises ("" for none: stdio on the descriptors the host always opens,
// process control, scheduling, and the host's deterministic random source).
//
//   - files: path_* and the fd_* functions that only make sense on a file or
//     directory (preopens, directory reads, positioned I/O, metadata,
//     allocation, sync, renumbering).
//   - env: environ_* and args_* (the host passes no arguments and no
//     environment unless granted).
//   - clock: clock_* and poll_oneoff (the only way to sleep).
//   - network: sock_*.
//   - none: fd_write, fd_read, fd_close, fd_seek, fd_tell, fd_fdstat_get,
//     fd_fdstat_set_flags, fd_fdstat_set_rights (what libc's and Go's
//     stdio do with stdin, stdout, stderr), proc_exit, proc_raise,
//     sched_yield, random_get.
var capabilityOf = map[string]manifest.Capability{
	"args_get": manifest.CapEnv, "args_sizes_get": manifest.CapEnv,
	"environ_get": manifest.CapEnv, "environ_sizes_get": manifest.CapEnv,
	"clock_res_get": manifest.CapClock, "clock_time_get": manifest.CapClock, "poll_oneoff": manifest.CapClock,
	"fd_advise": manifest.CapFiles, "fd_allocate": manifest.CapFiles, "fd_datasync": manifest.CapFiles,
	"fd_filestat_get": manifest.CapFiles, "fd_filestat_set_size": manifest.CapFiles,
	"fd_filestat_set_times": manifest.CapFiles, "fd_pread": manifest.CapFiles,
	"fd_prestat_get": manifest.CapFiles, "fd_prestat_dir_name": manifest.CapFiles,
	"fd_pwrite": manifest.CapFiles, "fd_readdir": manifest.CapFiles, "fd_renumber": manifest.CapFiles,
	"fd_sync":               manifest.CapFiles,
	"path_create_directory": manifest.CapFiles, "path_filestat_get": manifest.CapFiles,
	"path_filestat_set_times": manifest.CapFiles, "path_link": manifest.CapFiles, "path_open": manifest.CapFiles,
	"path_readlink": manifest.CapFiles, "path_remove_directory": manifest.CapFiles, "path_rename": manifest.CapFiles,
	"path_symlink": manifest.CapFiles, "path_unlink_file": manifest.CapFiles,
	"sock_accept": manifest.CapNetwork, "sock_recv": manifest.CapNetwork, "sock_send": manifest.CapNetwork,
	"sock_shutdown": manifest.CapNetwork,
}

// runtimeImports are the imports that the standard runtimes of the SDK
// languages bring in whether or not a UDF uses the resource: Go's runtime
// and syscall package (clock for its scheduler and timers, the preopen scan
// at start-up, path_open for package os, arguments and environment), Rust's
// std (environment at start-up). In the default sandbox they can only
// observe a fake clock, no arguments, an empty environment and no
// preopened directory, and every check of vet runs them there, so a module
// may import them without declaring the capability. Any other import of a
// capability's class is a deliberate use and must be declared.
var runtimeImports = map[string]bool{
	"args_get": true, "args_sizes_get": true, "environ_get": true, "environ_sizes_get": true,
	"clock_time_get": true, "poll_oneoff": true,
	"fd_prestat_get": true, "fd_prestat_dir_name": true, "path_open": true,
}

// parseImports reads the import section of a module whose sections s are.
func parseImports(secs []manifest.Section) ([]Import, error) {
	var out []Import
	for _, s := range secs {
		if s.ID != 2 {
			continue
		}
		r := &reader{b: s.Payload}
		n, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("import section: count: %w", err)
		}
		for i := range n {
			mod, err := r.name()
			if err != nil {
				return nil, fmt.Errorf("import %d: module name: %w", i, err)
			}
			name, err := r.name()
			if err != nil {
				return nil, fmt.Errorf("import %d: name: %w", i, err)
			}
			kind, err := r.byte()
			if err != nil {
				return nil, fmt.Errorf("import %d (%s.%s): %w", i, mod, name, err)
			}
			if err := r.importDesc(kind); err != nil {
				return nil, fmt.Errorf("import %d (%s.%s): %w", i, mod, name, err)
			}
			out = append(out, Import{Module: mod, Name: name, Kind: kind})
		}
		if r.i != len(r.b) {
			return nil, fmt.Errorf("import section: %d bytes left after %d imports", len(r.b)-r.i, n)
		}
	}
	return out, nil
}

// reader decodes the parts of a section payload vet needs, with bounds.
type reader struct {
	b []byte
	i int
}

var errTruncated = errors.New("truncated")

func (r *reader) byte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, errTruncated
	}
	r.i++
	return r.b[r.i-1], nil
}

func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift == 28 && c > 0x0f {
			return 0, errors.New("LEB128 number does not fit in 32 bits")
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 number too long")
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(len(r.b)-r.i) {
		return "", errTruncated
	}
	s := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	if !utf8.Valid(s) {
		return "", errors.New("not valid UTF-8")
	}
	return string(s), nil
}

func (r *reader) limits() error {
	flag, err := r.byte()
	if err != nil {
		return err
	}
	if _, err := r.u32(); err != nil {
		return err
	}
	if flag&1 != 0 {
		if _, err := r.u32(); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) importDesc(kind byte) error {
	switch kind {
	case 0: // function: type index
		_, err := r.u32()
		return err
	case 1: // table: reftype, limits
		if _, err := r.byte(); err != nil {
			return err
		}
		return r.limits()
	case 2: // memory: limits
		return r.limits()
	case 3: // global: valtype, mutability
		if _, err := r.byte(); err != nil {
			return err
		}
		_, err := r.byte()
		return err
	case 4: // tag: attribute, type index
		if _, err := r.byte(); err != nil {
			return err
		}
		_, err := r.u32()
		return err
	}
	return fmt.Errorf("unknown import kind %#x", kind)
}

// capabilityCheck compares the declared capabilities with the imports.
// It returns the check's detail, notes, and whether it passed.
func capabilityCheck(declared []manifest.Capability, imports []Import) (detail string, notes []string, ok bool) {
	used := map[manifest.Capability][]string{}       // class -> imports
	deliberate := map[manifest.Capability][]string{} // class -> imports not in runtimeImports
	for _, im := range imports {
		if im.Module != abi.WASIModule || im.Kind != 0 {
			continue // admission refuses these
		}
		c, ok := capabilityOf[im.Name]
		if !ok || c == "" {
			continue
		}
		used[c] = append(used[c], im.Name)
		if !runtimeImports[im.Name] {
			deliberate[c] = append(deliberate[c], im.Name)
		}
	}
	ok = true
	for _, c := range declared {
		if len(used[c]) == 0 {
			ok = false
			notes = append(notes, fmt.Sprintf("declares %s but imports no %s function (%s): it cannot use it; remove it from capabilities", c, c, classFunctions(c)))
		}
	}
	for _, c := range manifest.Capabilities {
		if slices.Contains(declared, c) || len(used[c]) == 0 {
			continue
		}
		if len(deliberate[c]) > 0 {
			ok = false
			notes = append(notes, fmt.Sprintf("imports %s (%s) but does not declare %s: add it to capabilities, or stop using them", strings.Join(deliberate[c], ", "), c, c))
			continue
		}
		notes = append(notes, fmt.Sprintf("imports %s (%s) without declaring %s: its language runtime always does; in the sandbox they see %s, and every check ran that way", strings.Join(used[c], ", "), c, c, sandboxView(c)))
	}
	decl := "none"
	if len(declared) > 0 {
		ds := make([]string, len(declared))
		for i, c := range declared {
			ds[i] = string(c)
		}
		decl = strings.Join(ds, ", ")
	}
	if ok {
		detail = "declared: " + decl + "; the imports agree"
	} else {
		detail = "declared: " + decl + "; the imports disagree"
	}
	return detail, notes, ok
}

func sandboxView(c manifest.Capability) string {
	switch c {
	case manifest.CapClock:
		return "a fake clock"
	case manifest.CapEnv:
		return "no arguments and an empty environment"
	case manifest.CapFiles:
		return "no preopened directory"
	}
	return "nothing"
}

func classFunctions(c manifest.Capability) string {
	var names []string
	for name, cc := range capabilityOf {
		if cc == c {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) > 4 {
		return strings.Join(names[:4], ", ") + ", …"
	}
	return strings.Join(names, ", ")
}
