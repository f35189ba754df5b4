//go:build cgo

package gpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Pool is a model stage: N actors, each a goroutine that owns one ONNX
// Runtime session on its device, fed batches through a channel. It
// implements scheduler.Stage and scheduler.Concurrent.
//
// Transform may be called from many goroutines at once; each call waits for
// a free actor (honouring its context) and holds it for one batch. The pool
// owns its actors and their sessions; Close stops them after the calls in
// flight finish.
type Pool struct {
	cfg       config
	info      *ModelInfo
	sessPath  string            // the file sessions load: the model, or its optimized cache
	sessLevel GraphOptimization // the level sessions are created with
	inNames   []string
	inputs    []ValueInfo  // the model's inputs, all fed, in model order
	outputs   []outputPlan // the selected outputs and their columns
	outNames  []string
	actors    []*actor
	startup   Startup

	jobs chan *job     // unbuffered: a send is taken by a free actor
	dead chan struct{} // closed when no actor is left
	live atomic.Int32
	wg   sync.WaitGroup // the actor goroutines

	mu     sync.Mutex
	closed bool
	calls  sync.WaitGroup   // Transform calls in flight
	plans  map[string]*plan // by schema fingerprint
	// lastSchema and lastPlan skip the fingerprint when batches share one
	// schema value, as a stream's do.
	lastSchema *arrow.Schema
	lastPlan   *plan
}

// Startup reports how long Load took to make the stage ready.
type Startup struct {
	Total   time.Duration // all of Load
	Library string        // the ONNX Runtime library loaded
	Version string        // its version
	Cached  bool          // sessions loaded the optimized-model cache
	Actors  []ActorStartup
}

// ActorStartup is one actor's start-up: session creation and the warm-up
// run, on its device.
type ActorStartup struct {
	Device  Device
	Session time.Duration
	Warmup  time.Duration
}

// String summarizes the report on one line.
func (s Startup) String() string {
	var slowest time.Duration
	for _, a := range s.Actors {
		slowest = max(slowest, a.Session+a.Warmup)
	}
	return fmt.Sprintf("%d actors ready in %v (slowest actor %v; ONNX Runtime %s)", len(s.Actors), s.Total.Round(time.Millisecond), slowest.Round(time.Millisecond), s.Version)
}

