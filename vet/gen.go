package vet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/manifest"
)

// The robustness sweep.
//
// From the manifest's inputs vet builds batches in variants: a variant fixes
// the sizes of the symbolic tensor dimensions and the type alternative of
// each column, so that every batch of a variant has one schema (a pool's
// output schema is fixed by its first batch, spec §5.2). Each variant gets
// a fresh UDF. Variants:
//
//   - typical: dims of random sizes in [2, MaxDim]; batches of every class
//     but long (empty, one_row, random, nulls, extreme, large);
//   - tiny: every symbolic dim 1; one_row, random and nulls, with the
//     second type alternative of each column that has one;
//   - long: dims as large as the element budget allows; the long class
//     (long strings and lists, big tensors), two rows;
//   - one more typical variant per further type alternative.
//
// Every batch starts with an extra column "_vet_row" (int64, the row
// number): a UDF must tolerate columns it does not use. Nulls are top-level
// only (nulls class, nullable inputs; row 0 is always null); nested values
// are never null.

// sizes bound a sweep; see SweepSmall and SweepFull.
type sizes struct {
	rows      int // rows of a random or nulls batch
	largeRows int // rows of a large batch
	maxDim    int // typical symbolic dims are in [2, maxDim]
	longElems int // elements of a long list, bytes of a long string
	tensorMax int // elements of one tensor in the long variant
	bytes     int // bytes of one batch, about
}

// Sweep sizes. SweepSmall is what the library's tests use under -race;
// SweepFull is the default of `wasinfer udf vet`.
var (
	SweepSmall = Sweep{sizes{rows: 16, largeRows: 512, maxDim: 24, longElems: 8 << 10, tensorMax: 128 << 10, bytes: 4 << 20}}
	SweepFull  = Sweep{sizes{rows: 64, largeRows: 4096, maxDim: 64, longElems: 64 << 10, tensorMax: 1 << 20, bytes: 32 << 20}}
)

// Sweep is a size of the robustness sweep.
type Sweep struct{ s sizes }

// variant is one schema of the sweep.
type variant struct {
	name    string
	dims    map[string]int
	alts    []int // per input: index of the type alternative
	classes []string
}

// sweepBatch is one generated batch.
type sweepBatch struct {
	variant string
	class   string
	rec     arrow.RecordBatch
	carries map[string]bool // input columns that hold the class's values
}

func (b sweepBatch) label() string {
	return fmt.Sprintf("%s/%s (%d rows)", b.variant, b.class, b.rec.NumRows())
}

type inputSpec struct {
	col   manifest.Column
	name  string // the column's name under the sweep's configuration
	types []*manifest.Type
}

// plan lists the variants for the inputs.
func plan(inputs []inputSpec, s sizes, rng *rand.Rand) []variant {
	names := map[string]bool{}
	maxAlts := 1
	for _, in := range inputs {
		maxAlts = max(maxAlts, len(in.types))
		for _, t := range in.types {
			symbolicDims(t, names)
		}
	}
	dims := func(f func(string) int) map[string]int {
		d := map[string]int{}
		for _, n := range sortedKeys(names) {
			d[n] = f(n)
		}
		return d
	}
	alt := func(k int) []int {
		a := make([]int, len(inputs))
		for i, in := range inputs {
			a[i] = min(k, len(in.types)-1)
		}
		return a
	}
	typical := dims(func(string) int { return 2 + rng.IntN(s.maxDim-1) })
	vs := []variant{
		{name: "typical", dims: typical, alts: alt(0), classes: []string{manifest.ClassEmpty, manifest.ClassOneRow, manifest.ClassRandom, manifest.ClassNulls, manifest.ClassExtreme, manifest.ClassLarge}},
		{name: "tiny", dims: dims(func(string) int { return 1 }), alts: alt(1), classes: []string{manifest.ClassOneRow, manifest.ClassRandom, manifest.ClassNulls}},
	}
	long := longDims(inputs, names, s.tensorMax)
	vs = append(vs, variant{name: "long", dims: long, alts: alt(0), classes: []string{manifest.ClassLong}})
	for k := 2; k < maxAlts; k++ {
		vs = append(vs, variant{name: fmt.Sprintf("alternative%d", k), dims: typical, alts: alt(k), classes: []string{manifest.ClassOneRow, manifest.ClassRandom, manifest.ClassNulls}})
	}
	return vs
}

