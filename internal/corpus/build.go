package corpus

import (
	"hash/fnv"
	"math/rand/v2"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// gen builds arrays buffer by buffer, so that the corpus controls every
// detail the array builders decide for you: a column without nulls has no
// validity buffer, a null list slot may own child values, offsets may start
// past 0. Its random source is seeded from the case name, so every case is
// deterministic and independent of the others.
type gen struct {
	mem memory.Allocator
	rng *rand.Rand
}

func newGen(mem memory.Allocator, name string) *gen {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &gen{mem: mem, rng: rand.New(rand.NewPCG(h.Sum64(), 0x5eed_c0_4b05))}
}

// column is one field of a batch under construction; arr is owned by it.
type column struct {
	field arrow.Field
	arr   arrow.Array
}

// batch assembles the columns into a record batch of n rows and releases
// the columns' arrays (the batch holds its own references).
func batch(cols []column, n int, md *arrow.Metadata) arrow.RecordBatch {
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		fields[i], arrs[i] = c.field, c.arr
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, md), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// buffer returns a new buffer from g.mem holding a copy of p.
func (g *gen) buffer(p []byte) *memory.Buffer {
	buf := memory.NewResizableBuffer(g.mem)
	buf.Resize(len(p))
	copy(buf.Bytes(), p)
	return buf
}

// bitmap packs valid into a validity buffer. A nil valid gives no buffer;
// a valid of all true gives an all-set buffer (null count 0).
func (g *gen) bitmap(valid []bool) (*memory.Buffer, int) {
	if valid == nil {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(g.mem)
	buf.Resize(int(bitutil.BytesForBits(int64(len(valid)))))
	bits := buf.Bytes()
	clear(bits)
	nulls := 0
	for i, ok := range valid {
		if ok {
			bitutil.SetBit(bits, i)
		} else {
			nulls++
		}
	}
	return buf, nulls
}

// makeArray assembles an array and takes ownership of bufs, children and
// dict: it releases them.
func (g *gen) makeArray(dt arrow.DataType, n int, bufs []*memory.Buffer, children []arrow.Array, nulls, offset int, dict arrow.Array) arrow.Array {
	var data *array.Data
	if dict != nil {
		data = array.NewDataWithDictionary(dt, n, bufs, nulls, offset, dict.Data().(*array.Data))
		dict.Release()
	} else {
		childData := make([]arrow.ArrayData, len(children))
		for i, c := range children {
			childData[i] = c.Data()
		}
		data = array.NewData(dt, n, bufs, childData, nulls, offset)
	}
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	for _, c := range children {
		c.Release()
	}
	arr := array.MakeFromData(data)
	data.Release()
	return arr
}

// valid returns a validity vector of n entries with about one null in four,
// and at least one null when n > 1 (row 1 is always null).
func (g *gen) valid(n int) []bool {
	v := make([]bool, n)
	for i := range v {
		v[i] = g.rng.IntN(4) != 0
	}
	if n > 1 {
		v[1] = false
	}
	return v
}

// fixed builds a fixed-width array (values buffer = the bytes of vals).
func fixed[T any](g *gen, dt arrow.DataType, vals []T, valid []bool) arrow.Array {
	var z T
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vals))), len(vals)*int(unsafe.Sizeof(z)))
	bm, nulls := g.bitmap(valid)
	return g.makeArray(dt, len(vals), []*memory.Buffer{bm, g.buffer(raw)}, nil, nulls, 0, nil)
}

func (g *gen) boolArray(vals, valid []bool) arrow.Array {
	bits := make([]byte, bitutil.BytesForBits(int64(len(vals))))
	for i, v := range vals {
		if v {
			bitutil.SetBit(bits, i)
		}
	}
	bm, nulls := g.bitmap(valid)
	return g.makeArray(arrow.FixedWidthTypes.Boolean, len(vals), []*memory.Buffer{bm, g.buffer(bits)}, nil, nulls, 0, nil)
}