// Load checks the model (admission), loads ONNX Runtime if the process has
// not yet, and starts the pool: every actor's session is created and warmed
// up with one run on zeros before Load returns, so the first batch meets no
// cold actor. Devices are assigned (and a request for more GPUs than exist
// refused) before any session is created.
//
// The stage must be closed with Close.
//
// # Errors
//
// A *ModelError of KindLoad wrapping [ErrOption], [ErrDevice], [ErrModel],
// [ErrExternalData], [ErrLibrary] or ONNX Runtime's own error.
func Load(ctx context.Context, path string, opts ...Option) (*Pool, error) {
	began := time.Now()
	cfg := defaults(path)
	for _, o := range opts {
		o(&cfg)
	}
	refuse := func(actor int, err error) (*Pool, error) {
		return nil, &ModelError{Stage: cfg.name, Batch: -1, Actor: actor, Kind: KindLoad, Err: err}
	}
	if err := cfg.check(); err != nil {
		return refuse(-1, err)
	}
	spec, err := parseDevice(cfg.device)
	if err != nil {
		return refuse(-1, err)
	}
	gpus := 0
	if spec.cuda {
		gpus = cfg.gpuCount()
	}
	devices, err := assignDevices(spec, cfg.actors, cfg.gpusPer, gpus, cfg.cpuFallback)
	if err != nil {
		return refuse(-1, err)
	}
	info, err := Inspect(path)
	if err != nil {
		return refuse(-1, err)
	}
	p := &Pool{cfg: cfg, info: info, sessPath: path, sessLevel: cfg.optLevel, plans: map[string]*plan{}}
	if err := p.selectIO(); err != nil {
		return refuse(-1, err)
	}
	lib, err := FindLibrary(cfg.library)
	if err != nil {
		return refuse(-1, err)
	}
	version, err := initEnv(lib)
	if err != nil {
		return refuse(-1, err)
	}
	p.startup = Startup{Library: lib, Version: version, Actors: make([]ActorStartup, cfg.actors)}
	writeCache, cacheKey, err := p.useCache(devices)
	if err != nil {
		return refuse(-1, err)
	}
	p.jobs = make(chan *job)
	p.dead = make(chan struct{})
	p.actors = make([]*actor, cfg.actors)
	for i := range p.actors {
		p.actors[i] = &actor{id: i, pool: p, dev: devices[i], want: devices[i]}
	}
	// Create the sessions: in parallel, except that the first writes the
	// optimized-model cache alone when one is to be written.
	errs := make([]error, cfg.actors)
	first := 0
	if writeCache != "" {
		errs[0] = p.actors[0].start(ctx, writeCache)
		first = 1
	}
	if first == 0 || errs[0] == nil {
		var wg sync.WaitGroup
		for i := first; i < cfg.actors; i++ {
			wg.Go(func() { errs[i] = p.actors[i].start(ctx, "") })
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		if writeCache != "" {
			_ = os.Remove(writeCache)
		}
		for _, a := range p.actors {
			a.destroy()
			if a.runOpts != nil {
				_ = a.runOpts.Destroy()
			}
		}
		for i, e := range errs {
			if e != nil {
				return refuse(i, e)
			}
		}
	}
	if writeCache != "" {
		if err := commitCache(cfg.optCache, cacheKey); err != nil {
			cfg.logger.Warn("model stage: optimized-model cache not written", "stage", cfg.name, "cache", cfg.optCache, "err", err)
		}
	}
	for i, a := range p.actors {
		p.startup.Actors[i] = a.startup
	}
	p.live.Store(int32(cfg.actors))
	for _, a := range p.actors {
		p.wg.Add(1)
		go a.loop()
	}
	p.startup.Total = time.Since(began)
	cfg.logger.Info("model stage ready", "stage", cfg.name, "model", path, "actors", cfg.actors,
		"devices", p.Devices(), "intra_op_threads", cfg.intraThreads(), "startup", p.startup.Total, "ort", version)
	return p, nil
}

// useCache decides how sessions use the optimized-model cache: load it
// (a key match), or have the first session write it (the returned path, to
// be committed with the returned key), or neither.
func (p *Pool) useCache(devices []Device) (write, key string, err error) {
	path := p.cfg.optCache
	if path == "" {
		return "", "", nil
	}
	if len(p.info.ExternalData) > 0 {
		p.cfg.logger.Warn("model stage: a model with external data is not cached", "stage", p.cfg.name, "model", p.info.Path)
		return "", "", nil
	}
	key, err = cacheKey(p.info.Path, p.startup.Version, p.cfg.optLevel, devices)
	if err != nil {
		return "", "", err
	}
	if cacheHit(path, key) {
		p.sessPath, p.sessLevel, p.startup.Cached = path, OptimizeDisable, true
		return "", "", nil
	}
	return cacheTemp(path), key, nil
}

// selectIO picks the model inputs to feed and the outputs to compute, and
// checks the mapping options against the model.
func (p *Pool) selectIO() error {
	m := p.info
	for name := range p.cfg.inputs {
		if _, ok := m.Input(name); !ok {
			return fmt.Errorf("%w: %s: inputs maps %q, which is not an input of the model (inputs: %s)", ErrModel, m.Path, name, valueNames(m.Inputs))
		}
	}
	for name := range p.cfg.warmShapes {
		if _, ok := m.Input(name); !ok {
			return fmt.Errorf("%w: %s: warm-up shape for %q, which is not an input of the model (inputs: %s)", ErrModel, m.Path, name, valueNames(m.Inputs))
		}
	}
	for _, in := range m.Inputs {
		if in.Kind != KindTensor {
			return fmt.Errorf("%w: %s: model input %q is a %s; a model stage feeds tensors only", ErrModel, m.Path, in.Name, in.Kind)
		}
		if !supportedElem(in.Elem) {
			return fmt.Errorf("%w: %s: model input %q has element type %s, which a model stage cannot feed", ErrModel, m.Path, in.Name, in.Elem)
		}
		if in.Shape != nil && len(in.Shape) == 0 {
			return fmt.Errorf("%w: %s: model input %q is a scalar (rank 0); a model stage feeds inputs whose first dimension is the batch", ErrModel, m.Path, in.Name)
		}
		p.inputs = append(p.inputs, in)
		p.inNames = append(p.inNames, in.Name)
	}
	if len(p.inputs) == 0 {
		return fmt.Errorf("%w: %s: the model has no inputs to feed (every graph input has an initializer); a model stage maps batches to inputs", ErrModel, m.Path)
	}
	selected := m.Outputs
	if p.cfg.outputs != nil {
		selected = nil
		for _, o := range m.Outputs {
			if _, ok := p.cfg.outputs[o.Name]; ok {
				selected = append(selected, o)
			}
		}
		for name := range p.cfg.outputs {
			if _, ok := m.Output(name); !ok {
				return fmt.Errorf("%w: %s: outputs maps %q, which is not an output of the model (outputs: %s)", ErrModel, m.Path, name, valueNames(m.Outputs))
			}
		}
		if len(selected) == 0 {
			return fmt.Errorf("%w: %s: outputs selects no output", ErrModel, m.Path)
		}
	}
	for _, o := range selected {
		if o.Kind != KindTensor {
			return fmt.Errorf("%w: %s: model output %q is a %s; a model stage makes tensor columns only: select the others with WithOutputs / outputs",
				ErrModel, m.Path, o.Name, o.Kind)
		}
		if !supportedElem(o.Elem) {
			return fmt.Errorf("%w: %s: model output %q has element type %s, which a model stage cannot make into a column", ErrModel, m.Path, o.Name, o.Elem)
		}
		if o.Shape != nil && len(o.Shape) == 0 {
			return fmt.Errorf("%w: %s: model output %q is a scalar (rank 0); a model stage needs outputs whose first dimension is the batch", ErrModel, m.Path, o.Name)
		}
		if (o.Elem == ElemFloat16 || o.Elem == ElemBFloat16) && resolveRow(o, p.inputSymbols()) == nil {
			// onnxruntime_go v1.27 copies outputs it allocates itself of these
			// types with one byte per element; ours must be preallocated.
			return fmt.Errorf("%w: %s: model output %q is %s with a shape the inputs do not fix (%s); a model stage supports 16-bit float outputs whose dimensions are numbers or named like an input's",
				ErrModel, m.Path, o.Name, o.Elem, o.Type())
		}
		col := o.Name
		if c := p.cfg.outputs[o.Name]; c != "" {
			col = c
		}
		p.outputs = append(p.outputs, outputPlan{model: o, colName: col})
		p.outNames = append(p.outNames, o.Name)
	}
	return nil
}

// inputSymbols maps every symbolic dimension name of the inputs to -1: a
// placeholder that says "fixed once the batch is known".
func (p *Pool) inputSymbols() map[string]int64 {
	syms := map[string]int64{}
	for _, in := range p.inputs {
		for i, d := range in.Shape {
			if i > 0 && !d.Fixed() && d.Param != "" {
				syms[d.Param] = -1
			}
		}
	}
	return syms
}

func valueNames(vs []ValueInfo) string {
	if len(vs) == 0 {
		return "none"
	}
	s := ""
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q %s", v.Name, v.Type())
	}
	return s
}

