//go:build cgo

package gpu

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/wasinfer/wasinfer/scheduler"
)

// benchCase is a model and one pre-made batch of it.
type benchCase struct {
	name    string
	path    string
	input   string
	output  string
	rows    int
	row     []int // per-row shape of the input
	outRow  []int64
	options []Option
}

func benchCases(b *testing.B) []benchCase {
	return []benchCase{
		{name: "model=digits/rows=256", path: digitsModel, input: "pixels", output: "logits", rows: 256, row: []int{1, 8, 8}, outRow: []int64{10}},
		{name: "model=ocr-det/rows=4", path: ocrModel(b, "ch_PP-OCRv4_det_infer.onnx"), input: "x", output: "sigmoid_0.tmp_0", rows: 4, row: []int{3, 64, 160},
			outRow: []int64{1, 64, 160}, options: []Option{WithWarmupShape("x", 1, 3, 32, 32)}},
	}
}

func benchValues(c benchCase) []float32 {
	n := c.rows
	for _, d := range c.row {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i%255)/255 - 0.5
	}
	return v
}

// bareSession is the baseline: a plain onnxruntime_go session with the
// pool's thread settings, fed one pre-made input tensor and writing into
// one pre-made output tensor, run after run (no Arrow, no binding, no
// allocation per run).
func bareSession(b *testing.B, c benchCase, threads int, vals []float32) (run func(), done func()) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = so.Destroy() }()
	_ = so.SetIntraOpNumThreads(threads)
	_ = so.SetInterOpNumThreads(1)
	_ = so.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll)
	_ = so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0") // as the pool's default
	_ = so.AddSessionConfigEntry("session.inter_op.allow_spinning", "0")
	s, err := ort.NewDynamicAdvancedSession(c.path, []string{c.input}, []string{c.output}, so)
	if err != nil {
		b.Fatal(err)
	}
	inShape := ort.Shape{int64(c.rows)}
	for _, d := range c.row {
		inShape = append(inShape, int64(d))
	}
	in, err := ort.NewTensor(inShape, vals)
	if err != nil {
		b.Fatal(err)
	}
	out, err := ort.NewEmptyTensor[float32](append(ort.Shape{int64(c.rows)}, c.outRow...))
	if err != nil {
		b.Fatal(err)
	}
	run = func() {
		if err := s.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
			b.Fatal(err)
		}
	}
	return run, func() { _, _, _ = s.Destroy(), in.Destroy(), out.Destroy() }
}

// BenchmarkPoolVsBare: a one-actor pool's Transform against a bare session
// on the same tensors with the same thread count, in the same run. The
// ratio pool_rows/s ÷ bare_rows/s is the overhead of the model stage (target
// ≥ 0.9).
func BenchmarkPoolVsBare(b *testing.B) {
	needLibrary(b)
	for _, c := range benchCases(b) {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", c.name, threads), func(b *testing.B) {
				vals := benchValues(c)
				mem := memory.NewGoAllocator()
				p, err := Load(context.Background(), c.path, append(slices.Clone(c.options), WithIntraOpThreads(threads), WithAllocator(mem))...)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close(context.Background())
				in := record(b, []string{c.input}, tensorColumn(b, mem, arrow.PrimitiveTypes.Float32, c.row, vals))
				defer in.Release()
				run, done := bareSession(b, c, threads, slices.Clone(vals))
				defer done()
				run() // warm, as the pool's actors are
				b.ReportAllocs()
				b.ResetTimer()
				// Interleaved, so that both see the same load on the machine
				// (neither spins its idle threads: see WithSpinning).
				var bare, pool, bareCPU, poolCPU time.Duration
				for b.Loop() {
					c0, t0 := cpuTime(), time.Now()
					run()
					c1, t1 := cpuTime(), time.Now()
					out, err := p.Transform(context.Background(), 0, in)
					if err != nil {
						b.Fatal(err)
					}
					pool += time.Since(t1)
					poolCPU += cpuTime() - c1
					bare += t1.Sub(t0)
					bareCPU += c1 - c0
					out.Release()
				}
				// CPU time is what the work costs; wall time adds the wait
				// for the actor goroutine to be scheduled, which grows with
				// the load on the machine.
				b.ReportMetric(bareCPU.Seconds()/poolCPU.Seconds(), "cpu_ratio")
				n := float64(b.N * c.rows)
				b.ReportMetric(n/bare.Seconds(), "bare_rows/s")
				b.ReportMetric(n/pool.Seconds(), "pool_rows/s")
				b.ReportMetric(bare.Seconds()/pool.Seconds(), "ratio")
			})
		}
	}
}

