package scheduler

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wasinfer/wasinfer/dataset"
)

type mode int

const (
	modeWrite mode = iota // Run: each split to a sink part
	modeEach              // Each: output batches to a function
	modeTake              // TakeBatch: Each on the first rows, budgets 0
)

// run is the state of one execution. Everything below mu is guarded by it;
// every wait is on cond, which is broadcast whenever anything a waiter
// could be waiting for changes.
type run struct {
	p       *Pipeline
	cfg     config
	mode    mode
	emit    func(arrow.RecordBatch) error
	limit   int64 // modeTake: source rows to read
	stages  []*stageRun
	todo    []dataset.Split
	skipped int // splits already committed
	start   time.Time

	ctx      context.Context // transforms, writes: canceled on fatal error or hard stop
	cancel   context.CancelFunc
	readCtx  context.Context // source reads: canceled on interrupt too
	readStop context.CancelFunc
	wg       sync.WaitGroup

	mu          sync.Mutex
	cond        *sync.Cond
	live        int64 // bytes of live charges
	reserved    int64 // expected bytes of reads and transforms in progress
	peakLive    int64
	active      int // reads, transforms, writes and emits in progress
	err         error
	stop        bool        // fatal error or hard stop: wind down now
	interrupted bool        // no more reading
	finished    bool        // every split is done: workers exit
	open        int         // splits dispatched and not finished
	splits      []*splitRun // every split dispatched, by ordinal
	openSplits  []*splitRun // the splits not finished, by ordinal
	pendingAt   []int       // results held in reorder buffers at each edge
	limitLeft   int64
	sourceDone  bool // modeTake: the row limit is reached
	emitNext    int  // Each: the next split ordinal to emit (ordered)
	outDepth    int
	outSchema   *arrow.Schema
	committed   []string
	uncommitted []string
	files       []string
	overBudget  int // admissions past the budget (to keep the pipeline moving)
	warnings    []string
	srcStats    stats
	sinkStats   stats
	deadRows    int64
	progressBar *progress
}

// A stageRun is a stage during a run.
type stageRun struct {
	idx     int
	name    string
	st      Stage
	cfg     stageConfig
	workers int
	depth   int
	queue   envHeap
	ratio   float64 // observed output bytes / input bytes
	schema  *arrow.Schema
	stats   stats
}

// A splitRun is one split during a run.
type splitRun struct {
	ord       int
	sp        dataset.Split
	edges     []*edge // edges[i] feeds stage i; edges[len(stages)] feeds the output
	readDone  bool    // the reader delivered the end marker
	abandoned bool    // interrupted before it was read whole: discard
	done      bool
	waiting   bool // the reader waits for admission
	readSeq   int64
	readEst   int64       // bytes of the previous batch read: the estimate of the next
	out       []*envelope // ready for the writer or the emitter, in order

	dlMu   sync.Mutex // guards dlPart
	dlPart dataset.Part
}

// An envelope is a batch moving through the pipeline with where it came
// from. Its rec and its refs on charges are owned by whoever holds it.
type envelope struct {
	rec     arrow.RecordBatch
	charges []*charge
	approx  int64 // its share of the charges' bytes (for estimates)
	sp      *splitRun
	seq     int64 // sequence within the split at this edge
	row     int64 // row index within the split (at this edge) of its first row
	last    bool  // the split's last piece at this edge
	reserve int64 // expected output bytes reserved while it is transformed
}

// key orders all work in a run: splits in order, and within a split the
// batches further down the pipeline first (they hold older rows), then by
// sequence. The smallest key waiting can always go (see admit).
type key struct {
	ord   int
	stage int // -1: the source
	seq   int64
}

func (a key) less(b key) bool {
	if a.ord != b.ord {
		return a.ord < b.ord
	}
	if a.stage != b.stage {
		return a.stage > b.stage
	}
	return a.seq < b.seq
}

type envHeap []*envelope

