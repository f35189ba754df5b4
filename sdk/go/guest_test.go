package wasinfer

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func identity(rec arrow.RecordBatch) (arrow.RecordBatch, error) { return rec, nil }

func TestHarnessIdentity(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h, err := NewHarness(UDF{Transform: identity}, nil, WithMemory(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	for name, rec := range variants(t, mem) {
		t.Run(name, func(t *testing.T) {
			defer rec.Release()
			// A fresh harness per variant: the schemas differ.
			h, err := NewHarness(UDF{Transform: identity}, nil, WithMemory(1<<20))
			if err != nil {
				t.Fatal(err)
			}
			out, err := h.Transform(rec)
			if err != nil {
				t.Fatal(err)
			}
			want := guestView(rec)
			assertSameBatch(t, want, out)
			want.Release()
			out.Release()
			if l := h.leaked(); len(l) > 0 {
				t.Errorf("leaked blocks %v", l)
			}
		})
	}
	_ = h
}

// hostInput writes rec into sim the way the host does and returns the
// pointers of the input and output structures.
func hostInput(t *testing.T, sim *simMemory, rec arrow.RecordBatch) (sp, ap, osp, oap uint32, done func()) {
	t.Helper()
	in := arena{mem: sim}
	sp, _ = in.alloc(schemaSize, structAlign)
	ap, _ = in.alloc(arraySize, structAlign)
	osp, _ = in.alloc(schemaSize, structAlign)
	oap, _ = in.alloc(arraySize, structAlign)
	if err := exportBatch(sim, &in, rec, sp, ap); err != nil {
		t.Fatal(err)
	}
	return sp, ap, osp, oap, in.release
}

// TestPassThroughIsZeroCopy checks that columns returned from the input reach
// the host as pointers into the input block, not copies.
func TestPassThroughIsZeroCopy(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := corpus(t, mem)
	defer rec.Release()
	dropFirst := func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
		return array.NewRecordBatch(arrow.NewSchema(rec.Schema().Fields()[1:], nil), rec.Columns()[1:], rec.NumRows()), nil
	}
	for name, fn := range map[string]func(arrow.RecordBatch) (arrow.RecordBatch, error){"identity": identity, "drop-first": dropFirst} {
		t.Run(name, func(t *testing.T) {
			sim := newSimMemory(1 << 20)
			g := &guest{mem: sim, udf: &UDF{Transform: fn}}
			sp, ap, osp, oap, done := hostInput(t, sim, rec)
			defer done()
			if st := g.transform(sp, ap, osp, oap); st != StatusOK {
				t.Fatalf("status %s: %s", st, sim.view(unpack(g.lastError())))
			}
			if n := len(g.out.ar.owned); n > 1 { // at most the shared zero block
				t.Errorf("the output copied %d buffers", n)
			}
			g.release(osp, oap)
		})
	}
}

// TestTransformErrors checks the status and message of each way a Transform
// can fail, and that the instance keeps working afterwards.
func TestTransformErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ib := array.NewMonthIntervalBuilder(mem)
	ib.AppendValues([]arrow.MonthInterval{1, 2}, nil)
	interval := ib.NewArray()
	ib.Release()
	defer interval.Release()

	tests := []struct {
		name   string
		fn     func(arrow.RecordBatch) (arrow.RecordBatch, error)
		status Status
		msg    string
	}{
		{"error", func(arrow.RecordBatch) (arrow.RecordBatch, error) {
			return nil, errors.New(`column "a" row 1: negative`)
		}, StatusError, `column "a" row 1: negative`},
		{"unsupported", func(arrow.RecordBatch) (arrow.RecordBatch, error) {
			return nil, Errorf(StatusUnsupportedInput, "column %q: type %s, want utf8", "a", arrow.PrimitiveTypes.Int32)
		}, StatusUnsupportedInput, `column "a": type int32, want utf8`},
		{"wrapped", func(arrow.RecordBatch) (arrow.RecordBatch, error) {
			return nil, fmt.Errorf("decoding: %w", Errorf(StatusOutOfMemory, "buffer of %d bytes", 1<<40))
		}, StatusOutOfMemory, `decoding: buffer of 1099511627776 bytes`},
		{"error-and-batch", func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
			return rec, errors.New("half done")
		}, StatusError, `half done`},
		{"nil", func(arrow.RecordBatch) (arrow.RecordBatch, error) { return nil, nil },
			StatusError, `Transform returned a nil batch and no error`},
		{"unsupported-output", func(arrow.RecordBatch) (arrow.RecordBatch, error) {
			return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "iv", Type: interval.DataType()}}, nil), []arrow.Array{interval}, 2), nil
		}, StatusError, `writing the output: column "iv": type month_interval is not supported by ABI v1`},
		{"short-child", func(arrow.RecordBatch) (arrow.RecordBatch, error) {
			vals := array.NewData(arrow.PrimitiveTypes.Int8, 5, []*memory.Buffer{nil, memory.NewBufferBytes(make([]byte, 5))}, nil, 0, 0)
			d := array.NewData(arrow.FixedSizeListOf(4, arrow.PrimitiveTypes.Int8), 2, []*memory.Buffer{nil}, []arrow.ArrayData{vals}, 0, 0)
			vals.Release()
			col := array.MakeFromData(d)
			d.Release()
			rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "short", Type: col.DataType()}}, nil), []arrow.Array{col}, 2)
			col.Release()
			return rec, nil
		}, StatusError, `writing the output: column "short.item": length 5, its parent needs 8`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			h, err := NewHarness(UDF{Transform: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
				if calls++; calls > 1 {
					return rec, nil
				}
				return tc.fn(rec)
			}}, nil, WithMemory(1<<20))
			if err != nil {
				t.Fatal(err)
			}
			rec := corpus(t, mem)
			defer rec.Release()
			_, err = h.Transform(rec)
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Error() != tc.msg {
				t.Fatalf("error %#v (%v), want status %s and %q", err, err, tc.status, tc.msg)
			}
			out, err := h.Transform(rec)
			if err != nil {
				t.Fatalf("the batch after a failure: %v", err)
			}
			out.Release()
			if l := h.leaked(); len(l) > 0 {
				t.Errorf("leaked blocks %v", l)
			}
		})
	}
}