// Name returns the stage's name (WithName).
func (p *Pool) Name() string { return p.cfg.name }

// Concurrency returns the number of actors: the scheduler runs at most this
// many Transform calls at once.
func (p *Pool) Concurrency() int { return len(p.actors) }

// Startup returns the start-up report.
func (p *Pool) Startup() Startup { return p.startup }

// Model returns what admission read from the model file.
func (p *Pool) Model() *ModelInfo { return p.info }

// Devices returns each actor's device, after any CPU fallback.
func (p *Pool) Devices() []Device {
	out := make([]Device, len(p.actors))
	for i, a := range p.actors {
		out[i] = a.dev
	}
	return out
}

// IntraOpThreads returns the intra-op thread count of each session.
func (p *Pool) IntraOpThreads() int { return p.cfg.intraThreads() }

// Check binds an input schema to the model without running anything: every
// model input finds its column with a fitting element type and shape, the
// kept columns exist, and no output column collides with a kept one. The
// scheduler calls it before the run starts.
func (p *Pool) Check(schema *arrow.Schema) error {
	if _, err := p.planFor(schema); err != nil {
		return &ModelError{Stage: p.cfg.name, Batch: -1, Actor: -1, Kind: KindBind, Err: err}
	}
	return nil
}

func (p *Pool) planFor(schema *arrow.Schema) (*plan, error) {
	p.mu.Lock()
	if schema == p.lastSchema {
		pl := p.lastPlan
		p.mu.Unlock()
		return pl, nil
	}
	p.mu.Unlock()
	key := schema.Fingerprint() // outside the lock: it builds a string
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl, ok := p.plans[key]; ok {
		p.lastSchema, p.lastPlan = schema, pl
		return pl, nil
	}
	pl, err := makePlan(schema, p.inputs, p.outputs, p.cfg.inputs, p.cfg.keep, p.cfg.keepSet)
	if err != nil {
		return nil, err
	}
	if len(p.plans) > 64 { // schemas do not change in a run; bound the map anyway
		clear(p.plans)
	}
	p.plans[key] = pl
	p.lastSchema, p.lastPlan = schema, pl
	return pl, nil
}