// varBinary builds a utf8, large_utf8, binary or large_binary array.
func (g *gen) varBinary(dt arrow.DataType, vals []string, valid []bool) arrow.Array {
	total := 0
	for _, v := range vals {
		total += len(v)
	}
	data := make([]byte, 0, total)
	var offsets []byte
	switch dt.ID() {
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		off := make([]int64, len(vals)+1)
		for i, v := range vals {
			data = append(data, v...)
			off[i+1] = int64(len(data))
		}
		offsets = arrow.Int64Traits.CastToBytes(off)
	default:
		off := make([]int32, len(vals)+1)
		for i, v := range vals {
			data = append(data, v...)
			off[i+1] = int32(len(data))
		}
		offsets = arrow.Int32Traits.CastToBytes(off)
	}
	bm, nulls := g.bitmap(valid)
	return g.makeArray(dt, len(vals), []*memory.Buffer{bm, g.buffer(offsets), g.buffer(data)}, nil, nulls, 0, nil)
}

// list builds a list, large_list or map array over child from the given
// offsets (len(offsets)-1 rows; offsets may start past 0).
func (g *gen) list(dt arrow.DataType, offsets []int64, valid []bool, child arrow.Array) arrow.Array {
	var raw []byte
	if dt.ID() == arrow.LARGE_LIST {
		raw = arrow.Int64Traits.CastToBytes(offsets)
	} else {
		off := make([]int32, len(offsets))
		for i, o := range offsets {
			off[i] = int32(o)
		}
		raw = arrow.Int32Traits.CastToBytes(off)
	}
	bm, nulls := g.bitmap(valid)
	return g.makeArray(dt, len(offsets)-1, []*memory.Buffer{bm, g.buffer(raw)}, []arrow.Array{child}, nulls, 0, nil)
}

// lengths returns n random list lengths in [0, maxLen], with at least one 0
// when n > 2.
func (g *gen) lengths(n, maxLen int) []int {
	l := make([]int, n)
	for i := range l {
		l[i] = g.rng.IntN(maxLen + 1)
	}
	if n > 2 {
		l[2] = 0
	}
	return l
}

// offsetsOf turns lengths into offsets starting at start.
func offsetsOf(start int64, lengths []int) []int64 {
	off := make([]int64, len(lengths)+1)
	off[0] = start
	for i, l := range lengths {
		off[i+1] = off[i] + int64(l)
	}
	return off
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

// fixedSizeList builds a fixed_size_list array of len(valid) rows (or n rows
// when valid is nil) over child.
func (g *gen) fixedSizeList(dt arrow.DataType, n int, valid []bool, child arrow.Array) arrow.Array {
	bm, nulls := g.bitmap(valid)
	return g.makeArray(dt, n, []*memory.Buffer{bm}, []arrow.Array{child}, nulls, 0, nil)
}

// structArray builds a struct array of n rows over children (each at least
// n long).
func (g *gen) structArray(dt arrow.DataType, n int, valid []bool, children ...arrow.Array) arrow.Array {
	bm, nulls := g.bitmap(valid)
	return g.makeArray(dt, n, []*memory.Buffer{bm}, children, nulls, 0, nil)
}

// dictionary builds a dictionary array from indices (of the index type's Go
// type) and dict.
func dictionary[T any](g *gen, dt *arrow.DictionaryType, indices []T, valid []bool, dict arrow.Array) arrow.Array {
	var z T
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(indices))), len(indices)*int(unsafe.Sizeof(z)))
	bm, nulls := g.bitmap(valid)
	return g.makeArray(dt, len(indices), []*memory.Buffer{bm, g.buffer(raw)}, nil, nulls, 0, dict)
}

// slice returns arr[i:j] and releases arr.
func slice(arr arrow.Array, i, j int) arrow.Array {
	s := array.NewSlice(arr, int64(i), int64(j))
	arr.Release()
	return s
}
