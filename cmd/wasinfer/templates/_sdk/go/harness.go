package wasinfer

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Harness runs a UDF natively, the way the host runs its module: each batch
// is written into a simulated 32-bit linear memory as C Data Interface
// structures, read back by the SDK's importer, transformed, written out by
// the SDK's exporter, checked, and copied out before the output is released.
// Unit tests of a UDF use it with `go test`, without building a module:
//
//	h, err := wasinfer.NewHarness(myUDF, []byte(`{"scale": 2}`))
//	out, err := h.Transform(batch)
//	defer out.Release()
//
// The simulated memory is a Go byte slice (WithMemory, default 64 MiB);
// allocations are checked, so a
// Harness also reports memory the guest leaks between batches. The checks on
// the output are a subset of the host's (spec §6): a batch that passes here
// can still be refused by the host, for example for invalid UTF-8.
//
// A Harness is not safe for concurrent use; make one per goroutine.
type Harness struct {
	g      *guest
	sim    *simMemory
	schema *arrow.Schema // the output schema of the first batch
}

type harnessConfig struct {
	memory int
}

// HarnessOption configures NewHarness.
type HarnessOption func(*harnessConfig)

// WithMemory sets the size of the simulated linear memory in bytes
// (default 64 MiB, at most 4 GiB - 64 KiB). The input batch, the guest's
// output structures and a copy of every output buffer that is not a view of
// the input must fit.
func WithMemory(bytes int) HarnessOption { return func(c *harnessConfig) { c.memory = bytes } }

// NewHarness makes a Harness for u and passes config to its Init, as the host
// does once per instance. A rejected configuration is returned as an *Error.
func NewHarness(u UDF, config []byte, opts ...HarnessOption) (*Harness, error) {
	if u.Transform == nil {
		return nil, errors.New("wasinfer: NewHarness: UDF.Transform is nil")
	}
	c := harnessConfig{memory: 64 << 20}
	for _, o := range opts {
		o(&c)
	}
	sim := newSimMemory(c.memory)
	h := &Harness{g: &guest{mem: sim, udf: &u}, sim: sim}
	var p uint32
	if len(config) > 0 {
		if p = sim.alloc(uint32(len(config)), 1); p == 0 {
			return nil, fmt.Errorf("wasinfer: configuration of %d bytes does not fit the simulated memory", len(config))
		}
		copy(sim.view(p, uint32(len(config))), config)
	}
	st := h.g.init(p, uint32(len(config)))
	sim.free(p)
	if st != StatusOK {
		return nil, h.guestError(st)
	}
	return h, nil
}

// Describe returns the JSON text of wasinfer_describe.
func (h *Harness) Describe() []byte {
	p, n := unpack(h.g.describe())
	return bytes.Clone(h.sim.view(p, n))
}

func unpack(v uint64) (p, n uint32) { return uint32(v >> 32), uint32(v) }

func (h *Harness) guestError(st Status) error {
	msg := st.String()
	if p, n := unpack(h.g.lastError()); p != 0 {
		msg = string(h.sim.view(p, n))
	}
	return &Error{Status: st, Err: errors.New(msg)}
}

