package reliability

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/pipeline"
	_ "github.com/wasinfer/wasinfer/tensor" // registers arrow.fixed_shape_tensor
)

// Fuzz targets for decoders of untrusted bytes that are ours and that no
// package fuzzes on its own: the Parquet and IPC sources as a whole (their
// restoring of the stored Arrow schema and of tensor metadata), the tensor
// extension's metadata, the pipeline file decoder and the host's module
// admission. Seeds are the repository's real files; `make fuzz` and `make
// reliability` run them with every other FuzzX (scripts/fuzz.sh).

// readAllFile reads every split of src, for a fuzz target: errors are fine,
// panics and leaks are not.
func readAllSource(t *testing.T, src dataset.Source) {
	ctx := context.Background()
	for _, sp := range src.Splits() {
		r, err := src.Open(ctx, sp)
		if err != nil {
			continue
		}
		for {
			rec, err := r.Read(ctx)
			if err != nil {
				if !errors.Is(err, io.EOF) && err.Error() == "" {
					t.Fatal("an error without a message")
				}
				break
			}
			rec.Release()
		}
		r.Close()
	}
}

func fuzzFile(t *testing.T, name string, data []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func FuzzParquetFile(f *testing.F) {
	for _, p := range []string{
		repo("dataset", "testdata", "duckdb", "flat.parquet"), repo("examples", "digits", "data", "test.parquet"),
		repo("examples", "quickstart", "readings.parquet"),
	} {
		f.Add(readFile(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		src, err := dataset.OpenParquet(context.Background(), []string{fuzzFile(t, "f.parquet", data)}, dataset.WithAllocator(mem))
		if err != nil {
			return
		}
		defer src.Close()
		readAllSource(t, src)
	})
}

func FuzzIPCFile(f *testing.F) {
	for _, p := range []string{repo("examples", "quickstart", "images.arrow"), repo("udfs", "argmax", "vectors", "01-in.arrow")} {
		f.Add(readFile(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		src, err := dataset.OpenIPC(context.Background(), []string{fuzzFile(t, "f.arrow", data)}, dataset.WithAllocator(mem))
		if err != nil {
			return
		}
		defer src.Close()
		readAllSource(t, src)
	})
}

func FuzzTensorMetadata(f *testing.F) {
	for _, s := range []string{`{"shape":[8,8],"dim_names":["H","W"]}`, `{"shape":[2,3,4],"permutation":[2,0,1]}`, `{"shape":[]}`, `{"shape":[0]}`, `{}`} {
		f.Add(s, int32(64))
	}
	typ := arrow.GetExtensionType("arrow.fixed_shape_tensor")
	if typ == nil {
		f.Fatal("arrow.fixed_shape_tensor is not registered")
	}
	f.Fuzz(func(t *testing.T, meta string, n int32) {
		if n < 1 || n > 1<<20 { // arrow.FixedSizeListOf panics below 1
			return
		}
		_, _ = typ.Deserialize(arrow.FixedSizeListOf(n, arrow.PrimitiveTypes.Float32), meta)
	})
}

func FuzzPipelineFile(f *testing.F) {
	f.Add(readFile(f, repo("examples", "digits", "pipeline.yaml")))
	f.Add([]byte("source: {format: parquet, paths: [x]}\nstages: []\nsink: {format: jsonl, path: out}\n"))
	f.Add([]byte("a: &a [*a, *a]\nb: [*a, *a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := pipeline.Load(fuzzFile(t, "pipeline.yaml", data))
		if err == nil && spec == nil {
			t.Fatal("no spec and no error")
		}
	})
}

func FuzzModuleAdmission(f *testing.F) {
	for _, p := range []string{hostGuest("ok_identity"), hostGuest("abi_v2"), hostGuest("sock_import"), ownGuest("start_loop"), ownGuest("out_list_cycle")} {
		f.Add(readFile(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		u, err := host.Load(ctx, data, host.WithName("fuzz"), host.WithPoolSize(1), host.WithCacheDir(t.TempDir()),
			host.WithTimeout(100*time.Millisecond), host.WithMemoryLimit(16<<20), host.WithAllocator(mem), host.WithMaxModuleBytes(1<<20))
		if err != nil {
			var ue *host.UDFError
			if !errors.As(err, &ue) {
				t.Fatalf("%v (%T), want a *host.UDFError", err, err)
			}
			return
		}
		defer u.Close(ctx)
		rec := smallBatch(mem)
		defer rec.Release()
		if out, err := u.Transform(ctx, 0, rec); err == nil {
			out.Release()
		}
	})
}