func TestTransformPanic(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h, err := NewHarness(UDF{Transform: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
		var s []int
		_ = s[rec.NumRows()]
		return rec, nil
	}}, nil, WithMemory(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	rec := corpus(t, mem)
	defer rec.Release()
	_, err = h.Transform(rec)
	var e *Error
	const want = "panic in Transform: runtime error: index out of range [5] with length 0\n\ngoroutine "
	if !errors.As(err, &e) || e.Status != StatusError || !strings.HasPrefix(e.Error(), want) {
		t.Fatalf("error %v, want status ERROR and a message starting %q", err, want)
	}
	if !strings.Contains(e.Error(), "TestTransformPanic") {
		t.Errorf("message has no stack trace:\n%s", e.Error())
	}
}

func TestSchemaChange(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	calls := 0
	h, err := NewHarness(UDF{Transform: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
		calls++
		return array.NewRecordBatch(arrow.NewSchema(rec.Schema().Fields()[:calls], nil), rec.Columns()[:calls], rec.NumRows()), nil
	}}, nil, WithMemory(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	rec := corpus(t, mem)
	defer rec.Release()
	out, err := h.Transform(rec)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	if _, err = h.Transform(rec); err == nil || !strings.Contains(err.Error(), "differs from the first batch's") {
		t.Fatalf("error %v, want a schema change", err)
	}
}

// TestOutputBuiltInTransform checks that the SDK releases an output built
// with an allocator, and that a batch of new columns reads back.
func TestOutputBuiltInTransform(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h, err := NewHarness(UDF{Transform: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
		in := rec.Column(rec.Schema().FieldIndices("int32")[0]).(*array.Int32)
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		for i := 0; i < in.Len(); i++ {
			if in.IsNull(i) {
				b.AppendNull()
				continue
			}
			b.Append(float64(in.Value(i)) / 2)
		}
		col := b.NewArray()
		defer col.Release()
		return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "half", Type: col.DataType(), Nullable: true}}, nil), []arrow.Array{col}, int64(col.Len())), nil
	}}, nil, WithMemory(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	rec := corpus(t, mem)
	defer rec.Release()
	want := map[int64]string{5: "[0.5 1 1.5 (null) -2.5]", 3: "[1.5 (null) -2.5]"}
	for _, r := range []arrow.RecordBatch{rec, rec.NewSlice(2, 5)} {
		out, err := h.Transform(r)
		if r != rec {
			r.Release()
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(out.Column(0)); got != want[out.NumRows()] {
			t.Errorf("half = %s, want %s", got, want[out.NumRows()])
		}
		out.Release()
	}
	if l := h.leaked(); len(l) > 0 {
		t.Errorf("leaked blocks %v", l)
	}
}

func TestInit(t *testing.T) {
	var got []byte
	_, err := NewHarness(UDF{Transform: identity, Init: func(c []byte) error { got = c; return nil }}, []byte(`{"k": [1]}`))
	if err != nil || string(got) != `{"k": [1]}` {
		t.Fatalf("Init got %q, err %v", got, err)
	}
	for _, c := range []string{"", "{}", " { } "} {
		if _, err := NewHarness(UDF{Transform: identity}, []byte(c)); err != nil {
			t.Errorf("config %q without Init: %v", c, err)
		}
	}
}

func TestInitErrors(t *testing.T) {
	tests := []struct {
		name   string
		init   func([]byte) error
		config string
		status Status
		msg    string
	}{
		{"no-init", nil, `{"b": 1, "a": 2}`, StatusInvalidConfig, "this UDF takes no configuration, got keys a, b"},
		{"no-init-not-json", nil, `[1]`, StatusInvalidConfig, `this UDF takes no configuration, got "[1]"`},
		{"rejected", func([]byte) error { return errors.New(`unknown key "x"`) }, `{"x": 1}`, StatusInvalidConfig, `unknown key "x"`},
		{"typed", func([]byte) error { return Errorf(StatusError, "no model") }, ``, StatusError, `no model`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHarness(UDF{Transform: identity, Init: tc.init}, []byte(tc.config))
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Error() != tc.msg {
				t.Fatalf("error %v, want status %s and %q", err, tc.status, tc.msg)
			}
		})
	}
	_, err := NewHarness(UDF{Transform: identity, Init: func([]byte) error { panic("no config file") }}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "panic in Init: no config file\n") {
		t.Fatalf("error %v, want a recovered panic", err)
	}
}

