package bench

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/host"
)

// int64Batch is one non-null int64 column of n bytes.
func int64Batch(n int) arrow.RecordBatch {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	vals := make([]int64, n/8)
	for i := range vals {
		vals[i] = int64(i)
	}
	b.AppendValues(vals, nil)
	col := b.NewArray()
	defer col.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	return array.NewRecordBatch(s, []arrow.Array{col}, int64(len(vals)))
}

// transformN sends rec through u n times, releasing each output.
func transformN(ctx context.Context, u *host.UDF, rec arrow.RecordBatch, n int) error {
	for range n {
		out, err := u.Transform(ctx, 0, rec)
		if err != nil {
			return err
		}
		out.Release()
	}
	return nil
}

func identityBenchmark() benchmark {
	return benchmark{
		keys: []keyInfo{{
			key: "abi_identity_vs_memcpy", title: "Identity UDF round trip (C guest) ÷ host memcpy", unit: "x",
			target: atLeast(0.4, "≥ 0.4 for batches ≥ 1 MiB"),
			measures: "GB/s of host.UDF.Transform through sdk/c/examples/identity (copy in, transform, validate, copy out, " +
				"release) ÷ GB/s of copy() between two warm Go buffers of the same size, per batch size (one int64 column); " +
				"the value is the lowest median ratio among batches of 1 MiB and more. 0.5 is the time of two memcpys (in and out).",
			explain: func(r *Result) string {
				return fmt.Sprintf("missed: the slowest size (%v) reached %s× memcpy; a round trip is at least two copies "+
					"(0.5× is the ideal), plus validation and an output buffer from the allocator (page faults and zeroing "+
					"for new memory); batches past the last-level cache pay main-memory bandwidth twice.",
					r.Details["limiting_size"], formatValue(*r.Value))
			},
		}},
		run: runIdentity,
	}
}

func runIdentity(ctx context.Context, e *env, rs []*Result) error {
	r := rs[0]
	wasm, err := e.read(cIdentityWasm)
	if err != nil {
		return err
	}
	u, err := host.Load(ctx, wasm, host.WithName("identity"), host.WithPoolSize(1), host.WithMemoryLimit(1<<30), host.WithLogger(quietLogger))
	if err != nil {
		return err
	}
	defer u.Close(ctx)
	perSize := map[string]any{}
	worst, worstSize := 0.0, ""
	var worstSamples []float64
	for _, size := range e.p.identitySizes {
		rec := int64Batch(size)
		src, dst := make([]byte, size), make([]byte, size)
		for i := range src {
			src[i] = byte(i)
		}
		copy(dst, src)
		// Several round trips per timing for small batches, so that each
		// timing is long enough to read.
		n := max(1, e.p.identityBlock/size)
		sides, err := interleaveMin(ctx, e.p.reps, e.p.inner,
			func() (float64, error) { return timed(func() error { return transformN(ctx, u, rec, n) }) },
			func() (float64, error) {
				return timed(func() error {
					for range n {
						copy(dst, src)
					}
					return nil
				})
			})
		rec.Release()
		if err != nil {
			return fmt.Errorf("batch of %s: %w", sizeName(size), err)
		}
		rt, mc := sides[0], sides[1]
		ratio := ratios(mc, rt) // GB/s ratio = memcpy time ÷ round-trip time
		s := summarize(ratio)
		gb := float64(size) * float64(n) / 1e9
		perSize[sizeName(size)] = map[string]any{
			"ratio_median": s.median, "ratio_min": s.Min, "ratio_max": s.Max,
			"udf_gb_per_s": gb / median(rt), "memcpy_gb_per_s": gb / median(mc),
			"round_trip_us": median(rt) / float64(n) * 1e6, "round_trips_per_timing": n,
		}
		if size >= 1<<20 && (worstSize == "" || s.median < worst) {
			worst, worstSize, worstSamples = s.median, sizeName(size), ratio
		}
	}
	if worstSize == "" {
		return fmt.Errorf("no batch of 1 MiB or more among the sizes %v", e.p.identitySizes)
	}
	r.setSamples(worstSamples)
	r.Details = map[string]any{"sizes": perSize, "limiting_size": worstSize}
	return nil
}

func emptyBatchBenchmark() benchmark {
	return benchmark{
		keys: []keyInfo{{
			key: "abi_empty_batch_us", title: "Fixed cost of an empty batch", unit: "µs",
			target:   below(5, "< 5 µs"),
			measures: "wall time per host.UDF.Transform of a zero-row, one-column (int64) batch through the C identity guest, timed over blocks of calls",
			explain: func(r *Result) string {
				return "missed: the fixed cost is a few wasm calls (alloc, transform, release), the input tree's copy-in, " +
					"the output's validation and a handful of allocations; on a loaded machine a block of calls also absorbs " +
					"preemption by other processes (see the minimum of the spread for the unloaded cost)."
			},
		}},
		run: func(ctx context.Context, e *env, rs []*Result) error {
			wasm, err := e.read(cIdentityWasm)
			if err != nil {
				return err
			}
			u, err := host.Load(ctx, wasm, host.WithName("identity"), host.WithPoolSize(1), host.WithLogger(quietLogger))
			if err != nil {
				return err
			}
			defer u.Close(ctx)
			rec := int64Batch(0)
			defer rec.Release()
			n := e.p.emptyCalls
			sides, err := interleaveMin(ctx, e.p.reps, e.p.inner, func() (float64, error) {
				s, err := timed(func() error { return transformN(ctx, u, rec, n) })
				return s / float64(n) * 1e6, err
			})
			if err != nil {
				return err
			}
			rs[0].setSamples(sides[0])
			rs[0].Details = map[string]any{"calls_per_timing": n}
			return nil
		},
	}
}
