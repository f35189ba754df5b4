package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Stopping a runaway guest.
//
// Every call into a guest has a deadline (spec §7) and may be canceled by the
// caller. wazero can stop a guest itself (WithCloseOnContextDone), but its
// compiler does so by calling into Go at every loop header, which makes a
// tight guest loop tens of times slower (BenchmarkDeadlineGuard). So under
// the compiler the host rewrites the module (guardModule) to carry checks of
// its own, at every function entry and every loop header:
//
//   - the interrupt flag, a mutable i32 global exported as interruptExport.
//     To stop a call the host sets it to 1 (watchdog); the guest reaches
//     a check within one loop iteration or one call and traps with
//     `unreachable`, and the host reports the trap as the timeout or the
//     cancellation it was.
//   - a budget, a second global counted down at each check. When it runs
//     out, the guest calls an added function that refills it and runs
//     `memory.grow 0`, which wazero implements in Go: the goroutine passes a
//     Go preemption point. Compiled guest code cannot be preempted, and a
//     garbage collection stops the world by waiting for every goroutine to
//     reach such a point, so without this a guest spinning in a loop would
//     stall the whole process at the next collection, and with it the timer
//     that sets the flag: the guest would never be stopped. The budget bounds
//     the wait to yieldEvery checks; a bulk memory or table instruction,
//     whose cost grows with its length, counts for one check per bulkUnit
//     bytes or elements and one more.
//
// A check costs two loads, a store and two branches, under a nanosecond; a
// yield about 25 ns, once per yieldEvery checks (BenchmarkDeadlineGuard).
//
// Under the interpreter the host keeps wazero's mechanism, which is cheap
// there, and only makes sure that loop-free code reaches wazero's checks
// (guardCalls). The interpreter reads globals as Go code, so setting the
// flag from another goroutine would be a data race there.

const (
	// interruptExport names the guard's flag in a rewritten module.
	interruptExport = "__wasinfer_interrupt"
	// startExport names a module's start function once guardModule has
	// taken it out of the start section: the host calls it after
	// instantiation, under the deadline, as the start section would have.
	startExport = "__wasinfer_start"
	// yieldEvery is the number of checks between two yields to Go.
	yieldEvery = 1024
	// bulkShift: a bulk memory or table instruction (memory.fill,
	// memory.copy, memory.init, table.fill, table.copy, table.init) of
	// length n counts for 1 + n>>bulkShift checks, so a yield comes at the
	// latest after some 64 MiB of bulk work.
	bulkShift = 16
)

// compilerEngine reports whether wazero's automatic engine choice
// (wazero.NewRuntimeConfig) is its compiler on this platform. It mirrors the
// operating system and architecture test of wazero's
// internal/platform.CompilerSupported (v1.12). That function also requires
// SSE4.1 on amd64 and a working executable mmap; where either is missing
// wazero falls back to its interpreter, and the guard still stops guests
// there (the interpreter reads the flag at every check), only without the
// guarantees of the Go memory model.
func compilerEngine() bool {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "windows":
		return runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64"
	case "dragonfly", "solaris", "illumos":
		return runtime.GOARCH == "amd64"
	}
	return false
}

// prepareModule checks a module's declared counts (checkCounts), then
// rewrites it for the engine that will run it: the guard of guardModule
// under the compiler, guardCalls under the interpreter. Its errors are
// worded for the user.
func prepareModule(wasm []byte, compiler bool) ([]byte, error) {
	if err := checkCounts(wasm); err != nil {
		var u *unsupportedError
		if errors.As(err, &u) {
			return nil, err
		}
		return nil, fmt.Errorf("not a valid WebAssembly module: %w", err)
	}
	if !compiler {
		out, err := guardCalls(wasm)
		if err != nil {
			return nil, fmt.Errorf("not a valid WebAssembly module: %w", err)
		}
		return out, nil
	}
	out, _, err := guardModule(wasm)
	if err != nil {
		var u *unsupportedError
		if errors.As(err, &u) {
			return nil, err
		}
		return nil, fmt.Errorf("not a valid WebAssembly module: %w", err)
	}
	return out, nil
}

// unsupportedError is a module that uses a WebAssembly feature the host does
// not run (wazero does not enable it either).
type unsupportedError struct {
	where   string
	feature string
}

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("module uses %s (%s), which wasinfer does not support: build it for WebAssembly 2.0 without that feature", e.feature, e.where)
}

// watchdog sets an instance's interrupt flag when the deadline of a host
// operation passes or its context ends. There is one per guarded instance,
// used by the goroutine that holds the instance.
//
// It is cheap to arm, because instances serve batch after batch: its timer
// stays scheduled across operations and, when it fires, either finds the
// current operation past its deadline or schedules itself again for that
// deadline (every operation has the same timeout, so a pending timer never
// fires after the current deadline); and its registration on a context's
// Done channel (context.AfterFunc) is kept for as long as operations come
// with the same channel, as all the batches of a pipeline run do. Arming
// then costs a clock read and two uncontended lock operations, and
// allocates nothing.
type watchdog struct {
	flag api.MutableGlobal

	mu       sync.Mutex
	timer    *time.Timer
	timerSet bool      // the timer is scheduled
	armed    bool      // an operation is running
	deadline time.Time // the running operation's
	listen   uint64    // the registration the running operation listens to; 0: none
	cause    error     // why the flag was set; nil while it is not
	closed   bool

	// The registration on a context's Done channel; only the goroutine that
	// holds the instance touches these.
	regDone <-chan struct{}
	regID   uint64
	regStop func() bool
}