func (h envHeap) Len() int { return len(h) }
func (h envHeap) Less(i, j int) bool {
	if h[i].sp.ord != h[j].sp.ord {
		return h[i].sp.ord < h[j].sp.ord
	}
	return h[i].seq < h[j].seq
}
func (h envHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *envHeap) Push(x any)   { *h = append(*h, x.(*envelope)) }
func (h *envHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

func (p *Pipeline) newRun(m mode, nstages int) (*run, error) {
	if p.err != nil {
		return nil, p.err
	}
	cfg := p.cfg
	if m == modeTake {
		cfg.splitsInFlight = 1
		cfg.progress = nil
		cfg.metricsAddr, cfg.metricsListener = "", nil
	}
	switch {
	case cfg.budget < 1:
		return nil, fmt.Errorf("%w: memory budget %d bytes: want at least 1", ErrPipeline, cfg.budget)
	case cfg.splitsInFlight < 1:
		return nil, fmt.Errorf("%w: splits in flight %d: want at least 1", ErrPipeline, cfg.splitsInFlight)
	case cfg.shards < 0 || cfg.shards > 0 && (cfg.shard < 0 || cfg.shard >= cfg.shards):
		return nil, fmt.Errorf("%w: shard %d of %d: want 0 <= shard < shards", ErrPipeline, cfg.shard, cfg.shards)
	case cfg.stall < 0:
		return nil, fmt.Errorf("%w: stall timeout %v: want 0 (off) or more", ErrPipeline, cfg.stall)
	}
	r := &run{p: p, cfg: cfg, mode: m, outDepth: 2}
	r.cond = sync.NewCond(&r.mu)
	if cfg.queueDepth > 0 {
		r.outDepth = cfg.queueDepth
	}
	for i, s := range p.stages[:nstages] {
		sr, err := newStageRun(i, s, cfg)
		if err != nil {
			return nil, err
		}
		if m == modeTake {
			sr.cfg.maxBatches, sr.cfg.maxRows, sr.cfg.maxRate = 0, 0, 0
		}
		if sr.allowsErrors() && p.dead == nil && m != modeTake {
			return nil, fmt.Errorf("%w: stage %q has an error budget but the pipeline has no dead-letter sink (call DeadLetters)", ErrPipeline, sr.name)
		}
		r.stages = append(r.stages, sr)
	}
	if err := r.fitResources(); err != nil {
		return nil, err
	}
	return r, nil
}

func newStageRun(i int, s stageSpec, cfg config) (*stageRun, error) {
	c := s.cfg
	name := s.stage.Name()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: stage %q: %s", ErrPipeline, name, fmt.Sprintf(format, args...))
	}
	if c.workers == 0 {
		c.workers = 1
		if cc, ok := s.stage.(Concurrent); ok && cc.Concurrency() > 0 {
			c.workers = cc.Concurrency()
		}
	}
	if rs, ok := s.stage.(Resources); ok && !c.resourcesFromOpt {
		c.cpus, c.gpus = rs.Resources()
	}
	switch {
	case c.workers < 1:
		return nil, bad("workers %d: want at least 1", c.workers)
	case c.batchSize < 0:
		return nil, bad("batch size %d: want 0 (as they come) or more", c.batchSize)
	case c.retries < 0:
		return nil, bad("retries %d: want 0 or more", c.retries)
	case c.maxBatches < 0 || c.maxRows < 0:
		return nil, bad("error budget below 0")
	case c.maxRate < 0 || c.maxRate > 1:
		return nil, bad("error rate %g: want 0 to 1", c.maxRate)
	case c.cpus < 0 || c.gpus < 0:
		return nil, bad("resources below 0")
	case c.queueDepth < 0:
		return nil, bad("queue depth %d: want 1 or more", c.queueDepth)
	}
	sr := &stageRun{idx: i, name: name, st: s.stage, cfg: c, workers: c.workers, ratio: 1}
	sr.depth = c.queueDepth
	if sr.depth == 0 {
		sr.depth = cfg.queueDepth
	}
	return sr, nil
}

func (s *stageRun) allowsErrors() bool {
	return s.cfg.maxBatches > 0 || s.cfg.maxRows > 0 || s.cfg.maxRate > 0
}

