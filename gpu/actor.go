//go:build cgo

package gpu

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	ort "github.com/yalue/onnxruntime_go"
)

// actor is one session on one device, owned by one goroutine (loop) once
// the pool runs; before that, Load's goroutines create and warm it.
type actor struct {
	id      int
	pool    *Pool
	want    Device // the device assigned
	dev     Device // the device in use (the CPU after a fallback)
	sess    *ort.DynamicAdvancedSession
	runOpts *ort.RunOptions // lives until the pool closes (Close may Terminate it)
	startup ActorStartup
}

// testHookRun, when set (tests only), runs in the actor before each batch.
var testHookRun func(actor int, seq int64)

// errCanceled marks a run stopped because its context ended.
var errCanceled = errors.New("gpu: run canceled")

// start creates the session and warms it up. optimizedOut, when not empty,
// is where this session writes the optimized model.
func (a *actor) start(ctx context.Context, optimizedOut string) error {
	if a.runOpts == nil {
		ro, err := ort.NewRunOptions()
		if err != nil {
			return fmt.Errorf("creating run options: %w", err)
		}
		a.runOpts = ro
	}
	t0 := time.Now()
	sess, dev, err := a.pool.newSession(a.id, a.want, optimizedOut)
	if err != nil {
		return err
	}
	a.sess, a.dev = sess, dev
	a.startup = ActorStartup{Device: dev, Session: time.Since(t0)}
	t1 := time.Now()
	if err := a.warmup(ctx); err != nil {
		return fmt.Errorf("warm-up run on %s: %w", dev, err)
	}
	a.startup.Warmup = time.Since(t1)
	return nil
}

// destroy releases the session (not the run options: see Pool.Close).
func (a *actor) destroy() {
	if a.sess != nil {
		_ = a.sess.Destroy()
		a.sess = nil
	}
}

// newSession creates a session for the pool's model on dev.
func (p *Pool) newSession(actorID int, dev Device, optimizedOut string) (*ort.DynamicAdvancedSession, Device, error) {
	create := func(dev Device) (*ort.DynamicAdvancedSession, error) {
		so, err := ort.NewSessionOptions()
		if err != nil {
			return nil, fmt.Errorf("creating session options: %w", err)
		}
		defer func() { _ = so.Destroy() }()
		if err := p.setOptions(so, optimizedOut); err != nil {
			return nil, err
		}
		if dev.CUDA {
			if err := p.appendCUDA(so, dev.ID); err != nil {
				return nil, fmt.Errorf("%w: %s: %w; %s", ErrDevice, dev, err, cudaHint())
			}
		}
		s, err := ort.NewDynamicAdvancedSession(p.sessPath, p.inNames, p.outNames, so)
		if err != nil {
			return nil, fmt.Errorf("creating the session on %s: %w", dev, err)
		}
		return s, nil
	}
	s, err := create(dev)
	if err != nil && dev.CUDA && p.cfg.cpuFallback {
		p.cfg.logger.Warn("model stage: actor falls back to the CPU", "stage", p.cfg.name, "actor", actorID, "device", dev, "err", err)
		dev = CPU
		s, err = create(dev)
	}
	return s, dev, err
}

// appendCUDA appends the CUDA execution provider for GPU id: built into the
// library (ONNX Runtime's own CUDA builds), or else as the plugin provider
// beside it (the build scripts/fetch-cuda-ort.sh fetches).
func (p *Pool) appendCUDA(so *ort.SessionOptions, id int) error {
	builtin := func() error {
		co, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return fmt.Errorf("creating CUDA provider options: %w", err)
		}
		defer func() { _ = co.Destroy() }()
		if err := co.Update(p.cfg.cuda.providerOptions(id)); err != nil {
			return fmt.Errorf("setting CUDA provider options: %w", err)
		}
		if err := so.AppendExecutionProviderCUDA(co); err != nil {
			return fmt.Errorf("appending the CUDA execution provider: %w", err)
		}
		return nil
	}
	err := builtin()
	if err == nil {
		return nil
	}
	perr := appendCUDAPlugin(so, p.startup.Library, id, p.cfg.cuda.providerOptions(id))
	if perr == nil {
		return nil
	}
	return fmt.Errorf("%w; as a plugin provider: %w", err, perr)
}

