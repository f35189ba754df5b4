package host

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// Data segment encodings for the tests.
func dataAt(off int32, data string) []byte { // active, memory 0, i32.const off
	return append(append(append(b(0x00, 0x41), appendSleb(nil, int64(off))...), 0x0b), name(data)...)
}
func dataAtMem(mem byte, off int32, data string) []byte { // active, explicit memory
	return append(append(append(b(0x02, mem, 0x41), appendSleb(nil, int64(off))...), 0x0b), name(data)...)
}
func dataPassive(data string) []byte          { return append(b(0x01), name(data)...) }
func dataAtGlobal(g byte, data string) []byte { return append(b(0x00, 0x23, g, 0x0b), name(data)...) }

// TestMergeData: which segments merge and what they become.
func TestMergeData(t *testing.T) {
	z := func(n int) string { return strings.Repeat("\x00", n) }
	cases := []struct {
		name     string
		in, want [][]byte // nil want: unchanged
	}{
		{"gaps up to maxDataGap merge, a longer one does not",
			[][]byte{dataAt(0, "ab"), dataAt(10, "cd"), dataAt(12, "e"), dataAt(13+maxDataGap, "f"), dataAt(14+2*maxDataGap+1, "g")},
			[][]byte{dataAt(0, "ab"+z(8)+"cd"+"e"+z(maxDataGap)+"f"), dataAt(14+2*maxDataGap+1, "g")}},
		{"overlapping segments: nothing merges",
			[][]byte{dataAt(0, "abcd"), dataAt(2, "xy"), dataAt(10, "q"), dataAt(12, "r")}, nil},
		{"only neighbours in both segment and address order",
			[][]byte{dataAt(20, "x"), dataAt(0, "y"), dataAt(10, "z")},
			[][]byte{dataAt(20, "x"), dataAt(0, "y"+z(9)+"z")}},
		{"a segment between two others in memory keeps them apart",
			[][]byte{dataAt(0, "a"), dataAt(40, "b"), dataAt(20, "c")}, nil},
		{"passive and global-offset segments are kept and not merged across",
			[][]byte{dataAt(0, "a"), dataPassive("p"), dataAt(4, "b"), dataAtGlobal(0, "g"), dataAt(8, "c"), dataAt(9, "d")},
			[][]byte{dataAt(0, "a"), dataPassive("p"), dataAt(4, "b"), dataAtGlobal(0, "g"), dataAt(8, "cd")}},
		{"an explicit memory 0 merges, memory 1 does not",
			[][]byte{dataAtMem(0, 0, "a"), dataAt(3, "b"), dataAtMem(1, 5, "c"), dataAt(6, "d")},
			[][]byte{dataAt(0, "a"+z(2)+"b"), dataAtMem(1, 5, "c"), dataAt(6, "d")}},
		{"offsets are unsigned: -8 is near the top of memory",
			[][]byte{dataAt(0x7ffffff0, "a"), dataAt(-8, "b"), dataAt(-4, "c")},
			[][]byte{dataAt(0x7ffffff0, "a"), dataAt(-8, "b"+z(3)+"c")}},
		{"empty segments merge like others", [][]byte{dataAt(5, ""), dataAt(7, "x")}, [][]byte{dataAt(5, z(2)+"x")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := vec(c.in...)
			got, err := mergeData(body, 100)
			if err != nil {
				t.Fatal(err)
			}
			want := body
			if c.want != nil {
				want = vec(c.want...)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got  %x\nwant %x", got, want)
			}
			sameImage(t, body, got)
		})
	}
	for _, bad := range []struct {
		body []byte
		want string
	}{
		{b(0x02, 0x00, 0x41, 0x00, 0x0b, 0x05, 'a'), "byte 105: 5 data bytes declared in the 1 bytes left (each takes at least 1)"},
		{b(0x01, 0x07, 0x00), "byte 102: data segment form 7"},
		{b(0x01, 0x01, 0x01, 'a', 'b'), "byte 104: 1 bytes after the last data segment"},
	} {
		if _, err := mergeData(bad.body, 100); err == nil || err.Error() != bad.want {
			t.Errorf("%x: %v, want %s", bad.body, err, bad.want)
		}
	}
}

// dataSection returns the contents of wasm's data section, nil if none.
func dataSection(t *testing.T, wasm []byte) []byte {
	t.Helper()
	secs, err := splitSections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.id == 11 {
			return wasm[s.start:s.end]
		}
	}
	return nil
}

