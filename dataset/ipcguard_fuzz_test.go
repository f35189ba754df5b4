package dataset

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/internal/corpus"
)

var rewriteIPCSeeds = flag.Bool("rewrite-ipc-seeds", false, "rewrite testdata/fuzz/FuzzIPCGuard from the test's generators")

// FuzzIPCGuard: any bytes, read as an Arrow IPC file and as a stream. The
// guard never panics and refuses with an *ipcMetaError or an I/O error,
// and its stream reader leaves nothing allocated; what it accepts,
// arrow-go reads (its panics recovered, as the source does) holding at
// most the decompression limit plus a small multiple of the input in
// Arrow buffers, and nothing is left allocated when arrow-go read it
// without an error. (arrow-go leaks buffers when it fails on damaged data
// inside a record batch, e.g. string offsets past their buffer: its bug,
// not the guard's.)
func FuzzIPCGuard(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		mem := &peakAllocator{mem: checked}
		failed := fuzzIPCFile(t, data, mem)
		failed = fuzzIPCStream(t, data, mem) || failed
		if bound := ipcMaxDecompressed + 4*len(data) + 1<<20; mem.peak > bound {
			t.Errorf("%d bytes of Arrow buffers at once for %d bytes of input, more than %d", mem.peak, len(data), bound)
		}
		if !failed {
			checked.AssertSize(t, 0)
		}
	})
}

// guardRefusal fails t unless err is what the guard refuses with.
func guardRefusal(t *testing.T, err error) {
	t.Helper()
	var me *ipcMetaError
	if !errors.As(err, &me) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("the guard refused with %T: %v", err, err)
	}
}

// recovered runs f, reporting whether it panicked.
func recovered(f func()) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	f()
	return false
}

// fuzzIPCFile checks data as a file and reads what the guard accepts with
// arrow-go, as the source does (each batch checked before arrow-go reads
// it, through the guard's reader). It reports whether arrow-go failed (an
// error or a panic); the guard runs outside any recover.
func fuzzIPCFile(t *testing.T, data []byte, mem memory.Allocator) (failed bool) {
	c, err := checkIPCFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		guardRefusal(t, err)
		return false
	}
	var r *ipc.FileReader
	if recovered(func() { r, err = ipc.NewFileReader(c, ipc.WithAllocator(mem)) }) || err != nil {
		return true
	}
	defer r.Close()
	if r.NumRecords() != len(c.footer.batches) {
		t.Fatalf("arrow-go sees %d record batches, the guard %d", r.NumRecords(), len(c.footer.batches))
	}
	for i := range c.footer.batches {
		if err := c.checkBatch(i); err != nil {
			guardRefusal(t, err)
			continue
		}
		failed = recovered(func() {
			var rec arrow.RecordBatch
			if rec, err = r.RecordBatchAt(i); err == nil {
				rec.Release()
			}
		}) || err != nil || failed
	}
	return failed
}

// fuzzIPCStream reads data as a stream: the guard's message reader alone
// (which must leave nothing allocated), then arrow-go's stream reader over
// it. It reports whether arrow-go failed (an error or a panic).
func fuzzIPCStream(t *testing.T, data []byte, mem memory.Allocator) (failed bool) {
	own := memory.NewCheckedAllocator(memory.NewGoAllocator())
	mr := newIPCMessageReader(bytes.NewReader(data), int64(len(data)), own)
	for {
		if _, err := mr.Message(); err != nil {
			if !errors.Is(err, io.EOF) {
				guardRefusal(t, err)
			}
			break
		}
	}
	mr.Release()
	own.AssertSize(t, 0)
	return recovered(func() {
		r, err := openIPCStream(bytes.NewReader(data), int64(len(data)), mem)
		if err != nil {
			failed = true
			return
		}
		defer r.Release()
		for r.Next() {
		}
		failed = r.Err() != nil
	}) || failed
}

// ipcSeeds are the seeds of FuzzIPCGuard: valid files and streams (hand
// made, written by the IPC sink from corpus cases, committed test
// vectors) and every damaged one of the refusal tests.
func ipcSeeds(t *testing.T) map[string][]byte {
	seeds := map[string][]byte{
		"good-batch.arrow":  batchFile(batchMsg(le64(7), goodBatch)),
		"good-batch.arrows": ipcStreamOf(schemaMsg(), batchMsg(le64(7), goodBatch)),
	}
	for _, r := range ipcRefusals {
		seeds["damaged-"+r.name] = r.data(t)
	}
	for _, p := range []string{"../udfs/argmax/vectors/01-in.arrow", "../udfs/ctc_decode/vectors/01-out.arrow"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		seeds["committed-"+filepath.Base(filepath.Dir(filepath.Dir(p)))+"-"+filepath.Base(p)] = b
	}
	ctx := context.Background()
	mem := memory.NewGoAllocator()
	want := []string{"dictionary_int8_utf8", "map_utf8_list", "tensor_float32", "metadata", "no_columns"}
	for _, c := range corpus.Batches(mem) {
		if !slices.Contains(want, c.Name) {
			c.Batch.Release()
			continue
		}
		for _, stream := range []bool{false, true} {
			dir := t.TempDir()
			sink, err := OpenSink(ctx, dir, FormatIPC, WithIPCStream(stream))
			if err != nil {
				t.Fatal(err)
			}
			writeSplits(t, sink, []Split{{Index: 0, ID: "corpus", Rows: c.Batch.NumRows()}}, []arrow.RecordBatch{c.Batch})
			must(t, sink.Close(ctx))
			files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			seeds["corpus-"+c.Name+map[bool]string{false: ".arrow", true: ".arrows"}[stream]] = b
		}
		c.Batch.Release()
	}
	return seeds
}

// ipcSeedPrefixes name the seeds ipcSeeds makes; the other files of the
// seed directory are inputs the fuzzer found (kept as regression cases).
var ipcSeedPrefixes = []string{"good-", "damaged-", "committed-", "corpus-"}

func isGeneratedSeed(name string) bool {
	return slices.ContainsFunc(ipcSeedPrefixes, func(p string) bool { return strings.HasPrefix(name, p) })
}

// TestIPCGuardSeeds: testdata/fuzz/FuzzIPCGuard holds the seeds that
// ipcSeeds makes (go test -run TestIPCGuardSeeds -rewrite-ipc-seeds
// rewrites them, keeping the inputs the fuzzer found), so the fuzz target
// starts from valid files and from every damaged one the refusal tests
// know.
func TestIPCGuardSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzIPCGuard")
	seeds := ipcSeeds(t)
	entries, _ := os.ReadDir(dir)
	generated := 0
	for _, e := range entries {
		if !isGeneratedSeed(e.Name()) {
			continue
		}
		generated++
		if *rewriteIPCSeeds {
			must(t, os.Remove(filepath.Join(dir, e.Name())))
		}
	}
	must(t, os.MkdirAll(dir, 0o755))
	for name, b := range seeds {
		path := filepath.Join(dir, strings.ReplaceAll(name, ".", "_"))
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if *rewriteIPCSeeds {
			must(t, os.WriteFile(path, []byte(content), 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("%s is missing or stale: run go test ./dataset/ -run TestIPCGuardSeeds -rewrite-ipc-seeds", path)
		}
	}
	if generated != len(seeds) && !*rewriteIPCSeeds {
		t.Errorf("%s holds %d generated seeds, ipcSeeds makes %d: run go test ./dataset/ -run TestIPCGuardSeeds -rewrite-ipc-seeds", dir, generated, len(seeds))
	}
}
