package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// probeReport runs one batch through the probe and returns its report.
func probeReport(t *testing.T, name string, opts ...Option) string {
	t.Helper()
	msg := guestErrorMessage(t, name, opts...)
	t.Logf("%s saw: %s", name, msg)
	return msg
}

// guestErrorMessage runs one batch through a guest that fails it with a
// message (status ERROR) and returns the message.
func guestErrorMessage(t *testing.T, name string, opts ...Option) string {
	t.Helper()
	ctx := context.Background()
	u, err := loadGuest(t, name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(ctx)
	rec := smallBatch(memory.DefaultAllocator)
	defer rec.Release()
	_, err = u.Transform(ctx, 0, rec)
	var ue *UDFError
	if !errors.As(err, &ue) || ue.Kind != KindGuest {
		t.Fatalf("got %v, want the guest's message as a guest error", err)
	}
	return ue.Message
}

// TestGrantClock: WithClock shows the real wall clock and a monotonic clock
// that is not the fake one.
func TestGrantClock(t *testing.T) {
	before := time.Now()
	msg := probeReport(t, "clock_probe", WithClock())
	m := regexp.MustCompile(`realtime errno=0 ns=(\d+); realtime errno=0 ns=(\d+); monotonic errno=0 ns=(\d+)`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("report %q: want three clock reads with errno=0", msg)
	}
	wall, _ := strconv.ParseInt(m[1], 10, 64)
	if d := time.Unix(0, wall).Sub(before); d < -5*time.Second || d > 5*time.Second {
		t.Fatalf("guest wall clock %v is %v from the host's %v", time.Unix(0, wall).UTC(), d, before.UTC())
	}
	if mono, _ := strconv.ParseInt(m[3], 10, 64); mono == 0 {
		t.Fatalf("monotonic clock reads 0: still the fake one")
	}
}

// TestGrantEnv: WithEnv shows exactly the granted variables.
func TestGrantEnv(t *testing.T) {
	msg := probeReport(t, "grant_probe", WithEnv(map[string]string{"MY_TOKEN": "s3cret", "A": "1"}))
	if !strings.Contains(msg, "environ errno=0 count=2 env=A=1;MY_TOKEN=s3cret;; read") {
		t.Fatalf("report %q: want exactly A=1 and MY_TOKEN=s3cret", msg)
	}
	msg = probeReport(t, "env_probe", WithEnv(map[string]string{"K": "V"}))
	if !strings.Contains(msg, "environ_sizes_get errno=0 count=1 bytes=4") {
		t.Fatalf("env_probe report %q: want one variable of 4 bytes", msg)
	}
}

// TestGrantDir: WithReadOnlyDir reads a file's bytes; creating a file fails.
func TestGrantDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.txt"), []byte("hello lookup"), 0o644); err != nil {
		t.Fatal(err)
	}
	msg := probeReport(t, "grant_probe", WithReadOnlyDir(dir, "/lookup"))
	if !strings.Contains(msg, "read data.txt errno=0 bytes=hello lookup;") {
		t.Fatalf("report %q: want data.txt's bytes", msg)
	}
	if strings.Contains(msg, "create new.txt errno=0;") {
		t.Fatalf("report %q: the create succeeded under a read-only mount", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.txt")); err == nil {
		t.Fatal("new.txt was created on the host")
	}
	// The existing fs_probe: fd 3 is now the preopen, but .. stays out.
	msg = probeReport(t, "fs_probe", WithReadOnlyDir(dir, "/lookup"))
	if !strings.Contains(msg, "fd_prestat_get 3 errno=0") || strings.Contains(msg, "path_open ../x errno=0") {
		t.Fatalf("fs_probe report %q: want a preopen at fd 3 and .. refused", msg)
	}
}

// TestGrantDirSymlink: a symbolic link inside the mount that resolves
// outside it is refused (wazero's DirFS alone follows it: confinedFS); one
// that stays inside is followed.
func TestGrantDirSymlink(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal("making a symlink:", err)
	}
	msg := probeReport(t, "grant_probe", WithReadOnlyDir(dir, "/lookup"))
	if !strings.Contains(msg, "read link.txt errno=2 bytes=;") && !strings.HasSuffix(msg, "read link.txt errno=2 bytes=") {
		t.Fatalf("report %q: want the link out of the mount refused (errno 2, EACCES)", msg)
	}
	if strings.Contains(msg, "outside") {
		t.Fatalf("report %q: the guest read the file outside the mount", msg)
	}

	inside := t.TempDir()
	if err := os.WriteFile(filepath.Join(inside, "data.txt"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data.txt", filepath.Join(inside, "link.txt")); err != nil {
		t.Fatal(err)
	}
	msg = probeReport(t, "grant_probe", WithReadOnlyDir(inside, "/lookup"))
	if !strings.Contains(msg, "read link.txt errno=0 bytes=inside") {
		t.Fatalf("report %q: want the link inside the mount followed", msg)
	}
}

// TestGrantDefaultDenied: without options the new probe sees nothing.
func TestGrantDefaultDenied(t *testing.T) {
	msg := probeReport(t, "grant_probe")
	want := "grant_probe: environ errno=0 count=0 env=; read data.txt errno=8 bytes=; create new.txt errno=8; read link.txt errno=8 bytes="
	if msg != want {
		t.Fatalf("report %q, want %q", msg, want)
	}
}

// TestGrantRefused: bad grants are refused at Load, naming what is wrong.
func TestGrantRefused(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts []Option
		want string
	}{
		{"missing", []Option{WithReadOnlyDir(filepath.Join(dir, "nope"), "/x")}, filepath.Join(dir, "nope")},
		{"file", []Option{WithReadOnlyDir(file, "/x")}, file + ": not a directory"},
		{"relative", []Option{WithReadOnlyDir(dir, "x")}, `guest path "x" is not absolute`},
		{"twice", []Option{WithReadOnlyDir(dir, "/x"), WithReadOnlyDir(dir, "/x/")}, "/x is mounted twice"},
		{"env=", []Option{WithEnv(map[string]string{"A=B": "1"})}, `"A=B"`},
		{"env empty", []Option{WithEnv(map[string]string{"": "1"})}, `name ""`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadGuest(t, "ok_identity", c.opts...)
			var ue *UDFError
			if !errors.As(err, &ue) || ue.Kind != KindLoad || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a load error with %q", err, c.want)
			}
		})
	}
}