// execute runs r to the end.
func (r *run) execute(parent context.Context) (*Summary, error) {
	r.start = time.Now()
	for _, s := range r.stages {
		if s.depth == 0 {
			s.depth = 2 * s.workers
		}
		s.stats.init()
	}
	r.srcStats.init()
	r.sinkStats.init()
	if err := r.planSplits(parent); err != nil {
		return nil, err
	}
	r.limitLeft = r.limit
	r.pendingAt = make([]int, len(r.stages)+1)
	base := context.WithoutCancel(parent)
	r.ctx, r.cancel = context.WithCancel(base)
	r.readCtx, r.readStop = context.WithCancel(r.ctx)
	defer r.cancel()

	var grace *time.Timer
	stopWatch := context.AfterFunc(parent, func() {
		r.interrupt()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.finished {
			return
		}
		if r.cfg.grace <= 0 {
			r.hardStopLocked()
			return
		}
		grace = time.AfterFunc(r.cfg.grace, r.hardStop)
	})

	aux := r.startAux()
	for _, s := range r.stages {
		for range s.workers {
			r.wg.Go(func() { r.worker(s) })
		}
	}
	if r.mode != modeWrite {
		r.wg.Go(r.emitter)
	}
	r.dispatch()
	r.wg.Wait()
	stopWatch()
	r.mu.Lock()
	if grace != nil {
		grace.Stop()
	}
	r.mu.Unlock()
	aux.stop()
	r.drain()
	for _, sp := range r.splits {
		r.abortDeadLetters(sp)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.err
	if err == nil && !r.interrupted {
		err = r.finalRateCheckLocked()
	}
	if err == nil && r.interrupted {
		cause := parent.Err()
		if cause == nil {
			cause = context.Canceled
		}
		err = &InterruptedError{Committed: r.committed, NotCommitted: r.uncommitted, Err: cause}
	}
	sum := r.summaryLocked()
	if r.progressBar != nil {
		r.progressBar.final(sum)
	}
	return sum, err
}

// planSplits lists the splits of this shard that the sink has not committed.
func (r *run) planSplits(ctx context.Context) error {
	all := r.p.src.Splits()
	var mine []dataset.Split
	for _, s := range all {
		if r.cfg.shards > 1 && s.Index%r.cfg.shards != r.cfg.shard {
			continue
		}
		mine = append(mine, s)
	}
	if r.mode == modeWrite && len(mine) > 0 {
		done, err := r.p.sink.Committed(ctx, mine)
		if err != nil {
			return &StageError{Stage: "sink", Split: -1, Batch: -1, Row: -1, Err: fmt.Errorf("reading committed splits: %w", err)}
		}
		for _, s := range mine {
			if done[s.Index] {
				r.skipped++
				continue
			}
			r.todo = append(r.todo, s)
		}
		return nil
	}
	r.todo = mine
	return nil
}

// dispatch opens splits in order, at most splitsInFlight at once, and waits
// until every one is finished or the run stops.
func (r *run) dispatch() {
	for ord, s := range r.todo {
		r.mu.Lock()
		for r.open >= r.cfg.splitsInFlight && !r.stop && !r.interrupted && !r.sourceDone {
			r.cond.Wait()
		}
		if r.stop || r.interrupted || r.sourceDone {
			for _, rest := range r.todo[ord:] {
				r.uncommitted = append(r.uncommitted, rest.ID)
			}
			r.mu.Unlock()
			break
		}
		sp := &splitRun{ord: ord, sp: s, edges: make([]*edge, len(r.stages)+1)}
		for i := range sp.edges {
			sp.edges[i] = &edge{pending: map[int64]result{}}
			if i < len(r.stages) {
				sp.edges[i].batchSize = r.stages[i].cfg.batchSize
			}
		}
		r.splits = append(r.splits, sp)
		r.openSplits = append(r.openSplits, sp)
		r.open++
		r.mu.Unlock()
		r.wg.Go(func() { r.reader(sp) })
		if r.mode == modeWrite {
			r.wg.Go(func() { r.writer(sp) })
		}
	}
	r.mu.Lock()
	for r.open > 0 && !r.stop {
		r.cond.Wait()
	}
	r.finished = true
	r.cond.Broadcast()
	r.mu.Unlock()
}

// fail records the first fatal error and stops the run.
func (r *run) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failLocked(err)
}

func (r *run) failLocked(err error) {
	if r.err == nil && !r.stop {
		r.err = err
	}
	r.hardStopLocked()
}

func (r *run) hardStop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hardStopLocked()
}

func (r *run) hardStopLocked() {
	r.stop = true
	r.cancel()
	r.cond.Broadcast()
}

// interrupt stops reading: splits not read whole are abandoned, the others
// go on (until the grace period ends).
func (r *run) interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.interrupted || r.finished {
		return
	}
	r.interrupted = true
	r.readStop()
	for _, sp := range r.splits {
		if !sp.readDone && !sp.done {
			sp.abandoned = true
		}
	}
	r.cond.Broadcast()
}

