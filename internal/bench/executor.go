package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/dataset"
	"github.com/wasinfer/wasinfer/scheduler"
)

func executorBenchmark() benchmark {
	return benchmark{
		keys: []keyInfo{{
			key: "executor_overhead", title: "Pass-through pipeline ÷ plain read + write", unit: "x",
			target: atLeast(0.9, "≥ 0.9"),
			measures: "rows/s of Parquet (digits, row groups of 16 Ki rows = splits) → one pass-through Go stage → Parquet " +
				"sink through the scheduler with its defaults, ÷ rows/s of a loop that reads every split and writes it to the " +
				"same kind of sink with no executor, interleaved; details hold the ratio with one split in flight",
			explain: func(r *Result) string {
				return "missed: per batch the executor adds a few lock operations, a heap push and pop and a buffer " +
					"walk; with batches of " + fmt.Sprint(r.Details["batch_rows"]) + " small rows these are not amortized, and " +
					"on a shared machine its goroutines wait to be scheduled more than the plain loop's one."
			},
		}},
		run: runExecutor,
	}
}

func runExecutor(ctx context.Context, e *env, rs []*Result) error {
	rows := e.p.executorRows
	data, err := e.digits(rows)
	if err != nil {
		return err
	}
	copyOnce := func(through bool, opts ...scheduler.Option) func() (float64, error) {
		return func() (float64, error) {
			dir, err := e.dir("executor-")
			if err != nil {
				return 0, err
			}
			defer os.RemoveAll(dir)
			var n int64
			s, err := timed(func() error {
				var err error
				if through {
					n, err = pipelineCopy(ctx, data, dir, opts...)
				} else {
					n, err = plainCopy(ctx, data, dir)
				}
				return err
			})
			if err == nil && n != int64(rows) {
				err = fmt.Errorf("copied %d rows of %d", n, rows)
			}
			return s, err
		}
	}
	sides, err := interleave(ctx, e.p.reps,
		copyOnce(false),
		copyOnce(true),
		copyOnce(true, scheduler.WithSplitsInFlight(1)))
	if err != nil {
		return err
	}
	rs[0].setSamples(ratios(sides[0], sides[1]))
	one := summarize(ratios(sides[0], sides[2]))
	rs[0].Details = map[string]any{
		"rows": rows, "batch_rows": digitsBatch, "splits": (rows + digitsRowGroup - 1) / digitsRowGroup,
		"plain_rows_per_s": float64(rows) / median(sides[0]), "pipeline_rows_per_s": float64(rows) / median(sides[1]),
		"ratio_one_split_in_flight": one.median, "ratio_one_split_in_flight_min": one.Min, "ratio_one_split_in_flight_max": one.Max,
	}
	return nil
}

// plainCopy reads every split of in and writes it to a Parquet sink in
// out (opened with opts), one part per split, with no executor: the
// baseline.
func plainCopy(ctx context.Context, in, out string, opts ...dataset.SinkOption) (int64, error) {
	src, err := dataset.OpenParquet(ctx, []string{in}, dataset.WithBatchSize(digitsBatch))
	if err != nil {
		return 0, err
	}
	defer src.Close()
	sink, err := dataset.OpenSink(ctx, out, dataset.FormatParquet, opts...)
	if err != nil {
		return 0, err
	}
	var rows int64
	for _, sp := range src.Splits() {
		n, err := copySplit(ctx, src, sink, sp)
		rows += n
		if err != nil {
			_ = sink.Close(ctx)
			return rows, err
		}
	}
	return rows, sink.Close(ctx)
}

func copySplit(ctx context.Context, src dataset.Source, sink dataset.Sink, sp dataset.Split) (int64, error) {
	rd, err := src.Open(ctx, sp)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	part, err := sink.Create(ctx, sp, src.Schema())
	if err != nil {
		return 0, err
	}
	var rows int64
	for {
		rec, err := rd.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = part.Abort(ctx)
			return rows, err
		}
		rows += rec.NumRows()
		err = part.Write(ctx, rec)
		rec.Release()
		if err != nil {
			_ = part.Abort(ctx)
			return rows, err
		}
	}
	_, err = part.Commit(ctx)
	return rows, err
}

// pipelineCopy is the same copy through the executor, with one stage that
// returns its input.
func pipelineCopy(ctx context.Context, in, out string, opts ...scheduler.Option) (int64, error) {
	src, err := dataset.OpenParquet(ctx, []string{in}, dataset.WithBatchSize(digitsBatch))
	if err != nil {
		return 0, err
	}
	defer src.Close()
	sink, err := dataset.OpenSink(ctx, out, dataset.FormatParquet)
	if err != nil {
		return 0, err
	}
	pass := scheduler.Func("pass", func(_ context.Context, rec arrow.RecordBatch) (arrow.RecordBatch, error) { return rec, nil })
	sum, err := scheduler.New(src, append([]scheduler.Option{scheduler.WithLogger(quietLogger)}, opts...)...).
		MapBatches(pass).Write(sink).Run(ctx)
	if cerr := sink.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return sum.Sink.RowsIn, nil
}
