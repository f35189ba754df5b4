//go:build cgo

package reliability

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wasinfer/wasinfer/scheduler"
)

// limitFileSize makes writes past n bytes of any file fail with EFBIG
// (RLIMIT_FSIZE), the signal the kernel sends with them ignored.
func limitFileSize(n int64) error {
	signal.Ignore(syscall.SIGXFSZ)
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(n), Max: uint64(n)})
}

// dirBytes is the size of the files directly under dir.
func dirBytes(t testing.TB, dir string) (total, smallest int64) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	smallest = -1
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
		if smallest < 0 || st.Size() < smallest {
			smallest = st.Size()
		}
	}
	return total, smallest
}

// TestDiskFull: the sink's file system fills up in the middle of a run.
// Where the test can mount a small tmpfs (root, and mount allowed), the
// output goes there with a filler file leaving room for about half of it;
// in every case (and as the fallback where mounting fails) a child process
// runs with RLIMIT_FSIZE below the size of one output file, so the kernel
// fails its writes with EFBIG. Either way the run fails with a clear error
// naming the sink, every file under a final name is whole, and once there
// is room a rerun completes with every row exactly once.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	digitsInput(t, dir, 1)
	input := filepath.Join(dir, "input")
	want, _ := cleanRun(t, input)
	scratch := filepath.Join(dir, "scratch")
	if _, err := runDigits(ctx, runSpec{Input: input, Output: scratch}, nil, nil); err != nil {
		t.Fatal(err)
	}
	total, smallest := dirBytes(t, scratch)

	t.Run("tmpfs", func(t *testing.T) {
		mnt := filepath.Join(dir, "tmpfs")
		if err := os.Mkdir(mnt, 0o755); err != nil {
			t.Fatal(err)
		}
		const size = 1 << 20
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
			// Not root, or no mount in this sandbox: the RLIMIT_FSIZE case
			// below covers the write errors.
			record(t, "faults", "disk full (tmpfs)", fmt.Sprintf("not run here: mounting a tmpfs failed (%v); the RLIMIT_FSIZE case covers it", err), "TestDiskFull", nil)
			return
		}
		defer func() {
			if err := syscall.Unmount(mnt, 0); err != nil {
				t.Errorf("unmounting %s: %v", mnt, err)
			}
		}()
		var st syscall.Statfs_t
		if err := syscall.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		// Leave room for about half the output (tmpfs counts whole pages).
		pages := int64(12) + total/(2*4096)
		free := int64(st.Bavail) * st.Bsize
		filler := filepath.Join(mnt, "filler")
		if err := os.WriteFile(filler, make([]byte, free-pages*4096), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(mnt, "out")
		sum, err := runDigits(ctx, runSpec{Input: input, Output: out}, nil, nil)
		var se *scheduler.StageError
		if err == nil || !errors.Is(err, syscall.ENOSPC) || !errors.As(err, &se) || se.Stage != "sink" {
			t.Fatalf("a run on a full file system: %v; want a sink *StageError wrapping ENOSPC", err)
		}
		committed := 0
		if sum != nil {
			committed = sum.SplitsCommitted
		}
		finals := checkNoPartialFiles(t, out, false)
		os.Remove(filler)
		if _, err := runDigits(ctx, runSpec{Input: input, Output: out}, nil, nil); err != nil {
			t.Fatalf("the rerun with room: %v", err)
		}
		checkExactlyOnce(t, out, want)
		record(t, "faults", "disk full (tmpfs)", fmt.Sprintf("1 MiB tmpfs filled to leave %d pages for 12 output files (%s): the run stopped with %q after committing %d of 12 splits; %d files under final names, all whole, no half-written commit; a rerun with room gave every row exactly once",
			pages, mib(total), firstLineOf(err.Error()), committed, finals), "TestDiskFull/tmpfs", nil)
	})

	t.Run("rlimit", func(t *testing.T) {
		out := filepath.Join(dir, "rlimit")
		limit := smallest / 2
		cmd := child("pipeline", runSpec{Input: input, Output: out, FileSizeLimit: limit})
		b, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("a run whose files may not exceed %d bytes succeeded", limit)
		}
		msg := string(b)
		if !strings.Contains(msg, "file too large") || !strings.Contains(msg, `stage "sink"`) {
			t.Fatalf("the error does not say the sink's file was too large:\n%s", msg)
		}
		finals := 0
		if _, err := os.Stat(out); err == nil {
			finals = checkNoPartialFiles(t, out, false)
		}
		if _, err := runDigits(ctx, runSpec{Input: input, Output: out}, nil, nil); err != nil {
			t.Fatalf("the rerun without the limit: %v", err)
		}
		checkExactlyOnce(t, out, want)
		record(t, "faults", "disk full (RLIMIT_FSIZE)", fmt.Sprintf("files limited to %d bytes (half the smallest output file): the run failed with %q; %d files under final names; a rerun without the limit gave every row exactly once",
			limit, strings.TrimPrefix(firstLineOf(msg), "reliability child: "), finals), "TestDiskFull/rlimit", nil)
	})
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