// sameImage checks that two data section bodies write the same bytes to
// memory 0 (active segments at constant offsets applied in order, as
// instantiation does) and have the same other segments in the same order.
func sameImage(t *testing.T, a, b []byte) {
	t.Helper()
	image := func(body []byte) (map[uint64]byte, [][]byte) {
		segs, err := dataSegments(body, 0)
		if err != nil {
			t.Fatal(err)
		}
		mem := map[uint64]byte{}
		var other [][]byte
		for _, s := range segs {
			if !s.mergeable {
				other = append(other, s.raw)
				continue
			}
			for i, c := range s.data {
				mem[uint64(s.offset)+uint64(i)] = c
			}
		}
		for k, v := range mem {
			if v == 0 {
				delete(mem, k) // memory starts zeroed
			}
		}
		return mem, other
	}
	ma, oa := image(a)
	mb, ob := image(b)
	if len(ma) != len(mb) {
		t.Fatalf("memory images differ: %d and %d non-zero bytes", len(ma), len(mb))
	}
	for k, v := range ma {
		if mb[k] != v {
			t.Fatalf("memory images differ at %#x: %#x and %#x", k, v, mb[k])
		}
	}
	if len(oa) != len(ob) {
		t.Fatalf("%d and %d other segments", len(oa), len(ob))
	}
	for i := range oa {
		if !bytes.Equal(oa[i], ob[i]) {
			t.Fatalf("other segment %d: %x became %x", i, oa[i], ob[i])
		}
	}
}

// TestGuardMergesData: the guard merges the data segments of every
// committed module into the same memory image (the Go guests' tens of
// thousands into a few hundred); it merges none where a data count section
// lets instructions name segments or where the memory is imported; and
// wazero instantiates a merged module to the same memory bytes.
func TestGuardMergesData(t *testing.T) {
	dataOf := func(wasm []byte) []byte { return dataSection(t, wasm) }
	goGuests := 0
	for path, wasm := range committedModules(t) {
		out, _, err := guardModule(wasm)
		if err != nil || dataOf(wasm) == nil {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			in, got := dataOf(wasm), dataOf(out)
			sameImage(t, in, got)
			n0, _, _ := uleb(in, 0)
			n1, _, _ := uleb(got, 0)
			if strings.Contains(path, "sdk/go/") {
				goGuests++
				if n0 < 10000 || n1 > 1000 {
					t.Errorf("%d data segments became %d, want from tens of thousands to hundreds", n0, n1)
				}
			}
		})
	}
	if goGuests < 2 {
		t.Errorf("%d Go guests checked", goGuests)
	}

	memory := sec(5, vec(b(0x00, 0x01)))
	data := sec(11, vec(dataAt(0, "ab"), dataAt(6, "cd"), dataAt(65530, "end")))
	merged := vec(dataAt(0, "ab"+strings.Repeat("\x00", 4)+"cd"), dataAt(65530, "end"))
	for _, c := range []struct {
		name   string
		module []byte
		merges bool
	}{
		{"own memory", wasmModule(memory, sec(7, vec(append(name("memory"), 0x02, 0x00))), data), true},
		{"a data count section", wasmModule(memory, sec(12, b(0x03)), data), false},
		{"an imported memory", wasmModule(sec(2, vec(append(append(name("env"), name("memory")...), 0x02, 0x00, 0x01))), data), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := guardModule(c.module)
			if err != nil {
				t.Fatal(err)
			}
			got := dataOf(out)
			if want := data[1:]; c.merges {
				want = merged
				if !bytes.Equal(got, want) {
					t.Fatalf("data section %x, want %x", got, want)
				}
			} else if !bytes.Equal(got, want) {
				t.Fatalf("data section changed: %x", got)
			}
			if !c.merges {
				return
			}
			ctx := context.Background()
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			read := func(wasm []byte, name string) []byte {
				m, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(name).WithStartFunctions())
				if err != nil {
					t.Fatal(err)
				}
				bs, ok := m.Memory().Read(0, m.Memory().Size())
				if !ok {
					t.Fatal("memory unreadable")
				}
				return bytes.Clone(bs)
			}
			if a, b := read(c.module, "original"), read(out, "guarded"); !bytes.Equal(a, b) {
				t.Error("the guarded module's memory differs from the original's after instantiation")
			}
		})
	}
}