func cudaHint() string {
	return "CUDA needs the CUDA build of ONNX Runtime (scripts/fetch-cuda-ort.sh, then WASINFER_ORT_LIB or --ort-lib naming its libonnxruntime.so) " +
		"and CUDA 13 with cuDNN 9 on the library path; or allow the CPU fallback"
}

func (p *Pool) setOptions(so *ort.SessionOptions, optimizedOut string) error {
	if err := so.SetIntraOpNumThreads(p.cfg.intraThreads()); err != nil {
		return fmt.Errorf("setting intra-op threads: %w", err)
	}
	if err := so.SetInterOpNumThreads(p.cfg.interThreads()); err != nil {
		return fmt.Errorf("setting inter-op threads: %w", err)
	}
	level := map[GraphOptimization]ort.GraphOptimizationLevel{
		OptimizeAll:      ort.GraphOptimizationLevelEnableAll,
		OptimizeDisable:  ort.GraphOptimizationLevelDisableAll,
		OptimizeBasic:    ort.GraphOptimizationLevelEnableBasic,
		OptimizeExtended: ort.GraphOptimizationLevelEnableExtended,
	}[p.sessLevel]
	spin := map[bool]string{false: "0", true: "1"}[p.cfg.spinning]
	for _, key := range []string{"session.intra_op.allow_spinning", "session.inter_op.allow_spinning"} {
		if err := so.AddSessionConfigEntry(key, spin); err != nil {
			return fmt.Errorf("setting %s: %w", key, err)
		}
	}
	if err := so.SetGraphOptimizationLevel(level); err != nil {
		return fmt.Errorf("setting the graph optimization level: %w", err)
	}
	if optimizedOut != "" {
		if err := so.SetOptimizedModelFilePath(optimizedOut); err != nil {
			return fmt.Errorf("setting the optimized model path: %w", err)
		}
	}
	return nil
}

// warmup runs the model once on zeros: batch 1 (or the model's fixed batch
// size), 1 for every other symbolic dimension, or the WithWarmupShape shapes.
func (a *actor) warmup(ctx context.Context) error {
	p := a.pool
	bound := make([]boundInput, len(p.inputs))
	syms := map[string]int64{}
	rows := int64(-1)
	for i, in := range p.inputs {
		shape, ok := p.cfg.warmShapes[in.Name]
		if !ok {
			shape = []int64{1}
			if in.Shape != nil {
				shape = make([]int64, len(in.Shape))
				for d, dim := range in.Shape {
					shape[d] = 1
					if dim.Fixed() {
						shape[d] = dim.Value
					}
				}
			}
		}
		if len(shape) == 0 || product(shape) < 1 {
			return fmt.Errorf("%w: warm-up shape %s of model input %q: want a batch dimension and sizes of at least 1", ErrOption, ints64(shape), in.Name)
		}
		if rows >= 0 && shape[0] != rows {
			return fmt.Errorf("%w: warm-up shapes give batch sizes %d and %d; give every input the same first dimension", ErrOption, rows, shape[0])
		}
		rows = shape[0]
		b := boundInput{name: in.Name, elem: in.Elem, rowShape: shape[1:], rowElems: product(shape[1:])}
		n := rows * b.rowElems
		if in.Elem == ElemString {
			b.strs = make([]string, n)
		} else {
			b.data = make([]byte, n*int64(in.Elem.Size()))
		}
		bound[i] = b
		for d, dim := range in.Shape {
			if d > 0 && d < len(shape) && !dim.Fixed() && dim.Param != "" {
				syms[dim.Param] = shape[d]
			}
		}
	}
	if rows < 0 {
		rows = 1 // a model without inputs
	}
	outs, err := a.execute(ctx, bound, rows, p.batchFix(), syms)
	if err != nil {
		return err
	}
	for _, o := range outs {
		o.Release()
	}
	return nil
}

// batchFix is the model's fixed batch size, or 0 when the batch axis is
// symbolic.
func (p *Pool) batchFix() int64 {
	pl := &plan{}
	for _, in := range p.inputs {
		pl.inputs = append(pl.inputs, inputPlan{model: in})
	}
	if pl.checkBatchAxis() != nil {
		return 0
	}
	return pl.batchFix
}