// longDims gives every symbolic dim the largest size that keeps each tensor
// within tensorMax elements, at most 4096.
func longDims(inputs []inputSpec, names map[string]bool, tensorMax int) map[string]int {
	d := map[string]int{}
	for n := range names {
		d[n] = 4096
	}
	for _, in := range inputs {
		for _, t := range in.types {
			walkTensors(t, func(tt *manifest.Type) {
				fixed, k := 1, 0
				for _, dim := range tt.Dims {
					if dim.Name == "" {
						fixed *= dim.Size
					} else {
						k++
					}
				}
				if k == 0 {
					return
				}
				s := int(math.Floor(math.Pow(float64(tensorMax)/float64(fixed), 1/float64(k))))
				s = max(s, 1)
				for _, dim := range tt.Dims {
					if dim.Name != "" {
						d[dim.Name] = min(d[dim.Name], s)
					}
				}
			})
		}
	}
	return d
}

func walkTensors(t *manifest.Type, f func(*manifest.Type)) {
	if t == nil {
		return
	}
	if t.Kind == "tensor" {
		f(t)
	}
	walkTensors(t.Elem, f)
	walkTensors(t.Key, f)
	for _, fl := range t.Fields {
		walkTensors(fl.Type, f)
	}
}

func symbolicDims(t *manifest.Type, names map[string]bool) {
	walkTensors(t, func(tt *manifest.Type) {
		for _, d := range tt.Dims {
			if d.Name != "" {
				names[d.Name] = true
			}
		}
	})
}

// gen builds the columns of sweep batches.
type gen struct {
	mem memory.Allocator
	rng *rand.Rand
	s   sizes
}

// mode is how values are chosen.
type mode int

const (
	modeTypical mode = iota
	modeExtreme
	modeLong
)

// build makes one batch of class for variant v.
func (g *gen) build(v variant, inputs []inputSpec, class string) (sweepBatch, error) {
	rows, m := 0, modeTypical
	switch class {
	case manifest.ClassEmpty:
	case manifest.ClassOneRow:
		rows = 1
	case manifest.ClassRandom, manifest.ClassNulls:
		rows = g.s.rows
	case manifest.ClassExtreme:
		rows, m = g.s.rows, modeExtreme
	case manifest.ClassLong:
		rows, m = 2, modeLong
	case manifest.ClassLarge:
		rows = g.s.largeRows
	}
	types := make([]arrow.DataType, len(inputs))
	rowBytes := 8
	for i, in := range inputs {
		dt, err := arrowType(in.types[v.alts[i]], v.dims)
		if err != nil {
			return sweepBatch{}, fmt.Errorf("input %q: %w", in.col.Name, err)
		}
		types[i] = dt
		rowBytes += estimateBytes(dt, g.s, m)
	}
	if rows*rowBytes > g.s.bytes {
		rows = max(1, g.s.bytes/rowBytes)
	}
	fields := []arrow.Field{{Name: "_vet_row", Type: arrow.PrimitiveTypes.Int64}}
	cols := []arrow.Array{}
	ids := array.NewInt64Builder(g.mem)
	for r := range rows {
		ids.Append(int64(r))
	}
	cols = append(cols, ids.NewArray())
	ids.Release()
	carries := map[string]bool{}
	for i, in := range inputs {
		nulls := class == manifest.ClassNulls && in.col.Nullable
		b := array.NewBuilder(g.mem, storageOf(types[i]))
		for r := range rows {
			if nulls && (r == 0 || g.rng.IntN(4) == 0) {
				g.appendNull(b)
				continue
			}
			if err := g.value(b, in.types[v.alts[i]], types[i], m, r); err != nil {
				b.Release()
				releaseAll(cols)
				return sweepBatch{}, fmt.Errorf("input %q: %w", in.col.Name, err)
			}
		}
		a := b.NewArray()
		b.Release()
		if et, ok := types[i].(arrow.ExtensionType); ok {
			ext := array.NewExtensionArrayWithStorage(et, a)
			a.Release()
			a = ext
		}
		cols = append(cols, a)
		fields = append(fields, arrow.Field{Name: in.name, Type: types[i], Nullable: in.col.Nullable})
		switch class {
		case manifest.ClassNulls:
			carries[in.col.Name] = nulls
		case manifest.ClassLong:
			carries[in.col.Name] = hasLength(types[i])
		default:
			carries[in.col.Name] = true
		}
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(rows))
	releaseAll(cols)
	return sweepBatch{variant: v.name, class: class, rec: rec, carries: carries}, nil
}

func releaseAll(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

func storageOf(dt arrow.DataType) arrow.DataType {
	if et, ok := dt.(arrow.ExtensionType); ok {
		return et.StorageType()
	}
	return dt
}

// hasLength: strings, lists and tensors, the types the long class stretches.
func hasLength(dt arrow.DataType) bool {
	switch storageOf(dt).ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY, arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.STRUCT:
		return true
	}
	return false
}