// job is one batch on its way through an actor.
type job struct {
	ctx  context.Context
	seq  int64
	in   arrow.RecordBatch
	plan *plan
	res  chan result // buffered, one result
}

type result struct {
	out arrow.RecordBatch
	err error
}

// Transform runs the model on one batch: model inputs are read from their
// columns (the batch dimension is the row count), outputs become columns
// after the kept input columns. in is neither retained nor released beyond
// the call; the returned batch belongs to the caller, who must Release it.
//
// Cost: fixed-width tensor columns without nulls reach ONNX Runtime without
// a copy (bool and bfloat16 inputs are converted, a copy); outputs whose
// shape the inputs fix are written by ONNX Runtime straight into the output
// column's buffer, others are copied once.
//
// # Errors
//
// A *ModelError naming the stage, the batch and the actor: KindBind for a
// batch that does not fit the model (the model input, the column, the
// expected and the actual), KindRun for a failed run, KindCrash (Transient)
// when the actor crashed and was restarted, KindCanceled when ctx ended;
// [ErrClosed] after Close.
func (p *Pool) Transform(ctx context.Context, seq int64, in arrow.RecordBatch) (arrow.RecordBatch, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	p.calls.Add(1)
	p.mu.Unlock()
	defer p.calls.Done()

	fail := func(kind ErrorKind, err error) (arrow.RecordBatch, error) {
		return nil, &ModelError{Stage: p.cfg.name, Batch: seq, Actor: -1, Kind: kind, Err: err}
	}
	pl, err := p.planFor(in.Schema())
	if err != nil {
		return fail(KindBind, err)
	}
	j := &job{ctx: ctx, seq: seq, in: in, plan: pl, res: make(chan result, 1)}
	select {
	case p.jobs <- j:
	case <-ctx.Done():
		return fail(KindCanceled, ctx.Err())
	case <-p.dead:
		return fail(KindLoad, errors.New("no actor is left: every actor crashed and could not be restarted (see the earlier errors)"))
	}
	r := <-j.res // the actor always answers; ctx ends a run through RunOptions
	return r.out, r.err
}

// Close stops the actors after the calls in flight finish and destroys
// their sessions. If ctx ends first, the runs in flight are stopped
// (their calls fail with KindCanceled) and Close still waits for the actors
// to exit. Close is idempotent; the process-wide ONNX Runtime environment
// stays loaded.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()

	drained := make(chan struct{})
	go func() { p.calls.Wait(); close(drained) }()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = ctx.Err()
		for _, a := range p.actors {
			_ = a.runOpts.Terminate()
		}
		<-drained
	}
	close(p.jobs)
	p.wg.Wait()
	for _, a := range p.actors {
		if a.runOpts != nil {
			_ = a.runOpts.Destroy()
			a.runOpts = nil
		}
	}
	if err != nil {
		return fmt.Errorf("closing model stage %q: %w", p.cfg.name, err)
	}
	return nil
}

// newRecord assembles an output batch; it takes over outs.
func newRecord(pl *plan, in arrow.RecordBatch, outs []arrow.Array) arrow.RecordBatch {
	types := make([]arrow.DataType, len(outs))
	for i, o := range outs {
		types[i] = o.DataType()
	}
	cols := make([]arrow.Array, 0, len(pl.keep)+len(outs))
	for _, k := range pl.keep {
		cols = append(cols, in.Column(k))
	}
	cols = append(cols, outs...)
	rec := array.NewRecordBatch(pl.outputSchema(types), cols, in.NumRows())
	for _, o := range outs {
		o.Release()
	}
	return rec
}

// Resources returns what one actor occupies, for the scheduler
// (scheduler.Resources): its intra-op threads as CPUs, and 1 GPU for an
// actor with a GPU of its own (0 for actors that share one, WithGPUsPerActor
// below 1: the pool itself checked those against the machine).
func (p *Pool) Resources() (cpus float64, gpus int) {
	cpus = float64(p.cfg.intraThreads())
	for _, d := range p.Devices() {
		if d.CUDA && p.cfg.gpusPer >= 1 {
			return cpus, 1
		}
	}
	return cpus, 0
}

// intraThreads is the intra-op thread count of each session.
func (c *config) intraThreads() int {
	if c.intraOp > 0 {
		return c.intraOp
	}
	return max(1, c.cpus/c.actors)
}

func (c *config) interThreads() int {
	if c.interOp > 0 {
		return c.interOp
	}
	return 1
}
