package scheduler

import (
	"fmt"
	"sync"
	"time"
)

// aux are the run's helpers beside the data path: the watchdog, the
// progress display and the metrics endpoint. stop ends them and waits.
type aux struct {
	done  chan struct{}
	wg    sync.WaitGroup
	stops []func()
}

func (r *run) startAux() *aux {
	a := &aux{done: make(chan struct{})}
	if r.cfg.stall > 0 {
		a.wg.Go(func() { r.watchdog(a.done) })
	}
	if r.cfg.progress != nil {
		r.progressBar = r.newProgress()
		a.wg.Go(func() { r.progressBar.loop(a.done) })
	}
	if r.cfg.metricsAddr != "" || r.cfg.metricsListener != nil {
		if stop, err := r.serveMetrics(); err != nil {
			r.mu.Lock()
			r.warnLocked(fmt.Sprintf("metrics endpoint not served: %v", err))
			r.mu.Unlock()
		} else {
			a.stops = append(a.stops, stop)
		}
	}
	return a
}

func (a *aux) stop() {
	close(a.done)
	for _, s := range a.stops {
		s()
	}
	a.wg.Wait()
}

// A stallable is anything the watchdog watches: a stage, the source, the sink.
type stallable struct {
	name    string
	st      *stats
	workers int
	// inFlight reports the batches it holds and whether it has work at all.
	inFlight func() (int64, bool)
	waiting  func() string
}

func (r *run) watched() []stallable {
	var w []stallable
	for i, s := range r.stages {
		next := "the sink"
		if r.mode != modeWrite {
			next = "the output consumer"
		}
		if i+1 < len(r.stages) {
			next = fmt.Sprintf("the next stage (%q)", r.stages[i+1].name)
		}
		w = append(w, stallable{
			name: s.name, st: &s.stats, workers: s.workers,
			inFlight: func() (int64, bool) {
				n := s.stats.queue.Load() + s.stats.busy.Load()
				return n, n > 0
			},
			waiting: func() string {
				if b := s.stats.busy.Load(); b > 0 {
					return fmt.Sprintf("its workers (%d of %d busy in Transform)", b, s.workers)
				}
				switch s.stats.wait.Load() {
				case waitDownstream:
					return next + " (its queue is full)"
				case waitMemory:
					return "the memory budget"
				}
				return "the previous stage"
			},
		})
	}
	w = append(w, stallable{
		name: "source", st: &r.srcStats,
		inFlight: func() (int64, bool) { return 0, r.srcStats.wait.Load() == waitWorker },
		waiting:  func() string { return "the source's reader (Read has not returned)" },
	}, stallable{
		name: "sink", st: &r.sinkStats,
		inFlight: func() (int64, bool) { return 0, r.sinkStats.wait.Load() == waitWorker },
		waiting:  func() string { return "the sink (a write or commit has not returned)" },
	})
	return w
}

// watchdog reports every stage that has work and makes no progress for the
// stall timeout, once per stall.
func (r *run) watchdog(done <-chan struct{}) {
	every := max(min(r.cfg.stall/4, time.Second), time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	watched := r.watched()
	reported := make([]int64, len(watched)) // lastProgress at the last report
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		now := time.Now()
		for i, w := range watched {
			n, has := w.inFlight()
			last := w.st.lastProgress.Load()
			idle := now.Sub(time.Unix(0, last))
			if !has || idle < r.cfg.stall || reported[i] == last {
				continue
			}
			reported[i] = last
			msg := fmt.Sprintf("stage %q has made no progress for %s: %d batches in flight, waiting for %s",
				w.name, idle.Round(time.Millisecond), n, w.waiting())
			if w.name == "source" || w.name == "sink" {
				msg = fmt.Sprintf("the %s has made no progress for %s: waiting for %s", w.name, idle.Round(time.Millisecond), w.waiting())
			}
			r.mu.Lock()
			r.warnLocked(msg)
			if r.progressBar != nil {
				r.progressBar.note(msg)
			}
			if r.cfg.failOnStall {
				r.failLocked(&StageError{Stage: w.name, Split: -1, Batch: -1, Row: -1, Err: fmt.Errorf("%w: %s", ErrStalled, msg)})
			}
			r.mu.Unlock()
		}
	}
}