// admitLocked decides whether the work with key k, expecting to add est
// bytes, may start now: when it fits the budget and its downstream queue
// has room, or when the pipeline is stuck (nothing in progress, nothing
// else may start) and k is the smallest key waiting. The second rule keeps
// the pipeline moving when the budget or a queue is full of batches that
// wait for an older one (reorder buffers, partial chunks, another split's
// output): the oldest work never waits on younger work, so it always
// completes, and it is admitted alone. A batch larger than the whole budget
// is admitted the same way.
func (r *run) admitLocked(k key, est int64, room bool) bool {
	if r.fitsLocked(est, room) {
		return true
	}
	if !r.stuckLocked() {
		return false
	}
	if m, ok := r.minWaitingLocked(); ok && m == k {
		if !r.fitsLocked(est, true) {
			r.overBudget++
			if r.overBudget == 1 {
				r.warnLocked(fmt.Sprintf("memory budget %d bytes full (%d bytes in flight): admitting the oldest batch alone (%d bytes expected) so the pipeline keeps moving; raise the budget (WithMemoryBudget) for throughput", r.cfg.budget, r.live, est))
			}
		}
		return true
	}
	return false
}

func (r *run) fitsLocked(est int64, room bool) bool {
	used := r.live + r.reserved
	return room && used+est <= r.cfg.budget && (est > 0 || used < r.cfg.budget)
}

// stuckLocked reports whether nothing is in progress and no waiting work
// may start by the normal rule.
func (r *run) stuckLocked() bool {
	if r.active > 0 {
		return false
	}
	for _, sp := range r.openSplits {
		if len(sp.out) > 0 && (r.mode == modeWrite || r.nextEmitLocked() != nil) {
			return false // the writer or the emitter is about to take them
		}
		if sp.waiting && r.fitsLocked(sp.readEst, r.roomAfterLocked(-1, sp)) {
			return false
		}
	}
	for _, s := range r.stages {
		if s.queue.Len() > 0 {
			e := s.queue[0]
			if e.sp.abandoned || r.fitsLocked(s.estimate(e), r.roomAfterLocked(s.idx, e.sp)) {
				return false
			}
		}
	}
	return true
}

func (s *stageRun) estimate(e *envelope) int64 { return int64(float64(e.approx) * s.ratio) }

// minWaitingLocked is the smallest key of the work that waits for
// admission: the head of each stage's queue and each waiting reader.
func (r *run) minWaitingLocked() (key, bool) {
	var m key
	ok := false
	try := func(k key) {
		if !ok || k.less(m) {
			m, ok = k, true
		}
	}
	for _, s := range r.stages {
		if s.queue.Len() > 0 {
			e := s.queue[0]
			try(key{e.sp.ord, s.idx, e.seq})
		}
	}
	for _, sp := range r.openSplits {
		if sp.waiting {
			try(key{sp.ord, -1, sp.readSeq})
		}
	}
	return m, ok
}

func (r *run) warnLocked(msg string) {
	r.warnings = append(r.warnings, msg)
	r.cfg.logger.Warn("scheduler: " + msg)
}

// roomAfterLocked reports whether the queue after stage i (i = -1: the
// source) has room for a batch of split sp.
func (r *run) roomAfterLocked(i int, sp *splitRun) bool {
	if i+1 < len(r.stages) {
		s := r.stages[i+1]
		return s.queue.Len()+r.pendingAt[i+1] < s.depth
	}
	return len(sp.out)+len(sp.edges[len(r.stages)].pending) < r.outDepth
}

func (r *run) newChargeLocked(rec arrow.RecordBatch) *charge {
	c := &charge{bytes: recordBytes(rec), refs: 1}
	r.live += c.bytes
	r.peakLive = max(r.peakLive, r.live)
	return c
}

// releaseLocked releases an envelope: its batch and its refs on charges.
func (r *run) releaseLocked(e *envelope) {
	if e.rec != nil {
		e.rec.Release()
		e.rec = nil
	}
	for _, c := range e.charges {
		c.refs--
		if c.refs == 0 {
			r.live -= c.bytes
		}
	}
	e.charges = nil
}

// worker runs batches of stage s until the run ends.
func (r *run) worker(s *stageRun) {
	for {
		e := r.next(s)
		if e == nil {
			return
		}
		r.process(s, e)
	}
}

