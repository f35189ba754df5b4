package udfs

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/internal/corpus"
	"github.com/wasinfer/wasinfer/manifest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite udfs/*/vectors/*.arrow from the Go reference implementations")

// A vector is one test vector of a module: input batches, the configuration
// and the output the Go reference implementation computes for them (nil
// when the module must refuse the input: errorText is then the message).
// The manifest's vector of the same files must have the same config.
type vector struct {
	file      string // "01": files vectors/01-in.arrow and vectors/01-out.arrow
	config    string // JSON, or ""
	in        []arrow.RecordBatch
	out       []arrow.RecordBatch
	errorText string
}

// generators lists, per module, the function that builds its vectors.
// Each lives in ref_<module>_test.go with the module's reference
// implementation.
var generators = map[string]func(mem memory.Allocator) []vector{}

func writeIPC(path string, recs []arrow.RecordBatch) error {
	var buf bytes.Buffer
	w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(recs[0].Schema()))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func readIPC(t *testing.T, mem memory.Allocator, path string) []arrow.RecordBatch {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run make -C udfs vectors)", err)
	}
	r, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(mem))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer r.Close()
	var recs []arrow.RecordBatch
	for i := range r.NumRecords() {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			t.Fatalf("%s: batch %d: %v", path, i, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func jsonEqual(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

// TestVectors checks that every module's committed vectors are what its Go
// reference implementation computes, and that its manifest lists them with
// the same configuration. With -rewrite it writes them instead.
func TestVectors(t *testing.T) {
	for _, name := range moduleNames(t) {
		gen, ok := generators[name]
		if !ok {
			t.Errorf("%s: no vector generator (ref_%s_test.go)", name, name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			m, err := manifest.ParseFile(filepath.Join(name, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			vecs := gen(mem)
			defer func() {
				for _, v := range vecs {
					release(v.in)
					release(v.out)
				}
			}()
			if len(vecs) != len(m.Vectors) {
				t.Fatalf("the generator makes %d vectors, the manifest lists %d", len(vecs), len(m.Vectors))
			}
			for i, v := range vecs {
				mv := m.Vectors[i]
				inPath, outPath := "vectors/"+v.file+"-in.arrow", "vectors/"+v.file+"-out.arrow"
				if mv.Input != inPath || (v.out != nil) != (mv.Output != "") || (v.out != nil && mv.Output != outPath) {
					t.Errorf("vector %d: the manifest has input %q output %q, want %q and %q", i, mv.Input, mv.Output, inPath, outPath)
				}
				if !jsonEqual(v.config, string(mv.Config)) {
					t.Errorf("vector %d: the manifest has config %s, the generator %s", i, mv.Config, v.config)
				}
				if v.errorText != mv.Error {
					t.Errorf("vector %d: the manifest expects error %q, the generator %q", i, mv.Error, v.errorText)
				}
				files := []struct {
					path string
					recs []arrow.RecordBatch
				}{{inPath, v.in}, {outPath, v.out}}
				for _, f := range files {
					if f.recs == nil {
						continue
					}
					path := filepath.Join(name, f.path)
					if *rewrite {
						if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := writeIPC(path, f.recs); err != nil {
							t.Fatal(err)
						}
						continue
					}
					got := readIPC(t, mem, path)
					if len(got) != len(f.recs) {
						t.Errorf("%s: %d batches, the reference makes %d (run make -C udfs vectors)", path, len(got), len(f.recs))
					} else {
						for k := range got {
							if err := corpus.Equal(got[k], f.recs[k]); err != nil {
								t.Errorf("%s: batch %d differs from the reference (run make -C udfs vectors): %v", path, k, err)
							}
						}
					}
					release(got)
				}
			}
		})
	}
}

func release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// moduleNames lists the directories of udfs/ that hold a manifest.json.
func moduleNames(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(e.Name(), "manifest.json")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("no udfs/*/manifest.json")
	}
	return names
}

func mustf(err error, format string, args ...any) {
	if err != nil {
		panic(fmt.Sprintf(format+": %v", append(args, err)...))
	}
}