func TestDescribe(t *testing.T) {
	h, err := NewHarness(UDF{Transform: identity, Name: "id", Version: "1.0.0",
		Input: []Column{{Name: "x", Type: "int32"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"name":"id","version":"1.0.0","language":"go","input":[{"name":"x","type":"int32"}]}`
	if got := string(h.Describe()); got != want {
		t.Errorf("describe = %s, want %s", got, want)
	}
}

func TestNoUDF(t *testing.T) {
	sim := newSimMemory(1 << 16)
	g := &guest{mem: sim}
	if st := g.init(0, 0); st != StatusError {
		t.Fatalf("init status %s", st)
	}
	const want = "wasinfer: no UDF registered: call wasinfer.Register from an init function of the main package"
	if got := string(sim.view(unpack(g.lastError()))); got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

// TestMalformedInput patches a valid input tree and checks the importer's
// message. The host never sends these; the checks keep a broken tree from
// reading out of bounds.
func TestMalformedInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewInt32Builder(mem)
	b.AppendValues([]int32{1, 2, 3}, nil)
	col := b.NewArray()
	b.Release()
	defer col.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "a", Type: col.DataType()}}, nil), []arrow.Array{col}, 3)
	defer rec.Release()

	tests := []struct {
		name   string
		patch  func(sim *simMemory, sp, ap uint32)
		status Status
		msg    string
	}{
		{"unsupported-format", func(sim *simMemory, sp, ap uint32) {
			c := getU32(sim, getU32(sim, sp+schemaChildren))
			f := sim.alloc(8, 1)
			copy(sim.view(f, 8), "+ud:1,2\x00")
			putU32(sim, c+schemaFormat, f)
		}, StatusUnsupportedInput, `reading the input: column "a": type format "+ud:1,2" is not supported by ABI v1`},
		{"buffers", func(sim *simMemory, sp, ap uint32) {
			c := getU32(sim, getU32(sim, ap+arrayChildren))
			putI64(sim, c+arrayNBuffers, 3)
		}, StatusError, `reading the input: column "a": 3 buffers, type int32 has 2`},
		{"null-count", func(sim *simMemory, sp, ap uint32) {
			c := getU32(sim, getU32(sim, ap+arrayChildren))
			putI64(sim, c+arrayNullCount, 4)
		}, StatusError, `reading the input: column "a": null_count 4 with length 3`},
		{"short-child", func(sim *simMemory, sp, ap uint32) {
			putI64(sim, ap+arrayLength, 4)
		}, StatusError, `reading the input: column "a": length 3 shorter than the batch (offset 0 + length 4)`},
		{"values-null", func(sim *simMemory, sp, ap uint32) {
			c := getU32(sim, getU32(sim, ap+arrayChildren))
			putU32(sim, getU32(sim, c+arrayBuffers)+4, 0)
		}, StatusError, `reading the input: column "a": buffer 1 is NULL`},
		{"wild-pointer", func(sim *simMemory, sp, ap uint32) {
			putU32(sim, ap+arrayChildren, 0xfffffff0)
		}, StatusError, `panic in the wasinfer Go SDK: wasinfer: memory access [0xfffffff0, +4) out of bounds`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSimMemory(1 << 20)
			g := &guest{mem: sim, udf: &UDF{Transform: identity}}
			sp, ap, osp, oap, done := hostInput(t, sim, rec)
			defer done()
			tc.patch(sim, sp, ap)
			st := g.transform(sp, ap, osp, oap)
			msg, _, _ := strings.Cut(string(sim.view(unpack(g.lastError()))), "\n")
			if st != tc.status || msg != tc.msg {
				t.Fatalf("status %s, message %q; want %s, %q", st, msg, tc.status, tc.msg)
			}
			if g.out != nil {
				t.Error("an output is held after a failure")
			}
		})
	}
}

// FuzzTransform flips bytes of a valid input tree: whatever the bytes, the
// guest returns a status and never panics out of transform.
func FuzzTransform(f *testing.F) {
	f.Add(uint16(0), byte(0xff))
	f.Add(uint16(24), byte(7))
	f.Fuzz(func(t *testing.T, at uint16, v byte) {
		rec := corpus(t, memory.DefaultAllocator)
		defer rec.Release()
		sim := newSimMemory(1 << 20)
		g := &guest{mem: sim, udf: &UDF{Transform: identity}}
		sp, ap, osp, oap, done := hostInput(t, sim, rec)
		defer done()
		// Patch inside the structures and strings, which sit below the
		// buffers in the first arena chunk.
		p := simBase + uint32(at)%arenaChunk
		sim.buf[p] ^= v
		if st := g.transform(sp, ap, osp, oap); st == StatusOK {
			g.release(osp, oap)
		}
	})
}
