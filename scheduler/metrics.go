package scheduler

import (
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// registry builds the run's Prometheus registry: per-stage counters and
// gauges (label stage; the source and sink are stages "source" and "sink"),
// and the run's memory and split gauges.
func (r *run) registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	type stat struct {
		name, help string
		counter    bool
		get        func(*stats) float64
	}
	statsOf := []stat{
		{"wasinfer_stage_rows_in_total", "Rows the stage received.", true, func(s *stats) float64 { return float64(s.rowsIn.Load()) }},
		{"wasinfer_stage_rows_out_total", "Rows the stage produced.", true, func(s *stats) float64 { return float64(s.rowsOut.Load()) }},
		{"wasinfer_stage_batches_in_total", "Batches the stage received.", true, func(s *stats) float64 { return float64(s.batchesIn.Load()) }},
		{"wasinfer_stage_batches_out_total", "Batches the stage produced.", true, func(s *stats) float64 { return float64(s.batchesOut.Load()) }},
		{"wasinfer_stage_busy_seconds_total", "Time the stage's workers spent in Transform.", true, func(s *stats) float64 { return float64(s.busyNanos.Load()) / 1e9 }},
		{"wasinfer_stage_errors_total", "Failed Transform calls, after retries.", true, func(s *stats) float64 { return float64(s.errors.Load()) }},
		{"wasinfer_stage_retries_total", "Retries after transient failures.", true, func(s *stats) float64 { return float64(s.retries.Load()) }},
		{"wasinfer_stage_dead_letter_rows_total", "Rows sent to the dead-letter sink.", true, func(s *stats) float64 { return float64(s.deadRows.Load()) }},
		{"wasinfer_stage_queue_batches", "Batches queued before the stage.", false, func(s *stats) float64 { return float64(s.queue.Load()) }},
		{"wasinfer_stage_workers_busy", "Workers in Transform now.", false, func(s *stats) float64 { return float64(s.busy.Load()) }},
	}
	each := func(name string, st *stats) {
		for _, m := range statsOf {
			opts := prometheus.Opts{Name: m.name, Help: m.help, ConstLabels: prometheus.Labels{"stage": name}}
			f := func() float64 { return m.get(st) }
			if m.counter {
				reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts(opts), f))
			} else {
				reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts), f))
			}
		}
	}
	each("source", &r.srcStats)
	for _, s := range r.stages {
		each(s.name, &s.stats)
	}
	each("sink", &r.sinkStats)
	locked := func(f func() float64) func() float64 {
		return func() float64 {
			r.mu.Lock()
			defer r.mu.Unlock()
			return f()
		}
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wasinfer_in_flight_bytes", Help: "Arrow bytes in flight."}, locked(func() float64 { return float64(r.live) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wasinfer_memory_budget_bytes", Help: "The memory budget."}, func() float64 { return float64(r.cfg.budget) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wasinfer_splits_committed", Help: "Splits committed by this run."}, locked(func() float64 { return float64(len(r.committed)) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wasinfer_splits_open", Help: "Splits being read, transformed or written."}, locked(func() float64 { return float64(r.open) })),
	)
	return reg
}

// serveMetrics serves the registry at /metrics until the returned stop is
// called.
func (r *run) serveMetrics() (stop func(), err error) {
	ln := r.cfg.metricsListener
	if ln == nil {
		if ln, err = net.Listen("tcp", r.cfg.metricsAddr); err != nil {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(r.registry(), promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.cfg.logger.Warn("scheduler: metrics endpoint", "err", err)
		}
	})
	r.cfg.logger.Info("scheduler: serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		_ = srv.Close()
		wg.Wait()
	}, nil
}
