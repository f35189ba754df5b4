package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/host"
)

// benchData writes a Parquet file of rows rows (row groups of 50 000: the
// splits) once per benchmark.
func benchData(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "in.parquet")
	writeParquet(b, path, rows, 50_000)
	return path
}

// plainCopy reads every split of in and writes it to a Parquet sink under
// out, one part per split, with no executor: the baseline.
func plainCopy(b *testing.B, in, out string) int64 {
	ctx := context.Background()
	src, err := dataset.OpenParquet(ctx, []string{in}, dataset.WithBatchSize(4096))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	sink, err := dataset.OpenSink(ctx, out, dataset.FormatParquet)
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close(ctx)
	var rows int64
	for _, sp := range src.Splits() {
		rd, err := src.Open(ctx, sp)
		if err != nil {
			b.Fatal(err)
		}
		part, err := sink.Create(ctx, sp, src.Schema())
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := rd.Read(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += rec.NumRows()
			if err := part.Write(ctx, rec); err != nil {
				b.Fatal(err)
			}
			rec.Release()
		}
		rd.Close()
		if _, err := part.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return rows
}

// pipelineCopy runs the same copy through the executor with the given
// stages.
func pipelineCopy(b *testing.B, in, out string, stages []Stage, opts ...StageOption) *Summary {
	ctx := context.Background()
	src, err := dataset.OpenParquet(ctx, []string{in}, dataset.WithBatchSize(4096))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	sink, err := dataset.OpenSink(ctx, out, dataset.FormatParquet)
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close(ctx)
	p := New(src, WithLogger(quiet))
	for _, s := range stages {
		p.MapBatches(s, opts...)
	}
	sum, err := p.Write(sink).Run(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return sum
}

// BenchmarkOverhead: rows/s of Parquet → k pass-through Go stages →
// Parquet, divided by the rows/s of reading and writing the same data with
// no executor, measured side by side in each iteration.
func BenchmarkOverhead(b *testing.B) {
	const rows = 400_000
	in := benchData(b, rows)
	pass := Func("pass", func(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) { return rec, nil })
	for _, k := range []int{0, 1, 3} {
		for _, bs := range []int{0, 1024} {
			b.Run(fmt.Sprintf("stages=%d/batch=%d", k, bs), func(b *testing.B) {
				stages := make([]Stage, k)
				for i := range stages {
					stages[i] = pass
				}
				var base, pipe time.Duration
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					t0 := time.Now()
					plainCopy(b, in, filepath.Join(b.TempDir(), fmt.Sprint("plain", i)))
					t1 := time.Now()
					pipelineCopy(b, in, filepath.Join(b.TempDir(), fmt.Sprint("pipe", i)), stages, BatchSize(bs))
					base += t1.Sub(t0)
					pipe += time.Since(t1)
				}
				b.ReportMetric(float64(rows)*float64(b.N)/pipe.Seconds(), "rows/s")
				b.ReportMetric(float64(rows)*float64(b.N)/base.Seconds(), "baseline-rows/s")
				b.ReportMetric(base.Seconds()/pipe.Seconds(), "ratio")
			})
		}
	}
}

// BenchmarkWasmScaling: a CPU-bound Wasm UDF (testdata/poison.wasm with
// "work") at 1, 2 and 4 workers; the ratio is rows/s ÷ rows/s at 1 worker,
// measured in the same iteration.
func BenchmarkWasmScaling(b *testing.B) {
	const rows = 100_000
	in := benchData(b, rows)
	ctx := context.Background()
	load := func(n int) *host.UDF {
		u, err := host.LoadFile(ctx, "testdata/poison.wasm", host.WithName("work"), host.WithPoolSize(n),
			host.WithConfig([]byte(`{"every":0,"work":3000}`)), host.WithLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		return u
	}
	workers := []int{1, 2, 4}
	udfs := map[int]*host.UDF{}
	for _, n := range workers {
		udfs[n] = load(n)
	}
	defer func() {
		for _, u := range udfs {
			_ = u.Close(ctx)
		}
	}()
	for _, n := range workers {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			var one, this time.Duration
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				pipelineCopy(b, in, filepath.Join(b.TempDir(), fmt.Sprint("one", i)), []Stage{udfs[1]}, BatchSize(1024), Workers(1))
				t1 := time.Now()
				pipelineCopy(b, in, filepath.Join(b.TempDir(), fmt.Sprint("n", i)), []Stage{udfs[n]}, BatchSize(1024), Workers(n))
				one += t1.Sub(t0)
				this += time.Since(t1)
			}
			b.ReportMetric(float64(rows)*float64(b.N)/this.Seconds(), "rows/s")
			b.ReportMetric(one.Seconds()/this.Seconds(), "speedup")
		})
	}
}

// BenchmarkPeakRSS: the process's peak RSS running Parquet → Wasm identity
// → Parquet over 1× and 10× the data (each in a fresh process: VmHWM only
// grows), and their ratio. The memory budget is 64 MiB.
func BenchmarkPeakRSS(b *testing.B) {
	if peakRSS() == 0 {
		b.Skip("no /proc/self/status VmHWM on this platform")
	}
	const base = 200_000
	dir := b.TempDir()
	files := map[int]string{}
	for _, m := range []int{1, 10} {
		files[m] = filepath.Join(dir, fmt.Sprintf("x%d.parquet", m))
		writeParquet(b, files[m], base*m, 50_000)
	}
	measure := func(m int) int64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSSHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SCHEDULER_RSS_INPUT="+files[m], "SCHEDULER_RSS_OUTPUT="+filepath.Join(dir, fmt.Sprint("out", m, b.N)))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("%v: %s", err, out.String())
		}
		_, v, ok := strings.Cut(out.String(), "peak_rss_bytes=")
		if !ok {
			b.Fatalf("helper printed %q", out.String())
		}
		n, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	var one, ten int64
	for b.Loop() {
		one, ten = measure(1), measure(10)
	}
	b.ReportMetric(float64(one)/(1<<20), "MiB-1x")
	b.ReportMetric(float64(ten)/(1<<20), "MiB-10x")
	b.ReportMetric(float64(ten)/float64(one), "ratio")
}

// TestPeakRSSHelper is BenchmarkPeakRSS's child process; it does nothing
// unless the benchmark started it.
func TestPeakRSSHelper(t *testing.T) {
	in := os.Getenv("SCHEDULER_RSS_INPUT")
	if in == "" {
		return
	}
	ctx := context.Background()
	src, err := dataset.OpenParquet(ctx, []string{in}, dataset.WithBatchSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sink, err := dataset.OpenSink(ctx, os.Getenv("SCHEDULER_RSS_OUTPUT"), dataset.FormatParquet)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close(ctx)
	u, err := host.LoadFile(ctx, "../sdk/c/examples/identity/identity.wasm", host.WithPoolSize(2), host.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close(ctx)
	sum, err := New(src, WithLogger(quiet), WithMemoryBudget(64<<20), WithAllocator(memory.DefaultAllocator)).
		MapBatches(u, BatchSize(1024)).Write(sink).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("peak_rss_bytes=%d peak_in_flight=%d\n", sum.PeakRSSBytes, sum.PeakInFlightBytes)
}