func newWatchdog(flag api.MutableGlobal) *watchdog {
	w := &watchdog{flag: flag}
	w.timer = time.AfterFunc(time.Hour, w.onTimer)
	w.timer.Stop()
	return w
}

// trip records cause and sets the flag; the guest stops at its next check.
// w.mu is held.
func (w *watchdog) trip(cause error) {
	if w.cause == nil {
		w.cause = cause
		w.flag.Set(1)
	}
}

func (w *watchdog) onTimer() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timerSet = false
	if w.closed || !w.armed {
		return // idle: the next operation schedules the timer again
	}
	if left := time.Until(w.deadline); left > 0 {
		w.timer.Reset(left)
		w.timerSet = true
		return
	}
	w.trip(context.DeadlineExceeded)
}

// arm arranges for the flag to be set once d has passed or ctx is done,
// until disarm. A ctx done already sets it at once, as wazero would: the
// guest fails at its first check.
func (w *watchdog) arm(ctx context.Context, d time.Duration) {
	if done := ctx.Done(); done != w.regDone {
		if w.regStop != nil {
			w.regStop()
			w.regStop = nil
		}
		w.regDone = done
		if done != nil {
			w.regID++
			id := w.regID
			w.regStop = context.AfterFunc(ctx, func() {
				w.mu.Lock()
				defer w.mu.Unlock()
				if w.armed && w.listen == id {
					w.trip(context.Cause(ctx))
				}
			})
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = true
	w.listen = 0
	if w.regDone != nil {
		w.listen = w.regID
	}
	w.deadline = time.Now().Add(d)
	if !w.timerSet {
		w.timer.Reset(d)
		w.timerSet = true
	}
	// After armed is set: a callback that ran before it saw nothing to stop,
	// but then ctx.Err() is already set here.
	if ctx.Err() != nil {
		w.trip(context.Cause(ctx))
	}
}

// disarm ends the operation arm started and returns why the flag was set,
// nil if it was not. Once it has returned, nothing sets the flag for that
// operation any more (the callbacks check armed under w.mu, and set the
// flag under it), so an operation that ended just as its deadline passed
// cannot poison a later one unseen. An instance whose flag was set must not
// serve again: the flag stays set.
func (w *watchdog) disarm() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	return w.cause
}

// close stops the timer and the context registration.
func (w *watchdog) close() {
	w.mu.Lock()
	w.closed, w.armed = true, false
	w.timer.Stop()
	w.mu.Unlock()
	if w.regStop != nil {
		w.regStop()
		w.regStop, w.regDone = nil, nil
	}
}

// interruptError is a guest call that trapped at a check because the host
// set the flag (ctx was done).
type interruptError struct {
	cause error // context.Cause of the call's context
	trap  error // the guest's trap, with its stack trace
}

func (e *interruptError) Error() string {
	return "stopped by the host: " + e.cause.Error() + "\n" + e.trap.Error()
}

func (e *interruptError) Unwrap() []error { return []error{e.cause, e.trap} }

// checkGuarded refuses a module rewritten by guardModule whose start
// function, now exported as startExport, is not of type [] -> [], as a start
// section requires.
func checkGuarded(m wazero.CompiledModule) error {
	def, ok := m.ExportedFunctions()[startExport]
	if ok && (len(def.ParamTypes()) > 0 || len(def.ResultTypes()) > 0) {
		return fmt.Errorf("the start function has signature %s, want () -> ()", sigString(def.ParamTypes(), def.ResultTypes()))
	}
	return nil
}

// bindInterrupt finds the flag of a module rewritten by guardModule.
func bindInterrupt(mod api.Module) (api.MutableGlobal, error) {
	g, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
	if !ok || g.Type() != api.ValueTypeI32 {
		return nil, fmt.Errorf("the rewritten module lacks its mutable i32 global %s", interruptExport)
	}
	return g, nil
}

// guardModule returns a copy of a module that carries the deadline guard,
// and the export name of the guard's flag. It adds:
//
//   - two globals after every imported and defined one: the flag,
//     `(mut i32) (i32.const 0)` exported as interruptExport, and the budget,
//     `(mut i32) (i32.const yieldEvery)`;
//   - a function of type [] -> [] after every other, $yield: it refills the
//     budget and runs `memory.grow 0` (its type is added after every other
//     type; a module without any memory gets one of 0 pages, not exported);
//   - at every function entry (after the locals) and after every `loop`
//     instruction's block type, the check
//     `global.get $flag if unreachable end` followed by a tick of 1:
//     `$budget -= 1; if $budget <= 0 { call $yield }`;
//   - around every bulk memory or table instruction, a tick of 1 +
//     length>>bulkShift: the length, the instruction's last operand, is
//     saved with `local.tee` in a local i32 added to the function.
//
// A start section is removed and its function exported as startExport, so
// that the host can run it under a deadline (checkGuarded checks its type).
//
// Runs of data segments are merged (datamerge.go): the memory they make is
// the same, and where the guard merges them no instruction names a data
// segment. Every other byte is copied unchanged, custom sections included
// (DWARF line tables then point a few bytes per check off). No other index
// changes. The instructions are decoded with all their immediates (WebAssembly 2.0: sign
// extension, saturating conversions, bulk memory, reference types,
// multi-value, SIMD); a module using any other proposal is refused with an
// *unsupportedError, and so is one that exports interruptExport or
// startExport already.
//
// guardModule checks only what rewriting needs: wazero validates the result.
func guardModule(wasm []byte) (out []byte, globalName string, err error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, "", errors.New("no WebAssembly 1.0 binary header")
	}
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, "", err
	}
	m := moduleInfo{start: -1}
	for _, s := range secs {
		if err := m.scan(wasm, s); err != nil {
			return nil, "", err
		}
	}
	for _, e := range m.exports {
		if e.name == interruptExport || e.name == startExport {
			return nil, "", fmt.Errorf("the module exports %q, a name the host reserves", e.name)
		}
	}
	g := m.plan()
	if err := g.checkRefs(); err != nil {
		return nil, "", err
	}

	// The sections the guard changes, and how; each is created where absent.
	rewrite := map[byte]func(body []byte) ([]byte, error){
		1:  g.typeSection,
		3:  g.functionSection,
		6:  g.globalSection,
		7:  g.exportSection,
		10: g.codeSection,
	}
	if m.importedMemories+m.definedMemories == 0 {
		rewrite[5] = func([]byte) ([]byte, error) { return []byte{0x01, 0x00, 0x00}, nil } // (memory 0)
	}
	present := map[byte]bool{}
	for _, s := range secs {
		present[s.id] = true
	}
	// Runs of data segments are merged (datamerge.go) where no instruction
	// can name a segment (no data count section) and memory starts zeroed.
	for _, s := range secs {
		if s.id == 11 && !present[12] && m.importedMemories == 0 {
			base := s.start
			rewrite[11] = func(body []byte) ([]byte, error) { return mergeData(body, base) }
		}
	}
	out = make([]byte, 0, len(wasm)+len(wasm)/4+256)
	out = append(out, wasm[:8]...)
	emit := func(id byte, body []byte) error {
		b, err := rewrite[id](body)
		if err != nil {
			return err
		}
		out = appendSection(out, id, b)
		delete(rewrite, id)
		return nil
	}
	// emitAbsent creates the changed sections that the module lacks and
	// that come before a section of the given rank.
	emitAbsent := func(rank int) error {
		for _, id := range []byte{1, 3, 5, 6, 7, 10} {
			if _, todo := rewrite[id]; todo && !present[id] && sectionRank[id] < rank {
				if err := emit(id, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, s := range secs {
		if s.id != 0 {
			if err := emitAbsent(sectionRank[s.id]); err != nil {
				return nil, "", err
			}
		}
		switch _, todo := rewrite[s.id]; {
		case s.id == 8: // start: replaced by startExport
		case todo && s.id != 0:
			if err := emit(s.id, wasm[s.start:s.end]); err != nil {
				return nil, "", err
			}
		default:
			out = append(out, wasm[s.header:s.end]...)
		}
	}
	if err := emitAbsent(len(sectionRank) + 1); err != nil {
		return nil, "", err
	}
	return out, interruptExport, nil
}

// sectionRank orders the known sections as the binary format requires.
var sectionRank = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

type section struct {
	id                 byte
	header, start, end int // offsets in the module: id byte, contents, end
}

func splitSections(wasm []byte) ([]section, error) {
	var secs []section
	last := 0 // rank of the last known section
	for p := 8; p < len(wasm); {
		id := wasm[p]
		size, n, err := uleb(wasm, p+1)
		if err != nil {
			return nil, fmt.Errorf("section at byte %d: %w", p, err)
		}
		start := p + 1 + n
		end := start + int(size)
		if size > uint64(len(wasm)) || end > len(wasm) {
			return nil, fmt.Errorf("section %d at byte %d runs past the end of the module", id, p)
		}
		if id != 0 {
			r, ok := sectionRank[id]
			switch {
			case !ok:
				return nil, fmt.Errorf("unknown section id %d at byte %d", id, p)
			case r <= last:
				return nil, fmt.Errorf("section %d at byte %d is out of order or repeated", id, p)
			}
			last = r
		}
		secs = append(secs, section{id: id, header: p, start: start, end: end})
		p = end
	}
	return secs, nil
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = appendUleb(out, uint64(len(body)))
	return append(out, body...)
}

// moduleInfo is what guardModule needs to know before it rewrites.
type moduleInfo struct {
	types            uint64
	params           []uint32 // parameter count of each type
	funcTypes        []uint32 // type of each defined function
	importedFuncs    uint64
	definedFuncs     uint64
	importedMemories uint64
	definedMemories  uint64
	importedGlobals  uint64
	definedGlobals   uint64
	exports          []export
	start            int64 // the start function, -1 if none
	codeStart        int   // offset of the code section's contents
}

// reader decodes a section or a function body; its errors give the byte
// offset in the module.
type reader struct {
	b    []byte
	p    int
	base int // offset of b[0] in the module
	// bounds, when set, are the original module's index spaces: instr
	// refuses an index into the entries the guard adds ($yield, its type,
	// the flag and the budget), which in the original are out of range and
	// which a guarded module would otherwise reach (a hostile module could
	// set the flag or the budget and outrun its deadline).
	bounds *indexBounds
}

// indexBounds are the sizes of a module's function, global and type index
// spaces, imports included.
type indexBounds struct{ funcs, globals, types uint64 }

// index reads an index into a space of n entries; one out of range is an
// error at its byte, format saying what with the index and n.
func (r *reader) index(n uint64, format string) error {
	at := r.p
	i, err := r.u32()
	if err == nil && uint64(i) >= n {
		r.p = at
		err = r.errorf(format, i, n)
	}
	return err
}

func (r *reader) errorf(format string, args ...any) error {
	return fmt.Errorf("byte %d: %s", r.base+r.p, fmt.Sprintf(format, args...))
}

// count reads a vector's length.
func (r *reader) count() (uint64, error) {
	n, err := r.u32()
	return uint64(n), err
}

func (r *reader) u32() (uint32, error) {
	v, n, err := uleb(r.b, r.p)
	if err != nil {
		return 0, r.errorf("%v", err)
	}
	if v > 0xffffffff {
		return 0, r.errorf("integer %d out of range", v)
	}
	r.p += n
	return uint32(v), nil
}

// leb skips a LEB128 integer of either sign.
func (r *reader) leb() error {
	_, n, err := uleb(r.b, r.p)
	if err != nil {
		return r.errorf("%v", err)
	}
	r.p += n
	return nil
}

func (r *reader) byte1() (byte, error) {
	if r.p >= len(r.b) {
		return 0, r.errorf("unexpected end")
	}
	c := r.b[r.p]
	r.p++
	return c, nil
}

func (r *reader) skip(n int) error {
	if n > len(r.b)-r.p {
		return r.errorf("unexpected end")
	}
	r.p += n
	return nil
}

func (r *reader) name() (string, error) {
	at := r.p
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if int64(n) > int64(len(r.b)-r.p) {
		r.p = at
		return "", r.errorf("a name of %d bytes runs past the section", n)
	}
	s := string(r.b[r.p : r.p+int(n)])
	r.p += int(n)
	return s, nil
}

func (r *reader) limits() error {
	flags, err := r.byte1()
	if err != nil {
		return err
	}
	if flags&^0x07 != 0 {
		r.p--
		return r.errorf("limits flags %#x", flags)
	}
	if flags&0x02 != 0 {
		r.p--
		return &unsupportedError{where: r.errorf("shared memory").Error(), feature: "threads"}
	}
	if err := r.leb(); err != nil {
		return err
	}
	if flags&0x01 != 0 {
		return r.leb()
	}
	return nil
}

func (r *reader) valType() error {
	t, err := r.byte1()
	if err != nil {
		return err
	}
	if !isValType(t) {
		r.p--
		return r.unsupportedType(t)
	}
	return nil
}

func (r *reader) unsupportedType(t byte) error {
	if t == 0x63 || t == 0x64 || (t >= 0x69 && t <= 0x6e) || t == 0x5e || t == 0x5f || t == 0x60 {
		return &unsupportedError{where: r.errorf("value type %#x", t).Error(), feature: "typed function references or GC"}
	}
	return r.errorf("value type %#x", t)
}

// isValType: i32 i64 f32 f64 v128 funcref externref.
func isValType(t byte) bool {
	switch t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return true
	}
	return false
}

// scan records what the rewrite needs from one section.
func (m *moduleInfo) scan(wasm []byte, s section) error {
	r := &reader{b: wasm[s.start:s.end], base: s.start}
	var err error
	switch s.id {
	case 1:
		err = m.scanTypes(r)
	case 2:
		err = m.scanImports(r)
	case 3:
		err = m.scanFunctions(r)
	case 5:
		m.definedMemories, err = r.count()
	case 6:
		m.definedGlobals, err = r.count()
	case 7:
		err = m.scanExports(r)
	case 8:
		var f uint32
		f, err = r.u32()
		m.start = int64(f)
	case 10:
		m.codeStart = s.start
	case 13:
		return &unsupportedError{where: fmt.Sprintf("a tag section at byte %d", s.header), feature: "exception handling"}
	}
	var u *unsupportedError
	if err != nil && !errors.As(err, &u) {
		return fmt.Errorf("%s section: %w", sectionNames[s.id], err)
	}
	return err
}

var sectionNames = map[byte]string{1: "type", 2: "import", 3: "function", 5: "memory", 6: "global", 7: "export", 8: "start"}

// scanTypes counts the function types, refusing the forms of the GC proposal
// (whose recursion groups would number types differently).
func (m *moduleInfo) scanTypes(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		form, err := r.byte1()
		if err != nil {
			return err
		}
		if form != 0x60 {
			r.p--
			if form >= 0x4e && form <= 0x5f {
				return &unsupportedError{where: r.errorf("type form %#x", form).Error(), feature: "GC"}
			}
			return r.errorf("type form %#x, want 0x60 (a function type)", form)
		}
		for i := range 2 { // parameters, results
			k, err := r.u32()
			if err != nil {
				return err
			}
			if i == 0 {
				m.params = append(m.params, k)
			}
			for range k {
				if err := r.valType(); err != nil {
					return err
				}
			}
		}
	}
	m.types = uint64(n)
	return nil
}

func (m *moduleInfo) scanFunctions(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		t, err := r.u32()
		if err != nil {
			return err
		}
		m.funcTypes = append(m.funcTypes, t)
	}
	m.definedFuncs = uint64(n)
	return nil
}