// loop serves batches until the pool closes the jobs channel.
func (a *actor) loop() {
	p := a.pool
	defer p.wg.Done()
	defer a.destroy()
	for j := range p.jobs {
		r, crashed := a.do(j)
		j.res <- r
		if !crashed {
			continue
		}
		if rerr := a.restart(); rerr != nil {
			p.cfg.logger.Error("model stage: actor could not be restarted; it is gone", "stage", p.cfg.name, "actor", a.id, "err", rerr)
			if p.live.Add(-1) == 0 {
				close(p.dead)
			}
			// Keep serving nothing: leave so that Close does not wait on us.
			return
		}
		p.cfg.logger.Warn("model stage: actor restarted", "stage", p.cfg.name, "actor", a.id, "batch", j.seq)
	}
}

// restart replaces a crashed actor's session with a new one, warmed up.
func (a *actor) restart() error {
	a.destroy()
	_ = a.runOpts.UnsetTerminate()
	return a.start(context.Background(), "")
}

// do runs one batch. A panic becomes a KindCrash error, and crashed tells
// the loop to restart the actor.
func (a *actor) do(j *job) (res result, crashed bool) {
	p := a.pool
	fail := func(kind ErrorKind, err error) result {
		return result{err: &ModelError{Stage: p.cfg.name, Batch: j.seq, Actor: a.id, Kind: kind, Err: err}}
	}
	defer func() {
		if r := recover(); r != nil {
			p.cfg.logger.Error("model stage: actor panicked", "stage", p.cfg.name, "actor", a.id, "batch", j.seq, "panic", r, "stack", string(debug.Stack()))
			res, crashed = fail(KindCrash, fmt.Errorf("panic: %v; the actor was restarted", r)), true
		}
	}()
	if err := j.ctx.Err(); err != nil {
		return fail(KindCanceled, fmt.Errorf("%w: %w", errCanceled, err)), false
	}
	syms := map[string]int64{}
	bound, err := j.plan.bindInputs(j.in, syms)
	if err != nil {
		return fail(KindBind, err), false
	}
	if testHookRun != nil {
		testHookRun(a.id, j.seq)
	}
	var outs []arrow.Array
	if j.in.NumRows() == 0 {
		outs, err = a.emptyColumns(j.ctx, bound, j.plan.batchFix, syms)
	} else {
		outs, err = a.execute(j.ctx, bound, j.in.NumRows(), j.plan.batchFix, syms)
	}
	runtime.KeepAlive(j.in)
	switch {
	case err == nil:
		return result{out: newRecord(j.plan, j.in, outs)}, false
	case errors.Is(err, errCanceled):
		return fail(KindCanceled, err), false
	case errors.Is(err, ErrBinding):
		return fail(KindBind, err), false
	}
	return fail(KindRun, err), false
}

// emptyColumns makes the output columns of an empty batch (the scheduler
// sends one at the end of a split). Their types need each output's row
// shape: when the model and the columns' types do not fix it, the model
// runs once on zeros with the columns' row shapes and the result's types are
// kept, 0 rows of them.
func (a *actor) emptyColumns(ctx context.Context, bound []boundInput, batchFix int64, syms map[string]int64) ([]arrow.Array, error) {
	known := true
	for _, o := range a.pool.outputs {
		if resolveRow(o.model, syms) == nil {
			known = false
		}
	}
	if known {
		return a.execute(ctx, bound, 0, batchFix, syms)
	}
	rows := max(batchFix, 1)
	probe := make([]boundInput, len(bound))
	for i, b := range bound {
		probe[i] = boundInput{name: b.name, elem: b.elem, rowShape: b.rowShape, rowElems: b.rowElems}
		if b.elem == ElemString {
			probe[i].strs = make([]string, rows*b.rowElems)
		} else {
			probe[i].data = make([]byte, rows*b.rowElems*int64(b.elem.Size()))
		}
	}
	full, err := a.execute(ctx, probe, rows, batchFix, syms)
	if err != nil {
		return nil, fmt.Errorf("running the model on a row of zeros to learn the output types of an empty batch: %w", err)
	}
	out := make([]arrow.Array, len(full))
	for i, c := range full {
		out[i] = array.NewSlice(c, 0, 0)
		c.Release()
	}
	return out, nil
}

// autoPart is one run's piece of an output ONNX Runtime allocated.
type autoPart struct {
	shape []int64
	data  []byte
	strs  []string
}