// Transform sends rec through the UDF and returns its output, or an *Error
// with the guest's status and message. It does not retain or release rec;
// the output, a copy in Go memory, is the caller's to Release.
func (h *Harness) Transform(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	// Host side: the output structures and the input tree, in memory the
	// guest allocated (spec §5.1).
	osp := h.sim.alloc(schemaSize, structAlign)
	oap := h.sim.alloc(arraySize, structAlign)
	in := arena{mem: h.sim}
	sp, err1 := in.alloc(schemaSize, structAlign)
	ap, err2 := in.alloc(arraySize, structAlign)
	if osp == 0 || oap == 0 || err1 != nil || err2 != nil {
		return nil, errors.New("wasinfer: the input does not fit the simulated memory (see WithMemory)")
	}
	defer func() {
		in.release()
		h.sim.free(osp)
		h.sim.free(oap)
	}()
	if err := exportBatch(h.sim, &in, rec, sp, ap); err != nil {
		return nil, fmt.Errorf("wasinfer: writing the input: %w", err)
	}

	if st := h.g.transform(sp, ap, osp, oap); st != StatusOK {
		if h.g.out != nil {
			return nil, fmt.Errorf("wasinfer: status %s with an output still held", st)
		}
		return nil, h.guestError(st)
	}
	out, err := h.readOutput(osp, oap)
	h.g.release(osp, oap)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readOutput checks the output the guest wrote and copies it out.
func (h *Harness) readOutput(osp, oap uint32) (rec arrow.RecordBatch, err error) {
	defer func() {
		if r := recover(); r != nil {
			rec, err = nil, fmt.Errorf("wasinfer: bad output: %v", r)
		}
	}()
	if off, nulls := getI64(h.sim, oap+arrayOffset), getI64(h.sim, oap+arrayNullCount); off != 0 || nulls != 0 {
		return nil, fmt.Errorf("wasinfer: bad output: top-level offset %d and null_count %d, want 0", off, nulls)
	}
	view, err := importBatch(h.sim, osp, oap)
	if err != nil {
		return nil, fmt.Errorf("wasinfer: bad output: %w", err)
	}
	defer view.Release()
	if h.schema == nil {
		h.schema = view.Schema()
	} else if !h.schema.Equal(view.Schema()) || !h.schema.Metadata().Equal(view.Schema().Metadata()) {
		return nil, fmt.Errorf("wasinfer: bad output: schema %s differs from the first batch's %s", view.Schema(), h.schema)
	}
	for i, c := range view.Columns() {
		if err := checkUTF8(c.Data(), view.Schema().Field(i).Name); err != nil {
			return nil, err
		}
	}
	cols := make([]arrow.Array, view.NumCols())
	for i, c := range view.Columns() {
		d := cloneData(c.Data())
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	rec = array.NewRecordBatch(view.Schema(), cols, view.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return rec, nil
}

// checkUTF8 checks the string data of d and its children, as the host does.
func checkUTF8(d arrow.ArrayData, path string) error {
	switch d.DataType().(type) {
	case *arrow.StringType:
		a := array.NewStringData(d)
		defer a.Release()
		if !utf8.Valid(a.ValueBytes()) {
			return fmt.Errorf("wasinfer: bad output: column %q: invalid UTF-8", path)
		}
	case *arrow.LargeStringType:
		a := array.NewLargeStringData(d)
		defer a.Release()
		if !utf8.Valid(a.ValueBytes()) {
			return fmt.Errorf("wasinfer: bad output: column %q: invalid UTF-8", path)
		}
	}
	for _, c := range d.Children() {
		if err := checkUTF8(c, path); err != nil {
			return err
		}
	}
	if dict := dictionaryOf(d); dict != nil {
		return checkUTF8(dict, path)
	}
	return nil
}

// cloneData deep-copies d into Go memory.
func cloneData(d arrow.ArrayData) *array.Data {
	bufs := make([]*memory.Buffer, len(d.Buffers()))
	for i, b := range d.Buffers() {
		if b != nil {
			bufs[i] = memory.NewBufferBytes(bytes.Clone(b.Bytes()))
		}
	}
	kids := make([]arrow.ArrayData, len(d.Children()))
	for i, c := range d.Children() {
		kids[i] = cloneData(c)
	}
	out := array.NewData(d.DataType(), d.Len(), bufs, kids, d.NullN(), d.Offset())
	for _, k := range kids {
		k.Release()
	}
	if dict := dictionaryOf(d); dict != nil {
		cd := cloneData(dict)
		out.SetDictionary(cd)
		cd.Release()
	}
	return out
}

// leaked returns the live blocks of the simulated memory other than the
// guest's last error and description (tests check that it is empty between
// batches).
func (h *Harness) leaked() []uint32 {
	var out []uint32
	for p := range h.sim.live {
		if p != h.g.errBlock && p != h.g.desc {
			out = append(out, p)
		}
	}
	return out
}
