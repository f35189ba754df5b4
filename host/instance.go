package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasinfer/wasinfer/abi"
)

// instance is one sandboxed instantiation of a UDF. It is used by one
// goroutine at a time: the pool hands it out and takes it back.
type instance struct {
	u         *UDF
	mod       api.Module
	mem       api.Memory
	alloc     api.Function
	free      api.Function
	transform api.Function
	release   api.Function
	lastError api.Function
	watch     *watchdog          // sets the deadline guard's flag (guard.go); nil under the interpreter
	cancel    context.CancelFunc // ends the deadline under the interpreter
	cause     func() error       // under the interpreter: why the operation's context is done, nil while it is not
	stopped   error              // under the interpreter: what cause said when end ran first
	reader    outputReader       // reused by every batch
	stack     [4]uint64
	arena     uint32 // the input block (spec §5.1), reused across calls
	arenaSize uint32
	stdout    *lineWriter
	stderr    *lineWriter
	linear    *linearMemory // the guest's memory (linearmem.go); nil when it is a Go slice
	broken    bool          // closed or must not be reused
}

// newInstance instantiates the module, runs _initialize and wasinfer_init.
// The instance it returns is not held (linearmem.go).
func (u *UDF) newInstance(ctx context.Context) (*instance, error) {
	inst := &instance{
		u:      u,
		stdout: &lineWriter{log: u.cfg.logger, udf: u.cfg.name, stream: "stdout"},
		stderr: &lineWriter{log: u.cfg.logger, udf: u.cfg.name, stream: "stderr"},
	}
	defer inst.unhold() // its memory is born held
	// Start functions run below as ordinary calls, under the deadline.
	mc := wazero.NewModuleConfig().WithName("").WithStdout(inst.stdout).WithStderr(inst.stderr).WithStartFunctions()
	mc = u.cfg.grant(mc) // WithClock, WithEnv, WithReadOnlyDir; none by default
	ictx, cancel := context.WithTimeout(ctx, u.cfg.timeout)
	defer cancel()
	instErr := func(err error) error {
		kind, msg := u.classify(err, nil)
		if kind == KindTrap {
			kind = KindInit
		}
		return &UDFError{UDF: u.cfg.name, Batch: -1, Kind: kind, Message: msg, Err: fmt.Errorf("instantiating: %w", err)}
	}
	mod, err := u.rt.InstantiateModule(inst.memoryContext(ictx), u.compiled, mc)
	if err != nil {
		if inst.linear != nil {
			inst.linear.Free() // wazero allocated it and failed after: nothing else frees it
		}
		if ictx.Err() != nil {
			err = &interruptError{cause: context.Cause(ictx), trap: err}
		}
		return nil, instErr(err)
	}
	inst.mod = mod
	starts := []string{abi.ExportInitialize}
	if u.guarded {
		flag, err := bindInterrupt(mod)
		if err != nil {
			inst.close(ctx)
			return nil, instErr(err)
		}
		inst.watch = newWatchdog(flag)
		starts = []string{startExport, abi.ExportInitialize}
	}
	cctx := inst.begin(ictx)
	defer func() { _ = inst.end() }()
	for _, name := range starts {
		if f := mod.ExportedFunction(name); f != nil {
			_, err := inst.call1(cctx, f)
			inst.stdout.endCall()
			inst.stderr.endCall()
			if err != nil {
				err = inst.callError(err)
				inst.close(ctx)
				return nil, instErr(fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	inst.mem = mod.Memory()
	inst.alloc = mod.ExportedFunction(abi.ExportAlloc)
	inst.free = mod.ExportedFunction(abi.ExportFree)
	inst.transform = mod.ExportedFunction(abi.ExportTransform)
	inst.release = mod.ExportedFunction(abi.ExportRelease)
	inst.lastError = mod.ExportedFunction(abi.ExportLastError)
	if init := mod.ExportedFunction(abi.ExportInit); init != nil {
		if err := inst.init(cctx, init); err != nil {
			inst.close(ctx)
			return nil, err
		}
	}
	if cause := inst.end(); cause != nil {
		// The deadline passed, or ctx ended, just as initialisation did.
		inst.close(ctx)
		return nil, instErr(&interruptError{cause: cause, trap: errors.New("stopped at the end of initialisation")})
	}
	return inst, nil
}

func (inst *instance) init(ctx context.Context, init api.Function) error {
	u := inst.u
	fail := func(kind ErrorKind, status abi.Status, msg string, err error) error {
		return &UDFError{UDF: u.cfg.name, Batch: -1, Kind: kind, Status: status, Message: msg, Err: err}
	}
	var ptr, n uint32
	if cfg := u.cfg.udfConfig; len(cfg) > 0 {
		p, err := inst.call1(ctx, inst.alloc, uint64(len(cfg)), 1)
		if err == nil && p == 0 {
			err = errOutOfMemory
		}
		if err != nil {
			return fail(KindInit, 0, "", fmt.Errorf("allocating %d bytes of config: %w", len(cfg), err))
		}
		ptr, n = uint32(p), uint32(len(cfg))
		inst.mem.Write(ptr, cfg)
	}
	st, err := inst.call1(ctx, init, uint64(ptr), uint64(n))
	inst.stdout.endCall()
	inst.stderr.endCall()
	if err != nil {
		err = inst.callError(err)
		kind, msg := u.classify(err, inst)
		if kind == KindTrap {
			kind = KindInit
		}
		return fail(kind, 0, msg, err)
	}
	if ptr != 0 {
		if _, err := inst.call1(ctx, inst.free, uint64(ptr), uint64(n), 1); err != nil {
			return fail(KindInit, 0, "", fmt.Errorf("freeing config: %w", err))
		}
	}
	if status := abi.Status(int32(st)); status != abi.StatusOK {
		msg, err := inst.message(ctx)
		if err != nil {
			kind, what := u.classify(err, inst)
			if kind == KindTrap {
				kind = KindInit
			}
			return fail(kind, 0, what, fmt.Errorf("in wasinfer_last_error (after status %s): %w", status, err))
		}
		return fail(KindInit, status, msg, nil)
	}
	return nil
}

// begin starts the deadline of one host operation on the instance (a
// batch, an initialisation): every guest call until end shares it. It
// returns the context to call the guest with. Under the guard it arms the
// watchdog (no allocation unless ctx can be canceled); under the
// interpreter it derives a context with the deadline, which wazero watches
// (WithCloseOnContextDone).
func (inst *instance) begin(ctx context.Context) context.Context {
	if inst.watch != nil {
		inst.watch.arm(ctx, inst.u.cfg.timeout)
		return ctx
	}
	cctx, cancel := context.WithTimeout(ctx, inst.u.cfg.timeout)
	inst.cancel, inst.stopped = cancel, nil
	inst.cause = func() error {
		if cctx.Err() == nil {
			return nil
		}
		return context.Cause(cctx)
	}
	return cctx
}

// end ends the operation begin started; it may be called more than once
// and returns the same each time: why the host stopped the guest (the
// deadline passed or the caller's context ended during the operation), nil
// if it did not. An instance the host stopped is broken: the guard's flag
// stays set; under the interpreter wazero may have closed the module.
//
// Under the interpreter, end reads the cause before it cancels the
// operation's context: from then on that context is done whatever happened,
// so nothing may judge a failure by it (classify does not).
func (inst *instance) end() error {
	if inst.watch == nil {
		if inst.cancel != nil {
			inst.stopped = inst.cause()
			inst.cancel()
			inst.cancel, inst.cause = nil, nil
		}
		if inst.stopped != nil {
			inst.broken = true
		}
		return inst.stopped
	}
	cause := inst.watch.disarm()
	if cause != nil {
		inst.broken = true
	}
	return cause
}

// callError ends the operation after a failed guest call and returns err,
// as an *interruptError when it was the host that stopped the guest.
func (inst *instance) callError(err error) error {
	if cause := inst.end(); cause != nil {
		return &interruptError{cause: cause, trap: err}
	}
	return err
}

// call1 calls f with args and returns its first result (0 if none). It
// must run between begin and end.
func (inst *instance) call1(ctx context.Context, f api.Function, args ...uint64) (uint64, error) {
	copy(inst.stack[:], args)
	if err := f.CallWithStack(ctx, inst.stack[:]); err != nil {
		inst.broken = true
		return 0, err
	}
	return inst.stack[0], nil
}

// message fetches the guest's last error message (spec §8), at most 64 KiB.
// It must run between begin and end. When the call of wasinfer_last_error
// itself fails (a trap, the deadline, proc_exit), err is that call's error,
// as callError returns it, for the caller to classify like the failure of
// any other call: the instance is broken then. A message outside memory is
// not an error: the message says so.
func (inst *instance) message(ctx context.Context) (msg string, err error) {
	v, err := inst.call1(ctx, inst.lastError)
	if err != nil {
		return "", inst.callError(err)
	}
	ptr, n := abi.UnpackPtrLen(v)
	if n == 0 {
		return "", nil
	}
	cut := ""
	if n > abi.MaxErrorMessage {
		n, cut = abi.MaxErrorMessage, " …(message cut at 64 KiB)"
	}
	b, ok := inst.mem.Read(ptr, n)
	if !ok {
		return fmt.Sprintf("(no message: wasinfer_last_error returned [%#x, +%d) outside memory)", ptr, n), nil
	}
	return string(b) + cut, nil
}

// classify maps a failed call to an error kind and a short message. A call
// the host stopped is known by its error alone: wazero's exit code (the
// interpreter's WithCloseOnContextDone) or an *interruptError (callError,
// from end), never by a context, which end cancels.
func (u *UDF) classify(err error, inst *instance) (ErrorKind, string) {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return KindTimeout, fmt.Sprintf("stopped after the %s deadline", u.cfg.timeout)
		case sys.ExitCodeContextCanceled:
			return KindCanceled, "call canceled"
		}
		return KindExit, fmt.Sprintf("guest called proc_exit(%d)", exit.ExitCode())
	}
	var stop *interruptError
	if errors.As(err, &stop) {
		if errors.Is(stop.cause, context.DeadlineExceeded) {
			return KindTimeout, fmt.Sprintf("stopped after the %s deadline", u.cfg.timeout)
		}
		return KindCanceled, "call canceled"
	}
	if inst != nil && inst.atMemoryLimit() {
		return KindMemory, fmt.Sprintf("trapped with memory at its limit of %d bytes", u.limitBytes())
	}
	return KindTrap, ""
}

func (inst *instance) atMemoryLimit() bool {
	return int64(inst.mem.Size())+abi.PageSize > inst.u.limitBytes()
}

// ensureArena makes the input block at least size bytes.
func (inst *instance) ensureArena(ctx context.Context, size int) error {
	if uint32(size) <= inst.arenaSize && inst.arena != 0 {
		return nil
	}
	if inst.arena != 0 {
		if _, err := inst.call1(ctx, inst.free, uint64(inst.arena), uint64(inst.arenaSize), abi.InputBufferAlign); err != nil {
			return err
		}
		inst.arena, inst.arenaSize = 0, 0
	}
	grow := max(size, int(inst.arenaSize)+int(inst.arenaSize)/4, 4096)
	grow = (grow + abi.InputBufferAlign - 1) &^ (abi.InputBufferAlign - 1)
	p, err := inst.call1(ctx, inst.alloc, uint64(grow), abi.InputBufferAlign)
	if err != nil {
		return err
	}
	if p == 0 {
		return errOutOfMemory
	}
	inst.arena, inst.arenaSize = uint32(p), uint32(grow)
	return nil
}

var errOutOfMemory = errors.New("wasinfer_alloc returned 0 (out of memory)")

// run sends one batch through the instance. Errors are *UDFError.
func (inst *instance) run(ctx context.Context, seq int64, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	u := inst.u
	fail := func(kind ErrorKind, status abi.Status, msg string, err error) (arrow.RecordBatch, error) {
		if kind != KindGuest && kind != KindBadInput {
			inst.broken = true
		}
		return nil, &UDFError{UDF: u.cfg.name, Batch: seq, Kind: kind, Status: status, Message: msg, Err: err}
	}
	defer inst.stdout.endCall()
	defer inst.stderr.endCall()

	var sizing layout
	if _, _, _, _, err := sizing.batch(rec); err != nil {
		return fail(KindBadInput, 0, "", err)
	}
	if int64(sizing.pos) > u.limitBytes() {
		return fail(KindBadInput, 0, "", fmt.Errorf("batch needs %d bytes of guest memory, above the memory limit of %d: use smaller batches or raise the limit", sizing.pos, u.limitBytes()))
	}
	cctx := inst.begin(ctx)
	defer func() { _ = inst.end() }()
	if err := inst.ensureArena(cctx, sizing.pos); err != nil {
		if errors.Is(err, errOutOfMemory) {
			return fail(KindMemory, 0, fmt.Sprintf("no room for a %d-byte input batch under the memory limit of %d bytes", sizing.pos, u.limitBytes()), nil)
		}
		err = inst.callError(err)
		kind, msg := u.classify(err, inst)
		return fail(kind, 0, msg, err)
	}
	buf, ok := inst.mem.Read(inst.arena, uint32(sizing.pos))
	if !ok {
		return fail(KindBadOutput, 0, "", fmt.Errorf("wasinfer_alloc returned a block outside memory"))
	}
	w := layout{buf: buf, base: inst.arena, cached: sizing.pos <= cachedBatchMax}
	inS, inA, outS, outA, err := w.batch(rec)
	if err != nil {
		return fail(KindBadInput, 0, "", err)
	}

	st, err := inst.call1(cctx, inst.transform, uint64(inS), uint64(inA), uint64(outS), uint64(outA))
	if err != nil {
		err = inst.callError(err)
		kind, msg := u.classify(err, inst)
		return fail(kind, 0, msg, err)
	}
	if status := abi.Status(int32(st)); status != abi.StatusOK {
		msg, err := inst.message(cctx)
		if err != nil {
			kind, what := u.classify(err, inst)
			return fail(kind, 0, what, fmt.Errorf("in wasinfer_last_error (after status %s): %w", status, err))
		}
		if status == abi.StatusOutOfMemory {
			return fail(KindMemory, status, msg, nil)
		}
		return fail(KindGuest, status, msg, nil)
	}

	out, err := inst.readOutput(seq, outS, outA)
	if err != nil {
		return fail(KindBadOutput, 0, "", err)
	}
	if _, err := inst.call1(cctx, inst.release, uint64(outS), uint64(outA)); err != nil {
		out.Release()
		err = inst.callError(err)
		kind, msg := u.classify(err, inst)
		return fail(kind, 0, msg, fmt.Errorf("in wasinfer_release: %w", err))
	}
	if int64(inst.mem.Size()) > u.recycleBytes() {
		inst.broken = true // served this batch; replaced before the next
	}
	return out, nil
}

// readOutput validates the output tree, then copies it out.
//
// The schema tree of most batches is, byte for byte, the one of the batch
// that fixed the output schema: sameSchema checks that without building
// anything, and the fixed schema's tree then validates the arrays. Any
// other tree is built and compared with the fixed schema (spec §5.2).
func (inst *instance) readOutput(seq int64, outS, outA uint32) (arrow.RecordBatch, error) {
	u := inst.u
	mem, _ := inst.mem.Read(0, inst.mem.Size())
	r := &inst.reader
	r.reset(mem, u.maxOutputBytes())
	defer func() { r.mem = nil }() // memory that grows moves: hold no old copy
	schema, s := u.fixedOutput()
	if s == nil || !r.sameSchema(outS, s) {
		var err error
		if s, err = r.schema(outS, 0, ""); err != nil {
			return nil, err
		}
		if s.format.Raw != "+s" {
			return nil, bad("", "output format %q, want \"+s\" (a struct array of columns)", s.format.Raw)
		}
		schema = nil
	}
	if !r.span(outA, abi.ArraySize) {
		return nil, bad("", "output array outside memory")
	}
	rows := r.i64(outA + abi.ArrayLength)
	if off := r.i64(outA + abi.ArrayOffset); off != 0 {
		return nil, bad("", "top-level offset %d, want 0", off)
	}
	if rows < 0 || rows > 1<<40 {
		return nil, bad("", "row count %d out of range", rows)
	}
	a, err := r.array(outA, s, 0, rows)
	if err != nil {
		return nil, err
	}
	if a.nulls != 0 {
		return nil, bad("", "top-level struct has %d null rows; a batch has none", a.nulls)
	}
	if schema == nil {
		fields := make([]arrow.Field, len(s.children))
		for i, c := range s.children {
			fields[i] = c.field
		}
		md := s.field.Metadata
		if schema, err = u.checkSchema(seq, arrow.NewSchema(fields, &md), s); err != nil {
			return nil, err
		}
	}
	alloc := u.cfg.alloc
	if u.pool != nil {
		alloc = u.pool
	}
	r.cached = r.bytes <= cachedBatchMax
	cols := make([]arrow.Array, len(a.children))
	for i, c := range a.children {
		d := r.build(c, s.children[i], alloc)
		cols[i] = makeArray(d)
		d.Release()
	}
	out := newRecord(schema, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// close closes the module; safe to call twice.
func (inst *instance) close(ctx context.Context) {
	if inst.watch != nil {
		inst.watch.close()
	}
	if inst.mod != nil {
		_ = inst.mod.Close(ctx)
		inst.mod = nil
	}
	inst.broken = true
}
