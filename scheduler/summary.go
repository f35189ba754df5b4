package scheduler

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Summary is what a run did. The CLI prints it as text (WriteText) or JSON.
type Summary struct {
	Stages []StageSummary `json:"stages"`
	// Source: rows and batches read.
	Source StageSummary `json:"source"`
	// Sink: rows and batches written (or handed to Each).
	Sink StageSummary `json:"sink"`
	// Splits: of this shard, those committed by this run, those skipped
	// (committed before), those not committed (interrupted or failed).
	SplitsCommitted    int      `json:"splits_committed"`
	SplitsSkipped      int      `json:"splits_skipped"`
	SplitsNotCommitted int      `json:"splits_not_committed"`
	NotCommitted       []string `json:"not_committed,omitempty"`
	DeadLetterRows     int64    `json:"dead_letter_rows"`
	Wall               Duration `json:"wall_seconds"`
	RowsPerSecond      float64  `json:"rows_per_second"` // source rows ÷ wall time
	// PeakInFlightBytes is the most Arrow bytes in flight at once.
	PeakInFlightBytes int64 `json:"peak_in_flight_bytes"`
	MemoryBudget      int64 `json:"memory_budget_bytes"`
	// OverBudgetAdmissions counts batches admitted past the budget so the
	// pipeline could move (see the package documentation).
	OverBudgetAdmissions int `json:"over_budget_admissions"`
	// PeakRSSBytes is the process's peak resident set so far (Linux VmHWM;
	// 0 elsewhere). It covers the whole process, not only this run.
	PeakRSSBytes int64    `json:"peak_rss_bytes"`
	OutputFiles  []string `json:"output_files,omitempty"`
	Warnings     []string `json:"warnings,omitempty"`
}

// StageSummary is one stage's share of a run.
type StageSummary struct {
	Name       string   `json:"name"`
	Workers    int      `json:"workers"`
	BatchSize  int      `json:"batch_size"`
	RowsIn     int64    `json:"rows_in"`
	RowsOut    int64    `json:"rows_out"`
	BatchesIn  int64    `json:"batches_in"`
	BatchesOut int64    `json:"batches_out"`
	Busy       Duration `json:"busy_seconds"`
	// Utilization is busy time ÷ (wall time × workers).
	Utilization    float64 `json:"utilization"`
	Errors         int64   `json:"errors"`
	Retries        int64   `json:"retries"`
	ErroredBatches int64   `json:"errored_batches"`
	DeadLetterRows int64   `json:"dead_letter_rows"`
	MaxQueue       int64   `json:"max_queue"`
	QueueDepth     int     `json:"queue_depth"`
	// Backpressure is the time the stage's workers had a batch but waited
	// for room downstream or in the memory budget.
	Backpressure Duration `json:"backpressure_seconds"`
}

// Duration is a time.Duration that marshals as seconds.
type Duration time.Duration

// MarshalJSON writes the duration in seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", time.Duration(d).Seconds())), nil
}

func (d Duration) String() string { return time.Duration(d).Round(time.Millisecond).String() }

func (r *run) stageSummary(name string, workers, bs, depth int, st *stats, wall time.Duration) StageSummary {
	busy := time.Duration(st.busyNanos.Load())
	u := 0.0
	if wall > 0 && workers > 0 {
		u = busy.Seconds() / (wall.Seconds() * float64(workers))
	}
	return StageSummary{
		Name: name, Workers: workers, BatchSize: bs, QueueDepth: depth,
		RowsIn: st.rowsIn.Load(), RowsOut: st.rowsOut.Load(),
		BatchesIn: st.batchesIn.Load(), BatchesOut: st.batchesOut.Load(),
		Busy: Duration(busy), Utilization: u,
		Errors: st.errors.Load(), Retries: st.retries.Load(),
		ErroredBatches: st.erroredBatches.Load(), DeadLetterRows: st.deadRows.Load(),
		MaxQueue: st.maxQueue.Load(), Backpressure: Duration(st.backpressureNanos.Load()),
	}
}

func (r *run) summaryLocked() *Summary {
	wall := time.Since(r.start)
	s := &Summary{
		SplitsCommitted: len(r.committed), SplitsSkipped: r.skipped,
		SplitsNotCommitted: len(r.uncommitted), NotCommitted: r.uncommitted,
		DeadLetterRows: r.deadRows, Wall: Duration(wall),
		PeakInFlightBytes: r.peakLive, MemoryBudget: r.cfg.budget,
		OverBudgetAdmissions: r.overBudget, PeakRSSBytes: peakRSS(),
		OutputFiles: r.files, Warnings: r.warnings,
	}
	for _, st := range r.stages {
		s.Stages = append(s.Stages, r.stageSummary(st.name, st.workers, st.cfg.batchSize, st.depth, &st.stats, wall))
	}
	s.Source = r.stageSummary("source", len(r.todo), 0, 0, &r.srcStats, wall)
	s.Sink = r.stageSummary("sink", r.cfg.splitsInFlight, 0, r.outDepth, &r.sinkStats, wall)
	if wall > 0 {
		s.RowsPerSecond = float64(s.Source.RowsOut) / wall.Seconds()
	}
	return s
}

// WriteText writes the summary as a table for people.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %8s %12s %12s %10s %6s %7s %8s %8s\n", "stage", "workers", "rows in", "rows out", "busy", "util", "errors", "retries", "dead")
	row := func(st StageSummary) {
		fmt.Fprintf(&b, "%-20s %8d %12d %12d %10s %5.0f%% %7d %8d %8d\n", st.Name, st.Workers, st.RowsIn, st.RowsOut, st.Busy, 100*st.Utilization, st.Errors, st.Retries, st.DeadLetterRows)
	}
	row(s.Source)
	for _, st := range s.Stages {
		row(st)
	}
	row(s.Sink)
	fmt.Fprintf(&b, "splits: %d committed, %d skipped (done before), %d not committed\n", s.SplitsCommitted, s.SplitsSkipped, s.SplitsNotCommitted)
	fmt.Fprintf(&b, "wall %s, %.0f rows/s, dead letters %d, peak in flight %s of %s budget, peak RSS %s\n",
		s.Wall, s.RowsPerSecond, s.DeadLetterRows, bytesText(s.PeakInFlightBytes), bytesText(s.MemoryBudget), bytesText(s.PeakRSSBytes))
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
