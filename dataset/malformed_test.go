package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// damaged writes a copy of the DuckDB flat file changed by f into dir.
func damaged(t *testing.T, name string, f func([]byte) []byte) string {
	t.Helper()
	data, err := os.ReadFile("testdata/duckdb/flat.parquet")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, f(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParquetMalformed(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func([]byte) []byte
		want   string // the error after the path
	}{
		{"truncated.parquet", func(b []byte) []byte { return b[:len(b)/2] }, "reading the parquet footer: parquet: file is smaller than indicated metadata size"},
		{"bad_magic.parquet", func(b []byte) []byte { b[len(b)-1] = 'X'; return b }, "reading the parquet footer:"},
		{"empty.parquet", func(b []byte) []byte { return nil }, "reading the parquet footer:"},
		{"footer_len.parquet", func(b []byte) []byte { b[len(b)-8] = 0xff; b[len(b)-7] = 0xff; return b }, "reading the parquet footer:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := damaged(t, tc.name, tc.change)
			_, err := OpenParquet(ctx, []string{path})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err %v, want ErrCorrupt", err)
			}
			if prefix := "dataset: corrupt file: " + path + ": " + tc.want; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error\n got %s\nwant %s...", err, prefix)
			}
		})
	}
}

// TestParquetCorruptRowGroup: bytes of the data pages overwritten. Every
// split either reads (the damage fell on values) or fails with an error
// naming the file and the row group; nothing panics.
func TestParquetCorruptRowGroup(t *testing.T) {
	ctx := context.Background()
	for _, off := range []int{4, 100, 1000, 5000, 20000, 50000, 90000} {
		t.Run(fmt.Sprint(off), func(t *testing.T) {
			mem := checkedMem(t)
			path := damaged(t, "corrupt.parquet", func(b []byte) []byte {
				for i := off; i < off+64 && i < len(b)-1000; i++ {
					b[i] ^= 0x5a
				}
				return b
			})
			src, err := OpenParquet(ctx, []string{path}, WithAllocator(mem))
			if err != nil {
				t.Fatal(err) // the footer is intact
			}
			defer src.Close()
			failed := 0
			for _, sp := range src.Splits() {
				recs, err := readSplit(ctx, src, sp)
				release(recs)
				if err != nil {
					failed++
					if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
						t.Errorf("split %s: %v", sp.ID, err)
					}
				}
			}
			t.Logf("%d of %d splits failed", failed, len(src.Splits()))
		})
	}
}

// readSplit reads one split whole.
func readSplit(ctx context.Context, src Source, sp Split) (_ []arrow.RecordBatch, err error) {
	r, err := src.Open(ctx, sp)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []arrow.RecordBatch
	for {
		rec, err := r.Read(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			release(out)
			return nil, err
		}
		out = append(out, rec)
	}
}

func TestIPCMalformed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, stream := range []bool{false, true} {
		s, err := OpenSink(ctx, filepath.Join(dir, fmt.Sprint(stream)), FormatIPC, WithIPCStream(stream))
		if err != nil {
			t.Fatal(err)
		}
		writeIDs(t, s, testSplits(1))
		s.Close(ctx)
	}
	file, _ := filepath.Glob(filepath.Join(dir, "false", "part-*"))
	stream, _ := filepath.Glob(filepath.Join(dir, "true", "part-*"))
	tests := []struct {
		name, src string
		cut       func(n int) int
		open      bool // the error comes from Open (else from Read)
		want      string
	}{
		{"truncated.arrow", file[0], func(n int) int { return n / 2 }, true, "reading the Arrow IPC file footer: the file does not end with the magic ARROW1: it is truncated or not an Arrow IPC file"},
		{"empty.arrow", file[0], func(int) int { return 0 }, true, "reading the Arrow IPC file footer:"},
		{"truncated.arrows", stream[0], func(n int) int { return n - 20 }, false, "reading"},
		{"header_only.arrows", stream[0], func(int) int { return 3 }, true, "reading the Arrow IPC stream schema:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			data, _ := os.ReadFile(tc.src)
			path := filepath.Join(t.TempDir(), tc.name)
			must(t, os.WriteFile(path, data[:tc.cut(len(data))], 0o644))
			src, err := OpenIPC(ctx, []string{path}, WithAllocator(mem))
			if err == nil {
				defer src.Close()
				if tc.open {
					t.Fatal("opened")
				}
				var recs []arrow.RecordBatch
				recs, err = readSplit(ctx, src, src.Splits()[0])
				release(recs)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err %v, want ErrCorrupt", err)
			}
			if prefix := "dataset: corrupt file: " + path + ": " + tc.want; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error\n got %s\nwant %s...", err, prefix)
			}
		})
	}
}

func TestMissingInputs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
	tests := []struct {
		inputs []string
		want   string
	}{
		{[]string{filepath.Join(dir, "nope.parquet")}, "dataset: no input files: " + filepath.Join(dir, "nope.parquet") + " does not exist"},
		{[]string{filepath.Join(dir, "*.parquet")}, `dataset: no input files: pattern "` + filepath.Join(dir, "*.parquet") + `" matches no file`},
		{[]string{dir}, "dataset: no input files: directory " + dir + " holds no .parquet, .pq file"},
		{nil, "dataset: no input files: no paths given"},
		{[]string{"["}, `dataset: pattern "[": syntax error in pattern`},
	}
	for _, tc := range tests {
		_, err := OpenParquet(ctx, tc.inputs)
		if err == nil || err.Error() != tc.want {
			t.Errorf("OpenParquet(%q):\n got %v\nwant %s", tc.inputs, err, tc.want)
		}
	}
}

// permissionChildEnv makes the test binary try to open a file (see
// TestMain) and print the error.
const permissionChildEnv = "WASINFER_DATASET_PERMISSION_CHILD"

func permissionChild(path string) {
	_, err := OpenParquet(context.Background(), []string{path})
	fmt.Println(err)
}

// TestPermissionDenied: an unreadable input is an error naming it. Root
// reads any file, so as root the check runs in a child process that drops
// to uid/gid 65534.
func TestPermissionDenied(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.parquet")
	data, _ := os.ReadFile("testdata/duckdb/zstd.parquet")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	want := "dataset: opening parquet file: open " + path + ": permission denied"
	if os.Geteuid() != 0 {
		must(t, os.Chmod(path, 0))
		_, err := OpenParquet(context.Background(), []string{path})
		if err == nil || err.Error() != want {
			t.Fatalf("got %v\nwant %s", err, want)
		}
		return
	}
	// The child needs a binary and directories that uid 65534 can reach.
	bin := filepath.Join(dir, "child.test")
	exe, _ := os.ReadFile(os.Args[0])
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, os.Chmod(dir, 0o755))
	must(t, os.Chmod(filepath.Dir(dir), 0o755))
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), permissionChildEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}