// estimateBytes is about the bytes one row of dt takes.
func estimateBytes(dt arrow.DataType, s sizes, m mode) int {
	switch t := storageOf(dt).(type) {
	case *arrow.FixedSizeListType:
		return int(t.Len()) * estimateBytes(t.Elem(), s, m)
	case *arrow.ListType:
		n := 8
		if m == modeLong {
			n = s.longElems
		}
		return 4 + n*estimateBytes(t.Elem(), s, m)
	case *arrow.LargeListType:
		n := 8
		if m == modeLong {
			n = s.longElems
		}
		return 8 + n*estimateBytes(t.Elem(), s, m)
	case *arrow.StructType:
		n := 0
		for _, f := range t.Fields() {
			n += estimateBytes(f.Type, s, m)
		}
		return n
	case arrow.FixedWidthDataType:
		return max(1, t.BitWidth()/8)
	}
	if m == modeLong {
		return s.longElems
	}
	return 32
}

// appendNull appends a null row; a fixed_size_list null owns zeroed
// children (not null ones), as an image reader's would.
func (g *gen) appendNull(b array.Builder) {
	if fb, ok := b.(*array.FixedSizeListBuilder); ok {
		fb.AppendValues([]bool{false})
		n := int(fb.Type().(*arrow.FixedSizeListType).Len())
		child := fb.ValueBuilder()
		for range n {
			child.AppendEmptyValue()
		}
		return
	}
	b.AppendNull()
}

var extremeFloats = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1, -1, 1e-30, 3e38}
var extremeFloat64s = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1, -1, 1e-300, 1e308}

var extremeStrings = []string{"", "\x00", " ", "\t\n\r", "\u200b", "é", "e\u0301", "日本語", "\U0001F600\U0001F44D\U0001F3FD", "{\"a\": [1, \"x\"]}", "\"", "\\", ",;|\x7f", strings.Repeat("a", 300), "ǅ İ ß ﬁ Σ", "\u00a0\u2028\u3000", "[UNK]", "##"}

var words = []string{"the", "quick", "Brown", "fox", "jumps", "over", "lazy", "dog", "naïve", "café", "Straße", "日本", "😀", "don't", "U.S.A.", "42", "3.14", "e-mail", "hello,", "world!", "(x)", "a\tb", "tokenization", "unaffable"}

// value appends one non-null value of type t (Arrow type dt) to b. r is
// the row number, used to cycle through extreme values.
func (g *gen) value(b array.Builder, t *manifest.Type, dt arrow.DataType, m mode, r int) error {
	rng := g.rng
	dt = storageOf(dt)
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		bb.Append(rng.IntN(2) == 1)
	case *array.Int8Builder:
		bb.Append(int8(g.intValue(m, r, math.MinInt8, math.MaxInt8)))
	case *array.Int16Builder:
		bb.Append(int16(g.intValue(m, r, math.MinInt16, math.MaxInt16)))
	case *array.Int32Builder:
		bb.Append(int32(g.intValue(m, r, math.MinInt32, math.MaxInt32)))
	case *array.Int64Builder:
		bb.Append(g.intValue(m, r, math.MinInt64, math.MaxInt64))
	case *array.Uint8Builder:
		bb.Append(uint8(g.uintValue(m, r, math.MaxUint8)))
	case *array.Uint16Builder:
		bb.Append(uint16(g.uintValue(m, r, math.MaxUint16)))
	case *array.Uint32Builder:
		bb.Append(uint32(g.uintValue(m, r, math.MaxUint32)))
	case *array.Uint64Builder:
		bb.Append(g.uintValue(m, r, math.MaxUint64))
	case *array.Float16Builder:
		bb.Append(float16.New(float32(g.floatValue(m, r, extremeFloats))))
	case *array.Float32Builder:
		bb.Append(float32(g.floatValue(m, r, extremeFloats)))
	case *array.Float64Builder:
		bb.Append(g.floatValue(m, r, extremeFloat64s))
	case *array.StringBuilder:
		bb.Append(g.text(m, r))
	case *array.LargeStringBuilder:
		bb.Append(g.text(m, r))
	case *array.BinaryBuilder:
		bb.Append(g.bytes(m, r))
	case *array.FixedSizeBinaryBuilder:
		v := make([]byte, dt.(*arrow.FixedSizeBinaryType).ByteWidth)
		for i := range v {
			v[i] = byte(rng.Uint32())
		}
		bb.Append(v)
	case *array.Date32Builder:
		bb.Append(arrow.Date32(g.intValue(m, r, -719162, 2932896)))
	case *array.Date64Builder:
		bb.Append(arrow.Date64(g.intValue(m, r, -719162, 2932896) * 86400000))
	case *array.Time32Builder:
		day := int64(86400)
		if dt.(*arrow.Time32Type).Unit == arrow.Millisecond {
			day *= 1000
		}
		bb.Append(arrow.Time32(g.intValue(m, r, 0, day-1)))
	case *array.Time64Builder:
		day := int64(86400_000_000)
		if dt.(*arrow.Time64Type).Unit == arrow.Nanosecond {
			day *= 1000
		}
		bb.Append(arrow.Time64(g.intValue(m, r, 0, day-1)))
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(g.intValue(m, r, math.MinInt64, math.MaxInt64)))
	case *array.DurationBuilder:
		bb.Append(arrow.Duration(g.intValue(m, r, math.MinInt64, math.MaxInt64)))
	case *array.ListBuilder:
		return g.list(bb, bb.ValueBuilder(), t, dt.(*arrow.ListType).Elem(), m, r)
	case *array.LargeListBuilder:
		return g.list(bb, bb.ValueBuilder(), t, dt.(*arrow.LargeListType).Elem(), m, r)
	case *array.FixedSizeListBuilder:
		bb.Append(true)
		st := dt.(*arrow.FixedSizeListType)
		elem := t.Elem
		if t.Kind == "tensor" {
			elem = t.Elem
		}
		vm := m
		if vm == modeLong {
			vm = modeTypical
		}
		for i := range int(st.Len()) {
			if err := g.value(bb.ValueBuilder(), elem, st.Elem(), vm, r*int(st.Len())+i); err != nil {
				return err
			}
		}
	case *array.StructBuilder:
		bb.Append(true)
		st := dt.(*arrow.StructType)
		for i, f := range t.Fields {
			if err := g.value(bb.FieldBuilder(i), f.Type, st.Field(i).Type, m, r); err != nil {
				return err
			}
		}
	case *array.BinaryDictionaryBuilder:
		return bb.AppendString(words[rng.IntN(len(words))])
	default:
		return fmt.Errorf("the sweep cannot generate values of type %s (a vet limitation)", t)
	}
	return nil
}