// next waits for a batch of stage s that may start, and takes it.
func (r *run) next(s *stageRun) *envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if r.stop || r.finished {
			return nil
		}
		if s.queue.Len() > 0 {
			e := s.queue[0]
			if e.sp.abandoned {
				heap.Pop(&s.queue)
				s.stats.queue.Store(int64(s.queue.Len()))
				r.releaseLocked(e)
				r.cond.Broadcast()
				continue
			}
			est := s.estimate(e)
			room := r.roomAfterLocked(s.idx, e.sp)
			if r.admitLocked(key{e.sp.ord, s.idx, e.seq}, est, room) {
				heap.Pop(&s.queue)
				s.stats.queue.Store(int64(s.queue.Len()))
				e.reserve = est
				r.reserved += est
				r.active++
				s.stats.take(e.rec.NumRows())
				r.cond.Broadcast() // the queue has room
				return e
			}
			if !room {
				s.stats.setWait(waitDownstream)
			} else {
				s.stats.setWait(waitMemory)
			}
		} else {
			s.stats.setWait(waitUpstream)
		}
		r.cond.Wait()
	}
}

// process transforms e (retries, failure policy) and delivers the output to
// the next edge.
func (r *run) process(s *stageRun, e *envelope) {
	t0 := time.Now()
	pieces, err := r.transform(s, e)
	s.stats.busyFor(time.Since(t0))

	r.mu.Lock()
	defer r.mu.Unlock()
	r.active--
	r.reserved -= e.reserve
	r.cond.Broadcast()
	s.stats.done()
	var envs []*envelope
	var outBytes, outRows int64
	for _, pc := range pieces {
		ne := &envelope{rec: pc.rec, sp: e.sp}
		if pc.shared {
			for _, c := range e.charges {
				c.refs++
			}
			ne.charges = append([]*charge(nil), e.charges...)
			ne.approx = e.approx * pc.rec.NumRows() / max(e.rec.NumRows(), 1)
		} else {
			c := r.newChargeLocked(pc.rec)
			ne.charges = []*charge{c}
			ne.approx = c.bytes
		}
		outBytes += ne.approx
		outRows += pc.rec.NumRows()
		envs = append(envs, ne)
	}
	if e.approx > 0 && err == nil {
		s.ratio = 0.7*s.ratio + 0.3*float64(outBytes)/float64(e.approx)
	}
	r.releaseLocked(e)
	if err == nil && r.stop {
		err = context.Canceled
	}
	if err == nil && len(envs) > 0 {
		err = r.checkSchemaLocked(s, envs[0].rec.Schema())
		if err != nil {
			err = &StageError{Stage: s.name, Split: e.sp.sp.Index, SplitID: e.sp.sp.ID, Batch: e.seq, Row: -1, Err: err}
		}
	}
	if err != nil {
		for _, ne := range envs {
			r.releaseLocked(ne)
		}
		if !r.stop {
			r.failLocked(err)
		}
		return
	}
	s.stats.out(outRows)
	if err := r.deliverLocked(e.sp, s.idx+1, e.seq, result{pieces: envs, last: e.last}); err != nil {
		r.failLocked(&StageError{Stage: s.name, Split: e.sp.sp.Index, SplitID: e.sp.sp.ID, Batch: e.seq, Row: -1, Err: err})
	}
}

func (r *run) checkSchemaLocked(s *stageRun, got *arrow.Schema) error {
	if s.schema == nil {
		s.schema = got
		if s.idx == len(r.stages)-1 {
			r.outSchema = got
		}
		return nil
	}
	if !s.schema.Equal(got) {
		return fmt.Errorf("output schema changed: got %s, earlier batches had %s", got, s.schema)
	}
	return nil
}

// drain releases every batch still held after the goroutines ended.
func (r *run) drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.stages {
		for _, e := range s.queue {
			r.releaseLocked(e)
		}
		s.queue = nil
	}
	for _, sp := range r.splits {
		for _, ed := range sp.edges {
			for _, res := range ed.pending {
				for _, e := range res.pieces {
					r.releaseLocked(e)
				}
			}
			ed.pending = nil
			for _, e := range ed.chunk {
				r.releaseLocked(e)
			}
			ed.chunk = nil
		}
		for _, e := range sp.out {
			r.releaseLocked(e)
		}
		sp.out = nil
	}
	if r.live != 0 || r.reserved != 0 {
		r.cfg.logger.Error("scheduler: accounting mismatch after the run", "live", r.live, "reserved", r.reserved)
	}
}
