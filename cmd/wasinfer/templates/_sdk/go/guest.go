package wasinfer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// guest implements the exports of spec §2 over a linear memory. In a wasip1
// build the //go:wasmexport functions (exports_wasm.go) call one guest over
// the module's own memory; a Harness calls one over a simulated memory.
// Exports are never called concurrently or re-entered (spec §2), so guest
// has no locks.
type guest struct {
	mem linearMemory
	udf *UDF

	out      *output // output of the last successful transform, until release
	errBlock uint32  // the message of the last non-zero status
	errLen   uint32
	desc     uint32 // the description, built on first use
	descLen  uint32
}

// output is what the guest keeps alive between a successful transform and
// the host's wasinfer_release: the structures in the arena point into the
// buffers of rec (and through it, maybe into the input block).
type output struct {
	in, rec arrow.RecordBatch
	ar      arena
}

// maxStack bounds the stack trace appended to a panic message.
const maxStack = 8 << 10

func (g *guest) clearError() {
	g.mem.free(g.errBlock)
	g.errBlock, g.errLen = 0, 0
}

// fail records msg as the last error and returns status.
func (g *guest) fail(status Status, msg string) Status {
	g.clearError()
	if msg == "" {
		msg = status.String()
	}
	if p := g.mem.alloc(uint32(len(msg)), 1); p != 0 {
		copy(g.mem.view(p, uint32(len(msg))), msg)
		g.errBlock, g.errLen = p, uint32(len(msg))
	}
	return status
}

func (g *guest) failErr(err error, def Status) Status {
	return g.fail(statusOf(err, def), err.Error())
}

// panicMessage describes a recovered panic: its value, then the stack.
func panicMessage(where string, r any) string {
	stack := debug.Stack()
	if len(stack) > maxStack {
		stack = append(stack[:maxStack:maxStack], "\n..."...)
	}
	return fmt.Sprintf("panic in %s: %v\n\n%s", where, r, stack)
}

// lastError implements wasinfer_last_error.
func (g *guest) lastError() uint64 {
	if g.errBlock == 0 {
		return 0
	}
	return uint64(g.errBlock)<<32 | uint64(g.errLen)
}

// describe implements wasinfer_describe.
func (g *guest) describe() uint64 {
	if g.desc == 0 {
		u := g.udf
		if u == nil {
			u = &UDF{}
		}
		b := u.describeJSON()
		if p := g.mem.alloc(uint32(len(b)), 1); p != 0 {
			copy(g.mem.view(p, uint32(len(b))), b)
			g.desc, g.descLen = p, uint32(len(b))
		}
	}
	return uint64(g.desc)<<32 | uint64(g.descLen)
}

// errNoUDF is the error of a module whose main package never registered.
var errNoUDF = errors.New("wasinfer: no UDF registered: call wasinfer.Register from an init function of the main package")

// init implements wasinfer_init: config is the n bytes at p (none when n is 0).
func (g *guest) init(p, n uint32) (status Status) {
	g.clearError()
	if g.udf == nil {
		return g.failErr(errNoUDF, StatusError)
	}
	var config []byte
	if n > 0 {
		config = bytes.Clone(g.mem.view(p, n))
	}
	if g.udf.Init == nil {
		if err := noConfig(config); err != nil {
			return g.failErr(err, StatusInvalidConfig)
		}
		return StatusOK
	}
	defer func() {
		if r := recover(); r != nil {
			status = g.fail(StatusError, panicMessage("Init", r))
		}
	}()
	if err := g.udf.Init(config); err != nil {
		return g.failErr(err, StatusInvalidConfig)
	}
	return StatusOK
}

// noConfig accepts an empty configuration: no bytes, or an empty object.
func noConfig(config []byte) error {
	if len(bytes.TrimSpace(config)) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(config, &m); err != nil {
		return fmt.Errorf("this UDF takes no configuration, got %q", config)
	}
	if len(m) > 0 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return fmt.Errorf("this UDF takes no configuration, got keys %s", strings.Join(keys, ", "))
	}
	return nil
}

// transform implements wasinfer_transform.
func (g *guest) transform(sp, ap, osp, oap uint32) (status Status) {
	g.clearError()
	g.releaseOutput() // the host releases every output; this only guards a leak
	if g.udf == nil {
		return g.failErr(errNoUDF, StatusError)
	}
	// A panic outside Transform is a bug here or a malformed input tree.
	defer func() {
		if r := recover(); r != nil {
			status = g.fail(StatusError, panicMessage("the wasinfer Go SDK", r))
		}
	}()
	if osp == 0 || oap == 0 {
		return g.fail(StatusError, "wasinfer: output schema or array pointer is NULL")
	}

	in, err := importBatch(g.mem, sp, ap)
	if err != nil {
		return g.failErr(fmt.Errorf("reading the input: %w", err), StatusError)
	}
	out, err := g.call(in)
	if err != nil {
		releaseBoth(in, out)
		return g.failErr(err, StatusError)
	}
	if out == nil {
		in.Release()
		return g.fail(StatusError, "Transform returned a nil batch and no error")
	}
	o := &output{in: in, rec: out, ar: arena{mem: g.mem}}
	if err := exportBatch(g.mem, &o.ar, out, osp, oap); err != nil {
		o.release()
		clear(g.mem.view(osp, schemaSize))
		clear(g.mem.view(oap, arraySize))
		return g.failErr(fmt.Errorf("writing the output: %w", err), StatusError)
	}
	g.out = o
	return StatusOK
}

// call runs the user's Transform, turning a panic into an error.
func (g *guest) call(in arrow.RecordBatch) (out arrow.RecordBatch, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &Error{Status: StatusError, Err: errors.New(panicMessage("Transform", r))}
		}
	}()
	return g.udf.Transform(in)
}

// release implements wasinfer_release.
func (g *guest) release(osp, oap uint32) { g.releaseOutput() }

func (g *guest) releaseOutput() {
	if g.out != nil {
		g.out.release()
		g.out = nil
	}
}

func (o *output) release() {
	o.ar.release()
	releaseBoth(o.in, o.rec)
}

// releaseBoth releases the input batch and the output batch, once each
// even when Transform returned its input.
func releaseBoth(in, out arrow.RecordBatch) {
	if out != nil && out != in {
		out.Release()
	}
	in.Release()
}