func (m *moduleInfo) scanImports(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		if _, err := r.name(); err != nil {
			return err
		}
		if _, err := r.name(); err != nil {
			return err
		}
		kind, err := r.byte1()
		if err != nil {
			return err
		}
		switch kind {
		case 0x00: // function: type index
			m.importedFuncs++
			err = r.leb()
		case 0x01: // table: reference type, limits
			if err = r.valType(); err == nil {
				err = r.limits()
			}
		case 0x02: // memory: limits
			m.importedMemories++
			err = r.limits()
		case 0x03: // global: value type, mutability
			m.importedGlobals++
			if err = r.valType(); err == nil {
				_, err = r.byte1()
			}
		case 0x04:
			err = &unsupportedError{where: r.errorf("an imported tag").Error(), feature: "exception handling"}
		default:
			r.p--
			err = r.errorf("import kind %#x", kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (m *moduleInfo) scanExports(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		name, err := r.name()
		if err != nil {
			return err
		}
		kind, err := r.byte1()
		if err != nil {
			return err
		}
		at := r.p
		i, err := r.u32()
		if err != nil {
			return err
		}
		m.exports = append(m.exports, export{name: name, kind: kind, index: i, at: r.base + at})
	}
	return nil
}

// export is one export: its name, kind and index, and where the index is.
type export struct {
	name  string
	kind  byte
	index uint32
	at    int
}

// checkRefs refuses an export or a start function that names a function or
// a global the module does not have: the guard adds one of each kind at the
// end of the index spaces, which would make such a module valid and hand
// the guard's own entries to it. Instructions are checked as the code
// section is rewritten (reader.bounds).
func (g *guard) checkRefs() error {
	for _, e := range g.m.exports {
		var what string
		var n uint64
		switch e.kind {
		case 0x00:
			what, n = "function", g.bounds.funcs
		case 0x03:
			what, n = "global", g.bounds.globals
		default:
			continue
		}
		if uint64(e.index) >= n {
			return fmt.Errorf("export section: byte %d: export %q is %s %d; the module has %d", e.at, e.name, what, e.index, n)
		}
	}
	if g.m.start >= 0 && uint64(g.m.start) >= g.bounds.funcs {
		return fmt.Errorf("start section: the start function is %d; the module has %d functions", g.m.start, g.bounds.funcs)
	}
	return nil
}

// guard is a planned rewrite: the new indices and the code to insert.
type guard struct {
	m       *moduleInfo
	bounds  indexBounds // the original module's index spaces
	flag    uint64      // global index of the interrupt flag; the budget follows
	yield   uint64      // function index of $yield
	yType   uint64      // type index of $yield: [] -> []
	check   []byte      // inserted at function entries and loop headers
	scratch []byte      // reused by guardBody
	bulkEnd []byte      // after bulk instructions, after `local.get $length`
}

func (m *moduleInfo) plan() *guard {
	g := &guard{m: m, flag: m.importedGlobals + m.definedGlobals, yield: m.importedFuncs + m.definedFuncs, yType: m.types}
	g.bounds = indexBounds{funcs: g.yield, globals: g.flag, types: m.types}
	budget := g.flag + 1
	// tick: if $budget <= 0 { call $yield }, after $budget has been lowered.
	tick := func(b []byte) []byte {
		b = appendUleb(append(b, 0x24), budget) // global.set $budget
		b = appendUleb(append(b, 0x23), budget) // global.get $budget
		b = append(b, 0x41, 0x00, 0x4c)         // i32.const 0  i32.le_s
		b = append(b, 0x04, 0x40, 0x10)         // if  call
		b = appendUleb(b, g.yield)              //     $yield
		return append(b, 0x0b)                  // end
	}
	c := appendUleb([]byte{0x23}, g.flag)                        // global.get $flag
	c = append(c, 0x04, 0x40, 0x00, 0x0b)                        // if unreachable end
	c = appendUleb(append(c, 0x23), budget)                      // global.get $budget
	c = append(c, 0x41, 0x01, 0x6b)                              // i32.const 1  i32.sub
	g.check = tick(c)                                            // $budget -= 1; tick
	g.bulkEnd = append([]byte(nil), 0x41, bulkShift, 0x76, 0x6b) // i32.const bulkShift  i32.shr_u  i32.sub
	g.bulkEnd = append(g.bulkEnd, 0x41, 0x01, 0x6b)              // i32.const 1  i32.sub
	g.bulkEnd = tick(g.bulkEnd)                                  // $budget -= 1 + length>>bulkShift; tick
	return g
}

// withCount returns a section's contents with its leading count replaced.
func withCount(body []byte, count uint64) []byte {
	out := appendUleb(make([]byte, 0, len(body)+64), count)
	if body != nil {
		_, n, _ := uleb(body, 0) // scanned already
		out = append(out, body[n:]...)
	}
	return out
}

func (g *guard) typeSection(body []byte) ([]byte, error) {
	return append(withCount(body, g.m.types+1), 0x60, 0x00, 0x00), nil
}

func (g *guard) functionSection(body []byte) ([]byte, error) {
	return appendUleb(withCount(body, g.m.definedFuncs+1), g.yType), nil
}

func (g *guard) globalSection(body []byte) ([]byte, error) {
	out := withCount(body, g.m.definedGlobals+2)
	out = append(out, 0x7f, 0x01, 0x41, 0x00, 0x0b) // $flag: (mut i32) (i32.const 0)
	out = append(out, 0x7f, 0x01, 0x41)             // $budget: (mut i32) (i32.const yieldEvery)
	return append(appendSleb(out, yieldEvery), 0x0b), nil
}

// exportSection adds the flag's export and, for a module with a start
// section, startExport.
func (g *guard) exportSection(body []byte) ([]byte, error) {
	m := g.m
	count := uint64(len(m.exports)) + 1
	if m.start >= 0 {
		count++
	}
	out := withCount(body, count)
	out = appendUleb(out, uint64(len(interruptExport)))
	out = append(out, interruptExport...)
	out = append(out, 0x03) // global
	out = appendUleb(out, g.flag)
	if m.start >= 0 {
		out = appendUleb(out, uint64(len(startExport)))
		out = append(out, startExport...)
		out = append(out, 0x00) // function
		out = appendUleb(out, uint64(m.start))
	}
	return out, nil
}

// yieldBody is $yield: refill the budget, then pass through Go.
func (g *guard) yieldBody() []byte {
	b := []byte{0x00, 0x41}                   // no locals; i32.const
	b = appendSleb(b, yieldEvery)             //   yieldEvery
	b = appendUleb(append(b, 0x24), g.flag+1) // global.set $budget
	b = append(b, 0x41, 0x00, 0x40, 0x00)     // i32.const 0  memory.grow 0
	return append(b, 0x1a, 0x0b)              // drop end
}

// codeSection rewrites the code section's contents (nil: none) and appends
// $yield.
func (g *guard) codeSection(sec []byte) ([]byte, error) {
	var count uint64
	p := 0
	if sec != nil {
		var err error
		if count, p, err = uleb(sec, 0); err != nil {
			return nil, fmt.Errorf("code section: %w", err)
		}
	}
	base := g.m.codeStart
	out := appendUleb(make([]byte, 0, len(sec)+len(sec)/4+64), count+1)
	var body []byte
	for i := range count {
		fn := g.m.importedFuncs + i
		size, n, err := uleb(sec, p)
		if err != nil {
			return nil, fmt.Errorf("code section: function %d: %w", fn, err)
		}
		start := p + n
		if size > uint64(len(sec)-start) {
			return nil, fmt.Errorf("code section: function %d runs past the section", fn)
		}
		end := start + int(size)
		if i >= uint64(len(g.m.funcTypes)) || uint64(g.m.funcTypes[i]) >= uint64(len(g.m.params)) {
			return nil, fmt.Errorf("code section: function %d has no valid type", fn)
		}
		r := &reader{b: sec[start:end], base: base + start, bounds: &g.bounds}
		body, err = g.guardBody(body[:0], r, g.m.params[g.m.funcTypes[i]])
		if err != nil {
			var u *unsupportedError
			if errors.As(err, &u) {
				u.where = fmt.Sprintf("function %d, %s", fn, u.where)
				return nil, u
			}
			return nil, fmt.Errorf("function %d: %w", fn, err)
		}
		out = appendUleb(out, uint64(len(body)))
		out = append(out, body...)
		p = end
	}
	if p != len(sec) {
		return nil, errors.New("code section: bytes after the last function")
	}
	y := g.yieldBody()
	out = appendUleb(out, uint64(len(y)))
	return append(out, y...), nil
}

// guardBody appends to out one function body with the check after its
// locals and after every loop's block type, and the bulk tick around every
// bulk instruction. params is the function's number of parameters.
func (g *guard) guardBody(out []byte, r *reader, params uint32) ([]byte, error) {
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	locals := uint64(params)
	for range groups {
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		if err := r.valType(); err != nil {
			return nil, err
		}
		locals += uint64(n)
	}
	if locals >= 1<<32-1 {
		return nil, r.errorf("too many locals")
	}
	declared := r.p
	length := locals // the added local that holds a bulk instruction's length
	code := g.scratch[:0]
	code = append(code, g.check...)
	copied := r.p
	depth := 0
	bulk := false
	for r.p < len(r.b) {
		at := r.p
		kind, err := r.instr()
		if err != nil {
			return nil, err
		}
		switch kind {
		case instrBlock:
			depth++
		case instrLoop:
			depth++
			code = append(code, r.b[copied:r.p]...)
			code = append(code, g.check...)
			copied = r.p
		case instrBulk:
			bulk = true
			code = append(code, r.b[copied:at]...)
			code = appendUleb(append(code, 0x22), length) // local.tee $length
			code = append(code, r.b[at:r.p]...)
			code = appendUleb(append(code, 0x23), g.flag+1) // global.get $budget
			code = appendUleb(append(code, 0x20), length)   // local.get $length
			code = append(code, g.bulkEnd...)
			copied = r.p
		case instrEnd:
			if depth == 0 {
				if r.p != len(r.b) {
					return nil, r.errorf("code after the function's final end")
				}
				code = append(code, r.b[copied:]...)
				g.scratch = code
				if !bulk {
					out = append(out, r.b[:declared]...)
				} else {
					out = appendUleb(out, uint64(groups)+1)
					_, n, _ := uleb(r.b, 0)
					out = append(out, r.b[n:declared]...)
					out = append(out, 0x01, 0x7f) // (local $length i32)
				}
				return append(out, code...), nil
			}
			depth--
		}
	}
	return nil, r.errorf("function body ends without its final end")
}

type instrKind int

const (
	instrOther instrKind = iota
	instrBlock           // block, if
	instrLoop
	instrEnd
	instrBulk // memory.fill memory.copy memory.init table.fill table.copy table.init
)

// instr reads one instruction with its immediates.
func (r *reader) instr() (instrKind, error) {
	at := r.p
	op, err := r.byte1()
	if err != nil {
		return 0, err
	}
	unsupported := func(feature string) error {
		r.p = at
		return &unsupportedError{where: r.errorf("opcode %#x", op).Error(), feature: feature}
	}
	switch {
	case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1 ||
		(op >= 0x45 && op <= 0xc4): // no immediates: unreachable nop else return drop select ref.is_null, numeric
		return instrOther, nil
	case op == 0x02 || op == 0x04: // block if
		return instrBlock, r.blockType()
	case op == 0x03: // loop
		return instrLoop, r.blockType()
	case op == 0x0b: // end
		return instrEnd, nil
	case r.bounds != nil && (op == 0x10 || op == 0xd2): // call ref.func
		return instrOther, r.index(r.bounds.funcs, "function %d; the module has %d")
	case r.bounds != nil && (op == 0x23 || op == 0x24): // global.get global.set
		return instrOther, r.index(r.bounds.globals, "global %d; the module has %d")
	case op == 0x0c || op == 0x0d || op == 0x10 || op == 0xd2 || (op >= 0x20 && op <= 0x26):
		// br br_if call ref.func local.* global.* table.get table.set: one index
		return instrOther, r.leb()
	case op == 0x0e: // br_table: vec(label) label
		n, err := r.u32()
		if err != nil {
			return 0, err
		}
		for range uint64(n) + 1 {
			if err := r.leb(); err != nil {
				return 0, err
			}
		}
		return instrOther, nil
	case op == 0x11: // call_indirect: type, table
		var err error
		if r.bounds != nil {
			err = r.index(r.bounds.types, "type %d; the module has %d")
		} else {
			err = r.leb()
		}
		if err != nil {
			return 0, err
		}
		return instrOther, r.leb()
	case op == 0x1c: // select t*
		n, err := r.u32()
		if err != nil {
			return 0, err
		}
		for range n {
			if err := r.valType(); err != nil {
				return 0, err
			}
		}
		return instrOther, nil
	case op >= 0x28 && op <= 0x3e: // loads and stores
		return instrOther, r.memarg()
	case op == 0x3f || op == 0x40: // memory.size memory.grow: memory index
		return instrOther, r.leb()
	case op == 0x41 || op == 0x42: // i32.const i64.const
		return instrOther, r.leb()
	case op == 0x43: // f32.const
		return instrOther, r.skip(4)
	case op == 0x44: // f64.const
		return instrOther, r.skip(8)
	case op == 0xd0: // ref.null: heap type
		t, err := r.byte1()
		if err != nil {
			return 0, err
		}
		if t != 0x70 && t != 0x6f {
			return 0, unsupported("typed function references or GC")
		}
		return instrOther, nil
	case op == 0xfc:
		return r.miscInstr(unsupported)
	case op == 0xfd:
		return r.simdInstr(unsupported)
	case op >= 0x06 && op <= 0x0a || op == 0x18 || op == 0x19 || op == 0x1f:
		return 0, unsupported("exception handling")
	case op == 0x12 || op == 0x13:
		return 0, unsupported("tail calls")
	case op == 0x14 || op == 0x15 || op >= 0xd3 && op <= 0xd6 || op == 0xfb:
		return 0, unsupported("typed function references or GC")
	case op == 0xfe:
		return 0, unsupported("threads")
	}
	r.p = at
	return 0, r.errorf("unknown opcode %#x", op)
}

// blockType reads a block type: empty, a value type or a type index (s33).
func (r *reader) blockType() error {
	if r.p >= len(r.b) {
		return r.errorf("unexpected end")
	}
	if t := r.b[r.p]; t == 0x40 || isValType(t) {
		r.p++
		return nil
	}
	var v int64
	var shift uint
	for i := 0; ; i++ {
		if i == 5 || r.p >= len(r.b) {
			return r.errorf("bad block type")
		}
		c := r.b[r.p]
		r.p++
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if c&0x40 != 0 {
				v |= -1 << shift
			}
			break
		}
	}
	if v < 0 {
		return r.unsupportedType(byte(v & 0x7f))
	}
	if r.bounds != nil && uint64(v) >= r.bounds.types {
		return r.errorf("a block of type %d; the module has %d", v, r.bounds.types)
	}
	return nil
}

// memarg reads alignment and offset.
func (r *reader) memarg() error {
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 {
		return &unsupportedError{where: r.errorf("memory argument").Error(), feature: "multiple memories"}
	}
	return r.leb()
}

// miscInstr reads an 0xfc instruction: saturating conversions, bulk memory,
// table operations.
func (r *reader) miscInstr(unsupported func(string) error) (instrKind, error) {
	sub, err := r.u32()
	if err != nil {
		return 0, err
	}
	var indices int
	kind := instrOther
	switch {
	case sub <= 7: // *.trunc_sat_*
	case sub == 9 || sub == 13 || sub == 15 || sub == 16:
		indices = 1 // data.drop elem.drop table.grow table.size
	case sub == 11 || sub == 17:
		indices, kind = 1, instrBulk // memory.fill table.fill
	case sub == 8 || sub == 10 || sub == 12 || sub == 14:
		indices, kind = 2, instrBulk // memory.init memory.copy table.init table.copy
	default:
		return 0, unsupported(fmt.Sprintf("the 0xfc instruction %d", sub))
	}
	for range indices {
		if err := r.leb(); err != nil {
			return 0, err
		}
	}
	return kind, nil
}

// simdUnused are the opcodes in 0xfd 0–255 that the SIMD proposal leaves
// unassigned.
var simdUnused = [256]bool{154: true, 162: true, 165: true, 166: true, 175: true, 176: true, 178: true,
	179: true, 180: true, 187: true, 194: true, 197: true, 198: true, 207: true, 208: true, 210: true,
	211: true, 212: true, 226: true, 238: true}

// simdInstr reads an 0xfd (SIMD) instruction.
func (r *reader) simdInstr(unsupported func(string) error) (instrKind, error) {
	sub, err := r.u32()
	if err != nil {
		return 0, err
	}
	switch {
	case sub > 255:
		return 0, unsupported(fmt.Sprintf("the SIMD instruction %d (relaxed SIMD)", sub))
	case simdUnused[sub]:
		return 0, unsupported(fmt.Sprintf("the unassigned SIMD instruction %d", sub))
	case sub <= 11 || sub == 92 || sub == 93: // v128.load*, v128.store, v128.load*_zero
		return instrOther, r.memarg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		return instrOther, r.skip(16)
	case sub >= 21 && sub <= 34: // extract_lane, replace_lane
		return instrOther, r.skip(1)
	case sub >= 84 && sub <= 91: // v128.load*_lane, v128.store*_lane
		if err := r.memarg(); err != nil {
			return 0, err
		}
		return instrOther, r.skip(1)
	}
	return instrOther, nil
}

// guardCalls returns a copy of a module in which every function body begins
// with an empty `loop end` block. It is the interpreter's guard.
//
// Why: wazero stops a guest at its deadline by checks it compiles into loop
// headers. A guest with no loops at all (a call tree that doubles at each
// level, or deep recursion that does not overflow) would never reach a check
// and could not be stopped. wazero checks even a loop nothing branches back
// to, so an empty loop at each function's entry makes every call a check
// point. Cost: one check per call.
//
// The rest of the module is copied byte for byte; only the code section's
// bodies (and their sizes) change.
func guardCalls(wasm []byte) ([]byte, error) {
	const header = 8
	out := make([]byte, 0, len(wasm)+len(wasm)/16)
	out = append(out, wasm[:header]...)
	p := header
	for p < len(wasm) {
		id := wasm[p]
		size, n, err := uleb(wasm, p+1)
		if err != nil {
			return nil, fmt.Errorf("section at byte %d: %w", p, err)
		}
		start := p + 1 + n
		end := start + int(size)
		if end > len(wasm) || end < start {
			return nil, fmt.Errorf("section %d at byte %d runs past the end of the module", id, p)
		}
		if id != 10 { // not the code section
			out = append(out, wasm[p:end]...)
			p = end
			continue
		}
		code, err := guardCode(wasm[start:end])
		if err != nil {
			return nil, fmt.Errorf("code section: %w", err)
		}
		out = append(out, id)
		out = appendUleb(out, uint64(len(code)))
		out = append(out, code...)
		p = end
	}
	return out, nil
}

var emptyLoop = []byte{0x03, 0x40, 0x0b} // loop (empty block type) end

func guardCode(sec []byte) ([]byte, error) {
	count, n, err := uleb(sec, 0)
	if err != nil {
		return nil, err
	}
	out := appendUleb(make([]byte, 0, len(sec)+int(min(count, uint64(len(sec))))*4), count)
	p := n
	for i := range count {
		size, n, err := uleb(sec, p)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		body := p + n
		end := body + int(size)
		if size > uint64(len(sec)) || end > len(sec) {
			return nil, fmt.Errorf("function %d runs past the section", i)
		}
		locals, err := localsEnd(sec[body:end])
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = appendUleb(out, size+uint64(len(emptyLoop)))
		out = append(out, sec[body:body+locals]...)
		out = append(out, emptyLoop...)
		out = append(out, sec[body+locals:end]...)
		p = end
	}
	if p != len(sec) {
		return nil, errors.New("bytes after the last function")
	}
	return out, nil
}

// localsEnd returns the length of a body's local declarations.
func localsEnd(body []byte) (int, error) {
	groups, p, err := uleb(body, 0)
	if err != nil {
		return 0, err
	}
	for range groups {
		_, n, err := uleb(body, p)
		if err != nil {
			return 0, err
		}
		p += n
		if p >= len(body) {
			return 0, errors.New("local declarations run past the body")
		}
		switch t := body[p]; t {
		case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f: // i32 i64 f32 f64 v128 funcref externref
			p++
		default:
			return 0, fmt.Errorf("local of value type %#x is not supported", t)
		}
	}
	return p, nil
}

func uleb(b []byte, p int) (uint64, int, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		if p+i >= len(b) {
			return 0, 0, errors.New("truncated LEB128")
		}
		c := b[p+i]
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("LEB128 too long")
}

func appendSleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendUleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}
