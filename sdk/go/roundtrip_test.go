package wasinfer

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// variants are the corpus batch and slices of it: every column with the
// same offset, an empty slice, and columns that each have their own offset.
func variants(t *testing.T, mem memory.Allocator) map[string]arrow.RecordBatch {
	t.Helper()
	full := corpus(t, mem)
	out := map[string]arrow.RecordBatch{
		"full":    full,
		"slice":   full.NewSlice(1, 4),
		"empty":   full.NewSlice(5, 5),
		"no-rows": full.NewSlice(0, 0),
	}
	// Ten rows, then column i sliced at offset i%5: offsets differ per column.
	cols := make([]arrow.Array, full.NumCols())
	for i, c := range full.Columns() {
		twice, err := array.Concatenate([]arrow.Array{c, c}, mem)
		if err != nil {
			t.Fatalf("concatenating column %d: %v", i, err)
		}
		cols[i] = array.NewSlice(twice, int64(i%5), int64(i%5+5))
		twice.Release()
	}
	out["column-offsets"] = array.NewRecordBatch(full.Schema(), cols, 5)
	for _, c := range cols {
		c.Release()
	}
	out["no-columns"] = array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 3)
	return out
}

func TestRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for name, rec := range variants(t, mem) {
		t.Run(name, func(t *testing.T) {
			defer rec.Release()
			sim := newSimMemory(1 << 20)
			ar := arena{mem: sim}
			sp, _ := ar.alloc(schemaSize, structAlign)
			ap, _ := ar.alloc(arraySize, structAlign)
			if err := exportBatch(sim, &ar, rec, sp, ap); err != nil {
				t.Fatalf("exportBatch: %v", err)
			}
			got, err := importBatch(sim, sp, ap)
			if err != nil {
				t.Fatalf("importBatch: %v", err)
			}
			want := guestView(rec)
			assertSameBatch(t, want, got)
			want.Release()

			// Export what was imported: every buffer is a view of the memory,
			// so nothing is copied, and the result reads back the same.
			again := arena{mem: sim}
			sp2, _ := again.alloc(schemaSize, structAlign)
			ap2, _ := again.alloc(arraySize, structAlign)
			if err := exportBatch(sim, &again, got, sp2, ap2); err != nil {
				t.Fatalf("exportBatch of the imported batch: %v", err)
			}
			if len(again.owned) > 1 { // the shared zero block may be copied once
				t.Errorf("re-export copied %d buffers, want none", len(again.owned))
			}
			back, err := importBatch(sim, sp2, ap2)
			if err != nil {
				t.Fatalf("importBatch of the re-export: %v", err)
			}
			assertSameBatch(t, got, back)
			back.Release()
			got.Release()
			again.release()
			ar.release()
			if len(sim.live) != 0 {
				t.Errorf("%d blocks still live after release", len(sim.live))
			}
		})
	}
}

// TestLayout checks the bytes of an exported batch against the offsets of
// spec §4 directly, not through the importer.
func TestLayout(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewInt32Builder(mem)
	b.AppendValues([]int32{7, 0, 9}, []bool{true, false, true})
	col := b.NewArray()
	b.Release()
	defer col.Release()
	md := arrow.NewMetadata([]string{"k"}, []string{"vv"})
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "a", Type: col.DataType(), Nullable: true, Metadata: md}}, nil), []arrow.Array{col}, 3)
	defer rec.Release()

	sim := newSimMemory(1 << 20)
	ar := arena{mem: sim}
	defer ar.release()
	sp, _ := ar.alloc(schemaSize, structAlign)
	ap, _ := ar.alloc(arraySize, structAlign)
	if err := exportBatch(sim, &ar, rec, sp, ap); err != nil {
		t.Fatal(err)
	}
	u32 := func(p uint32) uint32 { return binary.LittleEndian.Uint32(sim.buf[p:]) }
	i64 := func(p uint32) int64 { return int64(binary.LittleEndian.Uint64(sim.buf[p:])) }
	str := func(p uint32) string { s, _ := sim.cstring(p, 64); return s }

	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("schema.format", str(u32(sp+0)), "+s")
	check("schema.name", str(u32(sp+4)), "")
	check("schema.metadata", u32(sp+8), 0)
	check("schema.flags", i64(sp+16), 0)
	check("schema.n_children", i64(sp+24), 1)
	c := u32(u32(sp + 32))
	check("child.format", str(u32(c+0)), "i")
	check("child.name", str(u32(c+4)), "a")
	mp := u32(c + 8)
	check("child.metadata", fmt.Sprintln(u32(mp), u32(mp+4), string(sim.buf[mp+8:mp+9]), u32(mp+9), string(sim.buf[mp+13:mp+15])), "1 1 k 2 vv\n")
	check("child.flags", i64(c+16), 2)
	check("child.dictionary", u32(c+36), 0)

	check("array.length", i64(ap+0), 3)
	check("array.null_count", i64(ap+8), 0)
	check("array.offset", i64(ap+16), 0)
	check("array.n_buffers", i64(ap+24), 1)
	check("array.buffers[0]", u32(u32(ap+40)), 0)
	check("array.n_children", i64(ap+32), 1)
	a := u32(u32(ap + 44))
	check("col.length", i64(a+0), 3)
	check("col.null_count", i64(a+8), 1)
	check("col.n_buffers", i64(a+24), 2)
	bufs := u32(a + 40)
	check("col.validity", sim.buf[u32(bufs)]&7, 5)
	v := u32(bufs + 4)
	check("col.values", fmt.Sprint(u32(v), u32(v+8)), "7 9")
	check("col.values aligned", v%64, 0)
	check("col.release", u32(a+52), 0)
}

func TestExportErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ib := array.NewMonthIntervalBuilder(mem)
	ib.AppendValues([]arrow.MonthInterval{1, 2}, nil)
	interval := ib.NewArray()
	ib.Release()
	defer interval.Release()
	utf8View, _, err := array.FromJSON(mem, arrow.BinaryTypes.StringView, stringsReader(`["a", "b"]`))
	if err != nil {
		t.Fatal(err)
	}
	defer utf8View.Release()
	nd := array.NewData(arrow.StructOf(arrow.Field{Name: "iv", Type: interval.DataType()}), 2,
		[]*memory.Buffer{nil}, []arrow.ArrayData{interval.Data()}, 0, 0)
	nested := array.NewStructData(nd)
	nd.Release()
	defer nested.Release()

	tests := []struct {
		name string
		col  arrow.Array
		want string
	}{
		{"interval", interval, `column "c": type month_interval is not supported by ABI v1`},
		{"view", utf8View, `column "c": type string_view is not supported by ABI v1`},
		{"nested", nested, `column "c.iv": type month_interval is not supported by ABI v1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "c", Type: tc.col.DataType()}}, nil), []arrow.Array{tc.col}, 2)
			defer rec.Release()
			sim := newSimMemory(1 << 20)
			ar := arena{mem: sim}
			defer ar.release()
			sp, _ := ar.alloc(schemaSize, structAlign)
			ap, _ := ar.alloc(arraySize, structAlign)
			err := exportBatch(sim, &ar, rec, sp, ap)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("exportBatch error %v, want %s", err, tc.want)
			}
		})
	}
}
