package vet

import (
	"os"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/manifest"
)

func wasi(names ...string) []Import {
	out := make([]Import, len(names))
	for i, n := range names {
		out[i] = Import{Module: "wasi_snapshot_preview1", Name: n}
	}
	return out
}

func TestCapabilityCheck(t *testing.T) {
	cases := []struct {
		name     string
		declared []manifest.Capability
		imports  []Import
		ok       bool
		detail   string
		notes    string
	}{
		{"stdio only", nil, wasi("fd_write", "fd_close", "fd_seek"), true, "declared: none; the imports agree", ""},
		{"rust std", nil, wasi("fd_write", "environ_get", "environ_sizes_get", "proc_exit"), true, "declared: none; the imports agree",
			"imports environ_get, environ_sizes_get (env) without declaring env: its language runtime always does; in the sandbox they see no arguments and an empty environment, and every check ran that way"},
		{"go runtime", nil, wasi("clock_time_get", "poll_oneoff", "path_open", "fd_prestat_get", "random_get", "sched_yield"), true, "declared: none; the imports agree",
			"imports clock_time_get, poll_oneoff (clock) without declaring clock: its language runtime always does; in the sandbox they see a fake clock, and every check ran that way\n" +
				"imports path_open, fd_prestat_get (files) without declaring files: its language runtime always does; in the sandbox they see no preopened directory, and every check ran that way"},
		{"over-claim", []manifest.Capability{manifest.CapClock}, wasi("fd_write"), false, "declared: clock; the imports disagree",
			"declares clock but imports no clock function (clock_res_get, clock_time_get, poll_oneoff): it cannot use it; remove it from capabilities"},
		{"under-claim", nil, wasi("fd_write", "path_filestat_get", "fd_readdir", "clock_res_get"), false, "declared: none; the imports disagree",
			"imports clock_res_get (clock) but does not declare clock: add it to capabilities, or stop using them\n" +
				"imports path_filestat_get, fd_readdir (files) but does not declare files: add it to capabilities, or stop using them"},
		{"declared files", []manifest.Capability{manifest.CapFiles}, wasi("path_open", "fd_readdir"), true, "declared: files; the imports agree", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			detail, notes, ok := capabilityCheck(c.declared, c.imports)
			if ok != c.ok || detail != c.detail || strings.Join(notes, "\n") != c.notes {
				t.Fatalf("got %v %q\n%s\nwant %v %q\n%s", ok, detail, strings.Join(notes, "\n"), c.ok, c.detail, c.notes)
			}
		})
	}
}

func TestParseImports(t *testing.T) {
	wasm, err := os.ReadFile("../sdk/go/examples/identity/identity.wasm")
	if err != nil {
		t.Fatal(err)
	}
	secs, err := manifest.Sections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	imports, err := parseImports(secs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, im := range imports {
		if im.Module != "wasi_snapshot_preview1" || im.Kind != 0 {
			t.Fatalf("import %+v", im)
		}
		names = append(names, im.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "fd_write,random_get") {
		t.Fatalf("imports %v", names)
	}
	// A truncated import section is an error, not a panic.
	for _, s := range secs {
		if s.ID == 2 {
			for n := range len(s.Payload) {
				if _, err := parseImports([]manifest.Section{{ID: 2, Payload: s.Payload[:n]}}); err == nil {
					t.Fatalf("truncated at %d: no error", n)
				}
			}
		}
	}
}
