package scheduler

import (
	"sync/atomic"
	"time"
)

// What a stage (or the source, or the sink) waits for, for the watchdog and
// the progress display.
const (
	waitNothing    int32 = iota
	waitUpstream         // no input: the previous stage or the source
	waitWorker           // its own workers are busy (or the source is reading, the sink writing)
	waitDownstream       // the next stage's queue is full
	waitMemory           // the memory budget is used
	waitAdmission        // the source: the first stage's queue or the budget
)

// stats are the counters of one stage, read without locks by the progress
// display, the metrics endpoint and the watchdog.
type stats struct {
	rowsIn, rowsOut       atomic.Int64
	batchesIn, batchesOut atomic.Int64
	busyNanos             atomic.Int64
	busy                  atomic.Int64 // workers in a Transform now
	queue                 atomic.Int64 // batches queued now
	maxQueue              atomic.Int64 // the most batches ever queued
	retries               atomic.Int64
	errors                atomic.Int64 // failed Transform calls (after retries)
	erroredBatches        atomic.Int64
	erroredRows           atomic.Int64
	deadRows              atomic.Int64
	lastProgress          atomic.Int64 // unix nanoseconds
	wait                  atomic.Int32
	waitSince             atomic.Int64 // unix nanoseconds of the last backpressure wait start
	backpressureNanos     atomic.Int64
}

func (s *stats) init() { s.lastProgress.Store(time.Now().UnixNano()) }

func (s *stats) progress() { s.lastProgress.Store(time.Now().UnixNano()) }

func (s *stats) setWait(w int32) {
	old := s.wait.Swap(w)
	now := time.Now().UnixNano()
	blocked := func(w int32) bool { return w == waitDownstream || w == waitMemory || w == waitAdmission }
	if blocked(old) && !blocked(w) {
		s.backpressureNanos.Add(now - s.waitSince.Load())
	}
	if !blocked(old) && blocked(w) {
		s.waitSince.Store(now)
	}
}

// take counts a batch of rows taken by a worker.
func (s *stats) take(rows int64) {
	s.setWait(waitWorker)
	s.rowsIn.Add(rows)
	s.batchesIn.Add(1)
	s.busy.Add(1)
}

func (s *stats) done() { s.busy.Add(-1) }

func (s *stats) out(rows int64) {
	s.rowsOut.Add(rows)
	s.batchesOut.Add(1)
	s.progress()
}

// add counts rows read (source) or written (sink).
func (s *stats) add(in, out int64) {
	s.rowsIn.Add(in)
	s.rowsOut.Add(out)
	s.batchesIn.Add(1)
	s.batchesOut.Add(1)
	s.progress()
}

func (s *stats) busyFor(d time.Duration) { s.busyNanos.Add(int64(d)) }

func (s *stats) queued(n int) {
	s.queue.Store(int64(n))
	for {
		m := s.maxQueue.Load()
		if int64(n) <= m || s.maxQueue.CompareAndSwap(m, int64(n)) {
			return
		}
	}
}
