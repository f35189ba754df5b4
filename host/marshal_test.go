package host

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// memBase is where tests place the block in a fake linear memory, so that
// address 0 stays NULL as in a real guest.
const memBase = 1024

// encodeToMemory lays rec out as the host does for a guest and returns the
// whole fake memory with the addresses of the input schema and array.
func encodeToMemory(t testing.TB, rec arrow.RecordBatch) (mem []byte, inS, inA uint32) {
	t.Helper()
	var sizing layout
	if _, _, _, _, err := sizing.batch(rec); err != nil {
		t.Fatalf("sizing: %v", err)
	}
	mem = make([]byte, memBase+sizing.pos)
	w := layout{buf: mem[memBase:], base: memBase}
	inS, inA, _, _, err := w.batch(rec)
	if err != nil {
		t.Fatalf("writing: %v", err)
	}
	if w.pos != sizing.pos {
		t.Fatalf("sizing pass said %d bytes, writing pass used %d", sizing.pos, w.pos)
	}
	return mem, inS, inA
}

// decodeFromMemory reads a batch tree as the host reads guest output.
func decodeFromMemory(mem []byte, s, a uint32, alloc memory.Allocator) (arrow.RecordBatch, error) {
	r := &outputReader{mem: mem, maxBytes: 1 << 40}
	cs, err := r.schema(s, 0, "")
	if err != nil {
		return nil, err
	}
	if cs.format.Raw != "+s" {
		return nil, bad("", "not a struct")
	}
	if !r.span(a, 64) {
		return nil, bad("", "array outside memory")
	}
	rows := r.i64(a)
	if rows < 0 || rows > 1<<40 {
		return nil, bad("", "rows")
	}
	ca, err := r.array(a, cs, 0, rows)
	if err != nil {
		return nil, err
	}
	fields := make([]arrow.Field, len(cs.children))
	cols := make([]arrow.Array, len(cs.children))
	for i, c := range cs.children {
		fields[i] = c.field
		d := r.build(ca.children[i], c, alloc)
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	md := cs.field.Metadata
	out := array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}