func (g *gen) list(lb array.ListLikeBuilder, vb array.Builder, t *manifest.Type, elem arrow.DataType, m mode, r int) error {
	lb.Append(true)
	n := g.rng.IntN(9)
	vm := m
	switch m {
	case modeLong:
		n, vm = g.s.longElems/max(1, estimateBytes(elem, g.s, modeTypical)), modeTypical
	case modeExtreme:
		n = r % 12 // includes empty lists
	}
	for i := range n {
		if err := g.value(vb, t.Elem, elem, vm, r*16+i); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) intValue(m mode, r int, lo, hi int64) int64 {
	if m == modeExtreme {
		switch r % 5 {
		case 0:
			return lo
		case 1:
			return hi
		case 2:
			return 0
		case 3:
			return max(lo, -1)
		}
		return 1
	}
	if lo == math.MinInt64 && hi == math.MaxInt64 {
		return int64(g.rng.Uint64())
	}
	return lo + g.rng.Int64N(hi-lo+1)
}

func (g *gen) uintValue(m mode, r int, hi uint64) uint64 {
	if m == modeExtreme {
		switch r % 3 {
		case 0:
			return 0
		case 1:
			return hi
		}
		return 1
	}
	if hi == math.MaxUint64 {
		return g.rng.Uint64()
	}
	return g.rng.Uint64N(hi + 1)
}

func (g *gen) floatValue(m mode, r int, extremes []float64) float64 {
	if m == modeExtreme {
		return extremes[r%len(extremes)]
	}
	return g.rng.NormFloat64() * 4
}

func (g *gen) text(m mode, r int) string {
	switch m {
	case modeExtreme:
		return extremeStrings[r%len(extremeStrings)]
	case modeLong:
		var b strings.Builder
		for b.Len() < g.s.longElems {
			b.WriteString(words[g.rng.IntN(len(words))])
			b.WriteByte(" \n,."[g.rng.IntN(4)])
		}
		return b.String()
	}
	n := g.rng.IntN(7)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = words[g.rng.IntN(len(words))]
	}
	return strings.Join(parts, " ")
}

func (g *gen) bytes(m mode, r int) []byte {
	n := g.rng.IntN(24)
	switch m {
	case modeLong:
		n = g.s.longElems
	case modeExtreme:
		return []byte(extremeStrings[r%len(extremeStrings)] + "\xff\xfe")
	}
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(g.rng.Uint32())
	}
	return v
}