// BenchmarkActorScaling: rows/s of a pool of N one-thread actors, fed by N
// goroutines.
func BenchmarkActorScaling(b *testing.B) {
	needLibrary(b)
	c := benchCases(b)[1]
	vals := benchValues(c)
	for _, actors := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("%s/actors=%d", c.name, actors), func(b *testing.B) {
			mem := memory.NewGoAllocator()
			p, err := Load(context.Background(), c.path, append(slices.Clone(c.options), WithActors(actors), WithIntraOpThreads(1), WithAllocator(mem))...)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			in := record(b, []string{c.input}, tensorColumn(b, mem, arrow.PrimitiveTypes.Float32, c.row, vals))
			defer in.Release()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			work := make(chan struct{})
			for range actors {
				wg.Go(func() {
					for range work {
						out, err := p.Transform(context.Background(), 0, in)
						if err != nil {
							b.Error(err)
							return
						}
						out.Release()
					}
				})
			}
			for b.Loop() {
				work <- struct{}{}
			}
			close(work)
			wg.Wait()
			b.ReportMetric(float64(b.N*c.rows)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// BenchmarkStartup: Load (admission, sessions, warm-up runs) and Close, for
// N actors; with the optimized-model cache warm too.
func BenchmarkStartup(b *testing.B) {
	needLibrary(b)
	for _, c := range benchCases(b) {
		for _, actors := range []int{1, 2} {
			for _, cached := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/actors=%d/cache=%v", c.name, actors, cached), func(b *testing.B) {
					opts := append(slices.Clone(c.options), WithActors(actors), WithIntraOpThreads(1))
					if cached {
						cache := b.TempDir() + "/opt.onnx"
						opts = append(opts, WithOptimizedModelCache(cache))
						p, err := Load(context.Background(), c.path, opts...) // writes the cache
						if err != nil {
							b.Fatal(err)
						}
						_ = p.Close(context.Background())
					}
					var total time.Duration
					for b.Loop() {
						p, err := Load(context.Background(), c.path, opts...)
						if err != nil {
							b.Fatal(err)
						}
						total += p.Startup().Total
						_ = p.Close(context.Background())
					}
					b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "startup_ms")
				})
			}
		}
	}
}

// cpuTime returns the CPU time the process has used, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPipelineVsBare: a whole pipeline (in-memory source of 16
// pre-made batches → model stage with one actor → Each) against a loop of
// 16 bare runs on the same tensors with the same thread count, in the same
// run; ratio = pipeline rows/s ÷ bare rows/s.
func BenchmarkPipelineVsBare(b *testing.B) {
	needLibrary(b)
	const batches = 16
	for _, c := range benchCases(b) {
		b.Run(c.name+"/threads=1", func(b *testing.B) {
			vals := benchValues(c)
			mem := memory.NewGoAllocator()
			p, err := Load(context.Background(), c.path, append(slices.Clone(c.options), WithIntraOpThreads(1), WithAllocator(mem))...)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			recs := make([]arrow.RecordBatch, batches)
			for i := range recs {
				recs[i] = record(b, []string{c.input}, tensorColumn(b, mem, arrow.PrimitiveTypes.Float32, c.row, vals))
			}
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			run, done := bareSession(b, c, 1, slices.Clone(vals))
			defer done()
			run()
			quiet := slog.New(slog.DiscardHandler)
			var bare, pipe, bareCPU, pipeCPU time.Duration
			for b.Loop() {
				c0, t0 := cpuTime(), time.Now()
				for range batches {
					run()
				}
				c1, t1 := cpuTime(), time.Now()
				src, err := scheduler.FromRecords(recs...)
				if err != nil {
					b.Fatal(err)
				}
				rows := int64(0)
				_, err = scheduler.New(src, scheduler.WithAllocator(mem), scheduler.WithLogger(quiet)).
					MapBatches(p, scheduler.BatchSize(c.rows)).
					Each(context.Background(), func(rec arrow.RecordBatch) error { rows += rec.NumRows(); return nil })
				if err != nil || rows != int64(batches*c.rows) {
					b.Fatalf("pipeline: %v, %d rows", err, rows)
				}
				pipe += time.Since(t1)
				pipeCPU += cpuTime() - c1
				bare += t1.Sub(t0)
				bareCPU += c1 - c0
			}
			b.ReportMetric(bareCPU.Seconds()/pipeCPU.Seconds(), "cpu_ratio")
			n := float64(b.N * batches * c.rows)
			b.ReportMetric(n/bare.Seconds(), "bare_rows/s")
			b.ReportMetric(n/pipe.Seconds(), "pipeline_rows/s")
			b.ReportMetric(bare.Seconds()/pipe.Seconds(), "ratio")
		})
	}
}
