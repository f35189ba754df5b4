package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasinfer/wasinfer/host"
	"github.com/wasinfer/wasinfer/scheduler"
)

// spinBatch is the input of testdata/spin.wasm: one row, one int32 column
// holding the number of loop iterations the transform runs.
func spinBatch(iters int) arrow.RecordBatch {
	b := array.NewInt32Builder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(int32(iters))
	col := b.NewArray()
	defer col.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int32}}, nil)
	return array.NewRecordBatch(s, []arrow.Array{col}, 1)
}

func (e *env) loadSpin(ctx context.Context, pool int) (*host.UDF, error) {
	wasm, err := e.read(spinWasm)
	if err != nil {
		return nil, err
	}
	return host.Load(ctx, wasm, host.WithName("spin"), host.WithPoolSize(pool), host.WithLogger(quietLogger))
}

func scalingBenchmark() benchmark {
	return benchmark{
		keys: []keyInfo{{
			key: "pool_scaling", title: "CPU-bound Wasm stage: N workers ÷ 1 worker, N = CPUs", unit: "x",
			measures: "batches/s of an in-memory source → a UDF stage of testdata/spin.wasm (each batch a tight loop of a " +
				"few million iterations in the guest) → Each, with N workers and an N-instance pool (N = runtime.NumCPU()) " +
				"÷ the same with 1 worker and 1 instance, interleaved; N is the ideal",
		}},
		run: runScaling,
	}
}

func runScaling(ctx context.Context, e *env, rs []*Result) error {
	n := runtime.NumCPU()
	one, err := e.loadSpin(ctx, 1)
	if err != nil {
		return err
	}
	defer one.Close(ctx)
	many, err := e.loadSpin(ctx, n)
	if err != nil {
		return err
	}
	defer many.Close(ctx)
	rec := spinBatch(e.p.scaleIters)
	defer rec.Release()
	batches := e.p.scaleBatches
	through := func(u *host.UDF, workers int) func() (float64, error) {
		return func() (float64, error) {
			recs := make([]arrow.RecordBatch, batches)
			for i := range recs {
				recs[i] = rec
			}
			src, err := scheduler.FromRecords(recs...)
			if err != nil {
				return 0, err
			}
			defer src.Close()
			var got int
			s, err := timed(func() error {
				_, err := scheduler.New(src, scheduler.WithLogger(quietLogger)).
					MapBatches(u, scheduler.Workers(workers)).
					Each(ctx, func(arrow.RecordBatch) error { got++; return nil })
				return err
			})
			if err == nil && got != batches {
				err = fmt.Errorf("%d batches out of %d", got, batches)
			}
			return s, err
		}
	}
	sides, err := interleave(ctx, e.p.reps, through(one, 1), through(many, n))
	if err != nil {
		return err
	}
	rs[0].setSamples(ratios(sides[0], sides[1]))
	rs[0].Details = map[string]any{
		"workers": n, "batches": batches, "loop_iterations_per_batch": e.p.scaleIters,
		"batches_per_s_1": float64(batches) / median(sides[0]), "batches_per_s_n": float64(batches) / median(sides[1]),
		"ideal": n,
	}
	return nil
}

func deadlineBenchmark() benchmark {
	return benchmark{
		keys: []keyInfo{{
			key: "wasm_deadline_overhead", title: "Per-batch deadline on a tight-loop UDF: guarded ÷ no deadline", unit: "x",
			measures: "time per loop iteration of testdata/spin.wasm's tight loop (an add and a decrement) run by " +
				"host.UDF.Transform, which runs every guest under its deadline mechanism (the module rewritten with " +
				"interrupt checks at loop headers and function entries, a 60 s deadline), ÷ the same loop of the same module " +
				"called through wazero directly with no deadline mechanism; per-batch fixed costs cancel out (each side's " +
				"time at 0 iterations is subtracted). Details: wazero's own WithCloseOnContextDone on the same loop.",
		}},
		run: runDeadline,
	}
}

func runDeadline(ctx context.Context, e *env, rs []*Result) error {
	iters := e.p.deadlineIters
	u, err := e.loadSpin(ctx, 1)
	if err != nil {
		return err
	}
	defer u.Close(ctx)
	recN, rec0 := spinBatch(iters), spinBatch(0)
	defer recN.Release()
	defer rec0.Release()
	wasm, err := e.read(spinWasm)
	if err != nil {
		return err
	}
	raw := func(closeOnDone bool) (api.Function, func(), error) {
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
		mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			_ = rt.Close(ctx)
			return nil, nil, err
		}
		return mod.ExportedFunction("spin"), func() { _ = rt.Close(ctx) }, nil
	}
	none, closeNone, err := raw(false)
	if err != nil {
		return err
	}
	defer closeNone()
	wz, closeWz, err := raw(true)
	if err != nil {
		return err
	}
	defer closeWz()
	// The same far deadline the host sets, for wazero's mechanism to watch.
	dctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	const fixedCalls = 64
	perIter := func(big, zero func() error) func() (float64, error) {
		return func() (float64, error) {
			tb, err := timed(big)
			if err != nil {
				return 0, err
			}
			tz, err := timed(func() error {
				for range fixedCalls {
					if err := zero(); err != nil {
						return err
					}
				}
				return nil
			})
			return (tb - tz/fixedCalls) / float64(iters) * 1e9, err
		}
	}
	call := func(f api.Function, c context.Context, n int) func() error {
		want := uint32(uint64(n) * uint64(n+1) / 2)
		return func() error {
			res, err := f.Call(c, uint64(n))
			if err == nil {
				if got := uint32(res[0]); got != want {
					err = fmt.Errorf("spin(%d) = %d, want %d", n, got, want)
				}
			}
			return err
		}
	}
	// wazero's mechanism makes the loop ~100× slower: fewer alternations.
	sides, err := interleaveMin(ctx, e.p.reps, max(1, e.p.inner/2),
		perIter(func() error { return transformN(ctx, u, recN, 1) }, func() error { return transformN(ctx, u, rec0, 1) }),
		perIter(call(none, ctx, iters), call(none, ctx, 0)),
		perIter(call(wz, dctx, iters), call(wz, dctx, 0)))
	if err != nil {
		return err
	}
	rs[0].setSamples(ratios(sides[0], sides[1]))
	wzr := summarize(ratios(sides[2], sides[1]))
	rs[0].Details = map[string]any{
		"loop_iterations":       iters,
		"ns_per_iteration_host": median(sides[0]), "ns_per_iteration_none": median(sides[1]),
		"ns_per_iteration_wazero_close_on_done": median(sides[2]),
		"wazero_close_on_done_vs_none":          wzr.median,
	}
	return nil
}