// execute runs the session over bound (rows rows), in pieces of batchFix
// rows when the model fixes its batch size, and returns one column per
// selected output (owned by the caller).
func (a *actor) execute(ctx context.Context, bound []boundInput, rows, batchFix int64, syms map[string]int64) (cols []arrow.Array, err error) {
	p := a.pool
	mem := p.cfg.alloc
	piece := rows
	if batchFix > 0 {
		if rows%batchFix != 0 {
			return nil, fmt.Errorf("%w: the model fixes its batch dimension to %d, and a batch of %d rows is not a multiple of it: use a batch size that is", ErrBinding, batchFix, rows)
		}
		piece = batchFix
	}
	nOut := len(p.outputs)
	pre := make([]*memory.Buffer, nOut)
	preRow := make([][]int64, nOut)
	defer func() {
		for _, b := range pre {
			if b != nil {
				b.Release()
			}
		}
	}()
	for i, o := range p.outputs {
		row := resolveRow(o.model, syms)
		if row == nil || !canPreallocate(o.model.Elem) {
			continue
		}
		buf := memory.NewResizableBuffer(mem)
		buf.Resize(int(rows * product(row) * int64(o.model.Elem.Size())))
		pre[i], preRow[i] = buf, row
	}
	parts := make([][]autoPart, nOut)
	for start := int64(0); start < rows; start += piece {
		n := min(piece, rows-start)
		if err := a.runPiece(ctx, bound, start, n, pre, preRow, parts); err != nil {
			return nil, err
		}
	}
	runtime.KeepAlive(bound)

	cols = make([]arrow.Array, 0, nOut)
	defer func() {
		if err != nil {
			for _, c := range cols {
				c.Release()
			}
			cols = nil
		}
	}()
	for i, o := range p.outputs {
		var col arrow.Array
		var err error
		switch {
		case pre[i] != nil:
			buf := pre[i]
			pre[i] = nil
			col, err = buildColumn(mem, o.model.Name, o.model.Elem, preRow[i], rows, buf, nil)
		case rows == 0:
			return nil, fmt.Errorf("%w: model output %q: internal error: an empty batch whose output shape %s is not known", ErrBinding, o.model.Name, o.model.Type())
		default:
			col, err = joinParts(mem, o, parts[i], rows)
		}
		if err != nil {
			return nil, err
		}
		cols = append(cols, col)
	}
	return cols, nil
}

// runPiece runs rows [start, start+n) of bound.
func (a *actor) runPiece(ctx context.Context, bound []boundInput, start, n int64, pre []*memory.Buffer, preRow [][]int64, parts [][]autoPart) error {
	p := a.pool
	var values []ort.Value
	defer func() {
		for _, v := range values {
			if v != nil {
				_ = v.Destroy()
			}
		}
	}()
	ins := make([]ort.Value, len(bound))
	for i, b := range bound {
		shape := append(ort.Shape{n}, b.rowShape...)
		var v ort.Value
		var err error
		if b.elem == ElemString {
			var st *ort.StringTensor
			if st, err = ort.NewStringTensor(shape); err == nil {
				v = st
				err = st.SetContents(b.strs[start*b.rowElems : (start+n)*b.rowElems])
			}
		} else {
			es := b.rowElems * int64(b.elem.Size())
			var t *ort.CustomDataTensor
			if t, err = ort.NewCustomDataTensor(shape, b.data[start*es:(start+n)*es], ort.TensorElementDataType(b.elem)); err == nil {
				v = t
			}
		}
		if v != nil {
			values = append(values, v)
		}
		if err != nil {
			return fmt.Errorf("%w: model input %q: making a %s tensor of shape %s: %w", ErrBinding, b.name, b.elem, ints64(shape), err)
		}
		ins[i] = v
	}
	outs := make([]ort.Value, len(p.outputs))
	for i, o := range p.outputs {
		if pre[i] == nil {
			continue
		}
		es := product(preRow[i]) * int64(o.model.Elem.Size())
		shape := append(ort.Shape{n}, preRow[i]...)
		v, err := ort.NewCustomDataTensor(shape, pre[i].Bytes()[start*es:(start+n)*es], ort.TensorElementDataType(o.model.Elem))
		if err != nil {
			return fmt.Errorf("model output %q: making a %s tensor of shape %s: %w", o.model.Name, o.model.Elem, ints64(shape), err)
		}
		values = append(values, v)
		outs[i] = v
	}
	if err := a.run(ctx, ins, outs); err != nil {
		return err
	}
	for i, o := range p.outputs {
		if pre[i] != nil {
			continue
		}
		v := outs[i]
		values = append(values, v)
		part, err := valuePart(v, o.model)
		if err != nil {
			return err
		}
		if len(part.shape) == 0 || part.shape[0] != n {
			return fmt.Errorf("%w: model output %q has shape %s for a run of %d rows; a model stage needs outputs whose first dimension is the batch",
				ErrBinding, o.model.Name, ints64(part.shape), n)
		}
		parts[i] = append(parts[i], part)
	}
	return nil
}

