package reliability

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

// TestCapabilitiesDenied runs the capability probes: cap_probe (C, through
// wasi-libc and the raw WASI calls) reports every call's result as a row,
// and the host corpus's fs_probe, env_probe and clock_probe (text format)
// report theirs in their error message. The working directory holds a file
// and a symbolic link to /etc/passwd for the guest to reach for. Every file
// call fails, the environment and arguments are empty, the clocks are the
// fake ones, a one-hour sleep returns at once, and modules importing sockets
// or functions that are not WASI are refused at load. What each guest saw is
// written to the results.
func TestCapabilitiesDenied(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	probe := ownGuest("cap_probe")
	t.Chdir(dir)
	t.Setenv("HOME", "/root-of-the-host")

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := func() []string {
		u, err := loadGuest(ctx, t, probe, host.WithAllocator(mem))
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close(ctx)
		rec := smallBatch(mem)
		defer rec.Release()
		out, err := u.Transform(ctx, 0, rec)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		col := out.Column(0).(*array.String)
		var s []string
		for i := range col.Len() {
			s = append(s, col.Value(i))
		}
		return s
	}
	saw := rows()
	again := rows() // a fresh instance sees the same: nothing leaks in from the host
	if strings.Join(saw, "\n") != strings.Join(again, "\n") {
		t.Errorf("two fresh instances saw different things:\n%s\n---\n%s", strings.Join(saw, "\n"), strings.Join(again, "\n"))
	}
	errnoZero := regexp.MustCompile(`errno=0\b`)
	for _, r := range saw {
		name, res, _ := strings.Cut(r, ": ")
		var bad bool
		switch {
		case strings.HasPrefix(name, "libc open"), strings.HasPrefix(name, "libc opendir"), strings.HasPrefix(name, "libc fopen"), strings.HasPrefix(name, "libc symlink"):
			bad = !strings.Contains(res, "fd=-1") && !strings.HasPrefix(res, "NULL") && !strings.HasPrefix(res, "-1 ")
		case strings.HasPrefix(name, "wasi path_"), strings.HasPrefix(name, "wasi fd_prestat"), strings.HasPrefix(name, "wasi fd_readdir"):
			bad = errnoZero.MatchString(res)
		case strings.HasPrefix(name, "libc getenv"):
			bad = res != "NULL"
		case strings.HasPrefix(name, "wasi environ_sizes_get"), strings.HasPrefix(name, "wasi args_sizes_get"):
			bad = !strings.Contains(res, "count=0 bytes=0")
		case strings.HasPrefix(name, "libc clock_gettime(REALTIME)"), strings.HasPrefix(name, "libc time"):
			bad = !strings.Contains(res, "1640995200")
		case strings.HasPrefix(name, "wasi fd_read(0)"):
			bad = !strings.Contains(res, "bytes=0")
		}
		if bad {
			t.Errorf("the guest got a capability: %s", r)
		}
	}
	record(t, "capabilities", "cap_probe (C)", fmt.Sprintf("%d calls probed (files incl. .., absolute paths and a symlink; environment; clocks; random; sleep): every file call denied, no environment, fake clocks; what it saw is in the details", len(saw)),
		"TestCapabilitiesDenied", map[string]any{"saw": saw})

	for _, c := range []struct{ guest, want string }{
		{"fs_probe", "fs_probe: path_open /etc/passwd errno=63; path_open ../x errno=63; fd_prestat_get 3 errno=8; fd_read 3 errno=8"},
		{"env_probe", "env_probe: environ_sizes_get errno=0 count=0 bytes=0; args_sizes_get errno=0 count=0 bytes=0"},
		{"clock_probe", "clock_probe: realtime errno=0 ns=1640995200000000000; realtime errno=0 ns=1640995200001000000; monotonic errno=0 ns=0"},
	} {
		u, err := loadGuest(ctx, t, hostGuest(c.guest))
		if err != nil {
			t.Fatal(err)
		}
		rec := smallBatch(mem)
		_, err = u.Transform(ctx, 0, rec)
		rec.Release()
		u.Close(ctx)
		var ue *host.UDFError
		if !errors.As(err, &ue) || ue.Message != c.want {
			t.Errorf("%s saw %v, want %q", c.guest, err, c.want)
			continue
		}
		record(t, "capabilities", c.guest+" (wat)", "saw: "+ue.Message, "TestCapabilitiesDenied", nil)
	}
	for _, c := range []struct{ guest, want string }{
		{"sock_import", "module imports wasi_snapshot_preview1.sock_accept"},
		{"forbidden_import", "module imports env."},
	} {
		_, err := loadGuest(ctx, t, hostGuest(c.guest))
		var ue *host.UDFError
		if !errors.As(err, &ue) || ue.Kind != host.KindLoad || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a load error containing %q", c.guest, err, c.want)
			continue
		}
		record(t, "capabilities", c.guest, "refused at load: "+err.Error(), "TestCapabilitiesDenied", nil)
	}
}