// run runs the session once; when ctx ends during the run, the run is
// stopped through the run options' terminate flag.
func (a *actor) run(ctx context.Context, ins, outs []ort.Value) error {
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = a.runOpts.Terminate()
		close(fired)
	})
	if ctx.Err() != nil {
		<-fired // ended already: the run must see the flag
	}
	err := a.sess.RunWithOptions(ins, outs, a.runOpts)
	if !stop() {
		<-fired
		_ = a.runOpts.UnsetTerminate()
		if err != nil {
			return fmt.Errorf("%w: %w (%w)", errCanceled, context.Cause(ctx), err)
		}
	}
	if err != nil {
		a.pool.mu.Lock()
		closing := a.pool.closed
		a.pool.mu.Unlock()
		if closing {
			return fmt.Errorf("%w: the stage was closed: %w", errCanceled, err)
		}
		return fmt.Errorf("running the model: %w", err)
	}
	return nil
}

// valuePart takes the data out of an output ONNX Runtime allocated.
// onnxruntime_go has already copied it into Go memory; the part aliases that.
func valuePart(v ort.Value, o ValueInfo) (autoPart, error) {
	part := autoPart{shape: v.GetShape()}
	switch t := v.(type) {
	case *ort.StringTensor:
		s, err := t.GetContents()
		if err != nil {
			return part, fmt.Errorf("model output %q: reading strings: %w", o.Name, err)
		}
		part.strs = s
		return part, nil
	case *ort.Tensor[float32]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[float64]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[int8]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[int16]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[int32]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[int64]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[uint8]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[uint16]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[uint32]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[uint64]:
		part.data = sliceBytes(t.GetData())
	case *ort.Tensor[bool]:
		part.data = sliceBytes(t.GetData())
	default:
		return part, fmt.Errorf("model output %q: ONNX Runtime returned a %T, which a model stage cannot read", o.Name, v)
	}
	if e := ElementType(v.DataType()); e != o.Elem {
		return part, fmt.Errorf("model output %q: ONNX Runtime returned %s elements, the model declares %s", o.Name, e, o.Elem)
	}
	return part, nil
}

func sliceBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(z)))
}

// joinParts makes the column of an output from its pieces: the one piece's
// Go memory as is, or the pieces copied into one buffer.
func joinParts(mem memory.Allocator, o outputPlan, parts []autoPart, rows int64) (arrow.Array, error) {
	row := parts[0].shape[1:]
	for k, pt := range parts[1:] {
		if !equalInts(pt.shape[1:], row) {
			return nil, fmt.Errorf("%w: model output %q has rows of shape %s in run 0 and %s in run %d of one batch", ErrBinding, o.model.Name, ints64(row), ints64(pt.shape[1:]), k+1)
		}
	}
	if o.model.Elem == ElemString {
		var strs []string
		for _, pt := range parts {
			strs = append(strs, pt.strs...)
		}
		return buildColumn(mem, o.model.Name, o.model.Elem, row, rows, nil, strs)
	}
	var buf *memory.Buffer
	if len(parts) == 1 {
		buf = memory.NewBufferBytes(parts[0].data)
	} else {
		size := 0
		for _, pt := range parts {
			size += len(pt.data)
		}
		buf = memory.NewResizableBuffer(mem)
		buf.Resize(size)
		off := 0
		for _, pt := range parts {
			off += copy(buf.Bytes()[off:], pt.data)
		}
	}
	return buildColumn(mem, o.model.Name, o.model.Elem, row, rows, buf, nil)
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
