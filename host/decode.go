package host

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/abi"
)

// outputReader validates a guest's output tree (spec §6) and then copies it
// into Go-owned Arrow memory. Validation reads guest memory only; nothing is
// allocated for output data until the whole tree has passed.
//
// An instance keeps one outputReader and reuses it (reset), so that the
// nodes of the array tree are not allocated again for every batch.
type outputReader struct {
	mem      []byte // the guest's whole linear memory, read-only here
	nodes    int    // schema nodes visited (a DAG or cycle counts every visit)
	bytes    int64  // bytes the copy will allocate
	maxBytes int64
	arrays   []*cArray // every node ever made; arrays[:used] are this batch's
	used     int
	cached   bool // build copies in chunks (copy.go)
}

// reset prepares r for the next batch.
func (r *outputReader) reset(mem []byte, maxBytes int64) {
	r.mem, r.maxBytes, r.nodes, r.bytes, r.used, r.cached = mem, maxBytes, 0, 0, 0, false
}

// newArray returns a cleared node, reusing one of an earlier batch.
func (r *outputReader) newArray() *cArray {
	if r.used == len(r.arrays) {
		r.arrays = append(r.arrays, new(cArray))
	}
	a := r.arrays[r.used]
	r.used++
	*a = cArray{children: a.children[:0]}
	return a
}

// cSchema is a validated ArrowSchema. A tree of them is immutable once
// built, so the fixed output schema's tree is shared by every instance.
type cSchema struct {
	format   abi.Format
	field    arrow.Field
	children []*cSchema
	dict     *cSchema
	// What sameSchema compares: the raw name, flags and metadata encoding
	// (nil when the pointer was NULL).
	name    string
	flags   int64
	rawMeta []byte
	// path names the node's array in errors ("a.b", "c<dictionary>").
	path string
}

// setPaths names the arrays of the tree below s, whose own path is path.
func (s *cSchema) setPaths(path string) {
	s.path = path
	for _, c := range s.children {
		c.setPaths(join(path, c.field.Name))
	}
	if s.dict != nil {
		s.dict.setPaths(path + "<dictionary>")
	}
}

// cArray is a validated ArrowArray restricted to the rows the host copies:
// [start, start+n) counted from the start of its buffers.
type cArray struct {
	start, n int64
	nulls    int64
	buffers  [3]uint32 // the first format.NBuffers() are set
	children []*cArray
	dict     *cArray
	// offsets arrays: entry width and the value range [lo, hi) the rows cover.
	ow, lo, hi int64
}

type badOutput struct {
	path string
	msg  string
}

func (e *badOutput) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "column " + strconv.Quote(e.path) + ": " + e.msg
}

func bad(path, format string, args ...any) error {
	return &badOutput{path: path, msg: fmt.Sprintf(format, args...)}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// span checks that [p, p+n) lies inside linear memory.
func (r *outputReader) span(p uint32, n int64) bool {
	return n >= 0 && int64(p)+n <= int64(len(r.mem))
}

func (r *outputReader) u32(p uint32) uint32 { return binary.LittleEndian.Uint32(r.mem[p:]) }
func (r *outputReader) i64(p uint32) int64  { return int64(binary.LittleEndian.Uint64(r.mem[p:])) }

func (r *outputReader) cstring(p uint32, limit int, what, path string) (string, error) {
	if p == 0 {
		return "", nil
	}
	if int64(p) >= int64(len(r.mem)) {
		return "", bad(path, "%s pointer %#x outside memory (%d bytes)", what, p, len(r.mem))
	}
	end := min(int64(p)+int64(limit)+1, int64(len(r.mem)))
	for i := int64(p); i < end; i++ {
		if r.mem[i] == 0 {
			return string(r.mem[p:i]), nil
		}
	}
	return "", bad(path, "%s at %#x not NUL-terminated within %d bytes", what, p, limit)
}

// metadata decodes the metadata at p; raw is a copy of its encoding (nil
// when p is NULL).
func (r *outputReader) metadata(p uint32, path string) (md arrow.Metadata, raw []byte, err error) {
	if p == 0 {
		return arrow.Metadata{}, nil, nil
	}
	if !r.span(p, 4) {
		return arrow.Metadata{}, nil, bad(path, "metadata pointer %#x outside memory", p)
	}
	count := int64(int32(r.u32(p)))
	if count < 0 || count > abi.MaxMetadataBytes/8 {
		return arrow.Metadata{}, nil, bad(path, "metadata has %d pairs", count)
	}
	keys, vals := make([]string, 0, count), make([]string, 0, count)
	pos, total := int64(p)+4, int64(4)
	next := func() (string, error) {
		if !r.span(uint32(pos), 4) {
			return "", bad(path, "metadata runs past the end of memory")
		}
		n := int64(int32(r.u32(uint32(pos))))
		total += 4 + n
		if n < 0 || total > abi.MaxMetadataBytes {
			return "", bad(path, "metadata entry of %d bytes (limit %d in all)", n, abi.MaxMetadataBytes)
		}
		if !r.span(uint32(pos+4), n) {
			return "", bad(path, "metadata runs past the end of memory")
		}
		s := string(r.mem[pos+4 : pos+4+n])
		pos += 4 + n
		return s, nil
	}
	for range count {
		k, err := next()
		if err != nil {
			return arrow.Metadata{}, nil, err
		}
		v, err := next()
		if err != nil {
			return arrow.Metadata{}, nil, err
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return arrow.NewMetadata(keys, vals), append([]byte(nil), r.mem[p:pos]...), nil
}

// schema validates the ArrowSchema at p and builds its field.
func (r *outputReader) schema(p uint32, depth int, path string) (*cSchema, error) {
	if depth > abi.MaxDepth {
		return nil, bad(path, "nesting deeper than %d levels (a cycle in children?)", abi.MaxDepth)
	}
	if r.nodes++; r.nodes > abi.MaxSchemaNodes {
		return nil, bad(path, "more than %d schema nodes", abi.MaxSchemaNodes)
	}
	if p == 0 || !r.span(p, abi.SchemaSize) {
		return nil, bad(path, "schema pointer %#x outside memory (%d bytes)", p, len(r.mem))
	}
	format, err := r.cstring(r.u32(p+abi.SchemaFormat), abi.MaxFormatLen, "format", path)
	if err != nil {
		return nil, err
	}
	if r.u32(p+abi.SchemaFormat) == 0 {
		return nil, bad(path, "format is NULL")
	}
	name, err := r.cstring(r.u32(p+abi.SchemaName), abi.MaxNameLen, "name", path)
	if err != nil {
		return nil, err
	}
	if depth > 0 {
		path = join(path, name)
	}
	md, rawMeta, err := r.metadata(r.u32(p+abi.SchemaMetadata), path)
	if err != nil {
		return nil, err
	}
	f, err := abi.ParseFormat(format)
	if err != nil {
		return nil, bad(path, "%v", err)
	}
	flags := r.i64(p + abi.SchemaFlags)
	nkids := r.i64(p + abi.SchemaNChildren)
	want := -1
	switch f.Kind {
	case abi.KindList, abi.KindLargeList, abi.KindFixedSizeList, abi.KindMap:
		want = 1
	case abi.KindStruct:
	default:
		want = 0
	}
	if nkids < 0 || nkids > abi.MaxColumns || (want >= 0 && nkids != int64(want)) {
		return nil, bad(path, "format %q with n_children %d", format, nkids)
	}
	s := &cSchema{format: f, name: name, flags: flags, rawMeta: rawMeta}
	kp := r.u32(p + abi.SchemaChildren)
	if nkids > 0 && !r.span(kp, 4*nkids) {
		return nil, bad(path, "children pointer %#x outside memory", kp)
	}
	fields := make([]arrow.Field, nkids)
	for i := range nkids {
		c, err := r.schema(r.u32(kp+uint32(4*i)), depth+1, path)
		if err != nil {
			return nil, err
		}
		s.children = append(s.children, c)
		fields[i] = c.field
	}
	dt, err := typeOf(f, fields, flags)
	if err != nil {
		return nil, bad(path, "%v", err)
	}
	if dp := r.u32(p + abi.SchemaDictionary); dp != 0 {
		if !f.Integer {
			return nil, bad(path, "dictionary with index format %q (want an integer type)", format)
		}
		if s.dict, err = r.schema(dp, depth+1, path+"<dictionary>"); err != nil {
			return nil, err
		}
		dt = &arrow.DictionaryType{IndexType: dt, ValueType: s.dict.field.Type, Ordered: flags&abi.FlagDictionaryOrd != 0}
	}
	if name, ok := md.GetValue(abi.ExtensionNameKey); ok {
		if et := arrow.GetExtensionType(name); et != nil {
			serialized, _ := md.GetValue(abi.ExtensionMetaKey)
			ext, err := et.Deserialize(dt, serialized)
			if err != nil {
				return nil, bad(path, "extension %s: %v", name, err)
			}
			dt = ext
			md = withoutKeys(md, abi.ExtensionNameKey, abi.ExtensionMetaKey)
		}
	}
	s.field = arrow.Field{Name: name, Type: dt, Nullable: flags&abi.FlagNullable != 0, Metadata: md}
	if depth == 0 {
		s.setPaths("")
	}
	return s, nil
}

// sameSchema reports whether the ArrowSchema tree at p is, byte for byte,
// the one s was built from: format, name, flags, metadata encoding,
// children and dictionary. It follows s's shape, so a cycle in guest memory
// ends with it, and it reads only bounds-checked memory. A tree that is not
// the same byte for byte may still describe the same schema: the caller then
// builds it (schema) and compares the results.
func (r *outputReader) sameSchema(p uint32, s *cSchema) bool {
	if p == 0 || !r.span(p, abi.SchemaSize) {
		return false
	}
	if !r.sameCString(r.u32(p+abi.SchemaFormat), s.format.Raw) || r.i64(p+abi.SchemaFlags) != s.flags {
		return false
	}
	if np := r.u32(p + abi.SchemaName); (np != 0 || s.name != "") && !r.sameCString(np, s.name) {
		return false
	}
	if mp := r.u32(p + abi.SchemaMetadata); (mp == 0) != (s.rawMeta == nil) || (mp != 0 && !r.sameBytes(mp, s.rawMeta)) {
		return false
	}
	n := int64(len(s.children))
	kp := r.u32(p + abi.SchemaChildren)
	if r.i64(p+abi.SchemaNChildren) != n || (n > 0 && !r.span(kp, 4*n)) {
		return false
	}
	for i, c := range s.children {
		if !r.sameSchema(r.u32(kp+uint32(4*i)), c) {
			return false
		}
	}
	dp := r.u32(p + abi.SchemaDictionary)
	if (dp != 0) != (s.dict != nil) {
		return false
	}
	return s.dict == nil || r.sameSchema(dp, s.dict)
}

// sameBytes reports whether memory at p starts with want.
func (r *outputReader) sameBytes(p uint32, want []byte) bool {
	n := int64(len(want))
	return r.span(p, n) && bytes.Equal(r.mem[p:int64(p)+n], want)
}

// sameCString reports whether p points to want, NUL-terminated.
func (r *outputReader) sameCString(p uint32, want string) bool {
	n := int64(len(want))
	return p != 0 && r.span(p, n+1) && string(r.mem[p:int64(p)+n]) == want && r.mem[int64(p)+n] == 0
}

func withoutKeys(md arrow.Metadata, drop ...string) arrow.Metadata {
	var keys, vals []string
outer:
	for i, k := range md.Keys() {
		for _, d := range drop {
			if k == d {
				continue outer
			}
		}
		keys, vals = append(keys, k), append(vals, md.Values()[i])
	}
	return arrow.NewMetadata(keys, vals)
}

// count adds n bytes to the output size and enforces the limit.
func (r *outputReader) count(path string, n int64) error {
	r.bytes += n
	if r.bytes > r.maxBytes {
		return bad(path, "output larger than the limit of %d bytes", r.maxBytes)
	}
	return nil
}

// array validates the ArrowArray at p for logical rows [lstart, lstart+n).
func (r *outputReader) array(p uint32, s *cSchema, lstart, n int64) (*cArray, error) {
	path := s.path
	if p == 0 || !r.span(p, abi.ArraySize) {
		return nil, bad(path, "array pointer %#x outside memory (%d bytes)", p, len(r.mem))
	}
	length, offset := r.i64(p+abi.ArrayLength), r.i64(p+abi.ArrayOffset)
	nbufs, nkids := r.i64(p+abi.ArrayNBuffers), r.i64(p+abi.ArrayNChildren)
	const maxLen = 1 << 40
	switch {
	case length < 0 || length > maxLen:
		return nil, bad(path, "length %d out of range", length)
	case offset < 0 || offset > maxLen:
		return nil, bad(path, "offset %d out of range", offset)
	case lstart+n > length:
		return nil, bad(path, "length %d shorter than the %d rows its parent needs", length, lstart+n)
	case nbufs != int64(s.format.NBuffers()):
		return nil, bad(path, "format %q needs %d buffers, array has n_buffers %d", s.format.Raw, s.format.NBuffers(), nbufs)
	case nkids != int64(len(s.children)):
		return nil, bad(path, "schema has %d children, array has n_children %d", len(s.children), nkids)
	}
	a := r.newArray()
	a.start, a.n = offset+lstart, n
	bp := r.u32(p + abi.ArrayBuffers)
	if nbufs > 0 && !r.span(bp, 4*nbufs) {
		return nil, bad(path, "buffers pointer %#x outside memory", bp)
	}
	for i := range nbufs {
		a.buffers[i] = r.u32(bp + uint32(4*i))
	}
	kp := r.u32(p + abi.ArrayChildren)
	if nkids > 0 && !r.span(kp, 4*nkids) {
		return nil, bad(path, "children pointer %#x outside memory", kp)
	}
	dp := r.u32(p + abi.ArrayDictionary)
	if (dp != 0) != (s.dict != nil) {
		return nil, bad(path, "dictionary present in only one of schema and array")
	}
	start, end := a.start, a.start+n

	if s.format.Kind == abi.KindNull {
		a.nulls = n
		return a, nil
	}
	if v := a.buffers[0]; v != 0 && n > 0 {
		if !r.span(v, (end+7)/8) {
			return nil, bad(path, "validity buffer %#x outside memory for %d rows", v, end)
		}
		a.nulls = n - int64(bitutil.CountSetBits(r.mem[v:], int(start), int(n)))
		if err := r.count(path, (n+7)/8); err != nil {
			return nil, err
		}
	}
	need := func(i int, size int64, what string) error {
		b := a.buffers[i]
		if size == 0 {
			return nil
		}
		if b == 0 {
			return bad(path, "%s buffer is NULL", what)
		}
		if !r.span(b, size) {
			return bad(path, "%s buffer %#x of %d bytes outside memory (%d bytes)", what, b, size, len(r.mem))
		}
		return nil
	}
	switch s.format.Kind {
	case abi.KindBool:
		if err := need(1, (end+7)/8, "values"); err != nil {
			return nil, err
		}
		if err := r.count(path, (n+7)/8); err != nil {
			return nil, err
		}
	case abi.KindFixed:
		w := int64(s.format.Width)
		if end > math.MaxInt64/w {
			return nil, bad(path, "values buffer size overflows")
		}
		if err := need(1, end*w, "values"); err != nil {
			return nil, err
		}
		if err := r.count(path, n*w); err != nil {
			return nil, err
		}
	case abi.KindBinary, abi.KindLargeBinary, abi.KindList, abi.KindLargeList, abi.KindMap:
		if err := r.offsets(a, s.format, path); err != nil {
			return nil, err
		}
		if s.format.Kind == abi.KindBinary || s.format.Kind == abi.KindLargeBinary {
			if err := need(2, a.hi, "data"); err != nil {
				return nil, err
			}
			if s.format.UTF8 {
				if err := r.utf8(a, path); err != nil {
					return nil, err
				}
			}
			if err := r.count(path, a.hi-a.lo); err != nil {
				return nil, err
			}
			break
		}
		c, err := r.array(r.u32(kp), s.children[0], a.lo, a.hi-a.lo)
		if err != nil {
			return nil, err
		}
		a.children = append(a.children, c)
	case abi.KindFixedSizeList:
		size := s.format.ListSize
		if end > maxLen/size {
			return nil, bad(path, "fixed_size_list child size overflows")
		}
		c, err := r.array(r.u32(kp), s.children[0], start*size, n*size)
		if err != nil {
			return nil, err
		}
		a.children = append(a.children, c)
	case abi.KindStruct:
		for i, cs := range s.children {
			c, err := r.array(r.u32(kp+uint32(4*i)), cs, start, n)
			if err != nil {
				return nil, err
			}
			a.children = append(a.children, c)
		}
	}
	if s.dict != nil {
		if !r.span(dp, abi.ArraySize) {
			return nil, bad(path, "dictionary pointer %#x outside memory", dp)
		}
		dlen := r.i64(dp + abi.ArrayLength)
		if dlen < 0 || dlen > maxLen {
			return nil, bad(path, "dictionary length %d out of range", dlen)
		}
		d, err := r.array(dp, s.dict, 0, dlen)
		if err != nil {
			return nil, err
		}
		a.dict = d
		if err := r.indices(a, s.format, dlen, path); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// offsets checks the offsets of rows [start, start+n]: in memory,
// non-negative, non-decreasing. It records the value range in a.lo, a.hi.
func (r *outputReader) offsets(a *cArray, f abi.Format, path string) error {
	w := int64(4)
	if f.Kind == abi.KindLargeBinary || f.Kind == abi.KindLargeList {
		w = 8
	}
	a.ow = w
	start, end := a.start, a.start+a.n
	p := a.buffers[1]
	if p == 0 {
		if end == 0 {
			return nil
		}
		return bad(path, "offsets buffer is NULL")
	}
	if !r.span(p, (end+1)*w) {
		return bad(path, "offsets buffer %#x of %d entries outside memory (%d bytes)", p, end+1, len(r.mem))
	}
	prev := r.offsetAt(a, start)
	if prev < 0 {
		return bad(path, "offset %d at row %d is negative", prev, start)
	}
	a.lo = prev
	for i := start + 1; i <= end; i++ {
		o := r.offsetAt(a, i)
		if o < prev {
			return bad(path, "offsets not non-decreasing at index %d (%d after %d)", i, o, prev)
		}
		prev = o
	}
	if prev > 1<<40 {
		return bad(path, "offset %d out of range", prev)
	}
	a.hi = prev
	return r.count(path, (a.n+1)*w)
}

// offsetAt reads entry i of a validated offsets buffer.
func (r *outputReader) offsetAt(a *cArray, i int64) int64 {
	q := int64(a.buffers[1]) + i*a.ow
	if a.ow == 8 {
		return int64(binary.LittleEndian.Uint64(r.mem[q:]))
	}
	return int64(int32(binary.LittleEndian.Uint32(r.mem[q:])))
}

// utf8 checks that the covered data is valid UTF-8 and that no value
// boundary falls inside a character.
func (r *outputReader) utf8(a *cArray, path string) error {
	if a.hi == a.lo {
		return nil
	}
	data := r.mem[a.buffers[2]:][a.lo:a.hi]
	if !utf8.Valid(data) {
		return bad(path, "utf8 data is not valid UTF-8")
	}
	for i := a.start + 1; i < a.start+a.n; i++ {
		if o := r.offsetAt(a, i) - a.lo; o < int64(len(data)) && !utf8.RuneStart(data[o]) {
			return bad(path, "utf8 value at row %d starts inside a character", i-a.start)
		}
	}
	return nil
}

// indices checks that every valid dictionary index is within [0, dlen).
func (r *outputReader) indices(a *cArray, f abi.Format, dlen int64, path string) error {
	w := int64(f.Width)
	signed := f.Raw[0] >= 'a' && f.Raw[0] <= 'z'
	base := int64(a.buffers[1])
	v := a.buffers[0]
	for i := a.start; i < a.start+a.n; i++ {
		if v != 0 && a.nulls > 0 && !bitutil.BitIsSet(r.mem[v:], int(i)) {
			continue
		}
		q := base + i*w
		var x int64
		switch w {
		case 1:
			x = int64(r.mem[q])
			if signed {
				x = int64(int8(r.mem[q]))
			}
		case 2:
			u := binary.LittleEndian.Uint16(r.mem[q:])
			x = int64(u)
			if signed {
				x = int64(int16(u))
			}
		case 4:
			u := binary.LittleEndian.Uint32(r.mem[q:])
			x = int64(u)
			if signed {
				x = int64(int32(u))
			}
		default:
			x = int64(binary.LittleEndian.Uint64(r.mem[q:]))
			if !signed && x < 0 {
				x = math.MaxInt64
			}
		}
		if x < 0 || x >= dlen {
			return bad(path, "dictionary index %d at row %d outside the dictionary of %d values", x, i-a.start, dlen)
		}
	}
	return nil
}

// build copies a validated array into new Go memory, with offset 0.
func (r *outputReader) build(a *cArray, s *cSchema, alloc memory.Allocator) arrow.ArrayData {
	n := int(a.n)
	pool, _ := alloc.(*bufferPool)
	// newBuf returns a buffer of size bytes, every one of which the caller
	// overwrites.
	newBuf := func(size int) *memory.Buffer {
		if pool != nil {
			return pool.buffer(size)
		}
		b := memory.NewResizableBuffer(alloc)
		b.Resize(size)
		return b
	}
	var bufs []*memory.Buffer
	defer func() {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}()
	if s.format.Kind == abi.KindNull {
		return array.NewData(s.field.Type, n, []*memory.Buffer{nil}, nil, n, 0)
	}
	bitmap := func(p uint32) *memory.Buffer {
		size := int(bitutil.BytesForBits(int64(n)))
		b := newBuf(size)
		if n > 0 {
			b.Bytes()[size-1] = 0 // CopyBitmap keeps the bits past n
			bitutil.CopyBitmap(r.mem[p:], int(a.start), n, b.Bytes(), 0)
		}
		return b
	}
	var validity *memory.Buffer
	if a.nulls > 0 {
		validity = bitmap(a.buffers[0])
	}
	bufs = append(bufs, validity)
	var children []arrow.ArrayData
	defer func() {
		for _, c := range children {
			c.Release()
		}
	}()
	switch s.format.Kind {
	case abi.KindBool:
		bufs = append(bufs, bitmap(a.buffers[1]))
	case abi.KindFixed:
		w := s.format.Width
		b := newBuf(n * w)
		if n > 0 {
			copyData(b.Bytes(), r.mem[int64(a.buffers[1])+a.start*int64(w):][:n*w], r.cached)
		}
		bufs = append(bufs, b)
	case abi.KindBinary, abi.KindLargeBinary, abi.KindList, abi.KindLargeList, abi.KindMap:
		ow := int(a.ow)
		ob := newBuf((n + 1) * ow)
		dst := ob.Bytes()
		for i := 0; i <= n; i++ {
			var o int64
			if a.buffers[1] != 0 {
				o = r.offsetAt(a, a.start+int64(i)) - a.lo
			}
			if ow == 8 {
				binary.LittleEndian.PutUint64(dst[i*8:], uint64(o))
			} else {
				binary.LittleEndian.PutUint32(dst[i*4:], uint32(o))
			}
		}
		bufs = append(bufs, ob)
		if s.format.Kind == abi.KindBinary || s.format.Kind == abi.KindLargeBinary {
			db := newBuf(int(a.hi - a.lo))
			if a.hi > a.lo {
				copyData(db.Bytes(), r.mem[a.buffers[2]:][a.lo:a.hi], r.cached)
			}
			bufs = append(bufs, db)
			break
		}
		children = append(children, r.build(a.children[0], s.children[0], alloc))
	case abi.KindFixedSizeList, abi.KindStruct:
		for i, c := range a.children {
			children = append(children, r.build(c, s.children[i], alloc))
		}
	}
	if a.dict != nil {
		d := r.build(a.dict, s.dict, alloc)
		defer d.Release()
		return array.NewDataWithDictionary(s.field.Type, n, bufs, int(a.nulls), 0, d.(*array.Data))
	}
	return array.NewData(s.field.Type, n, bufs, children, int(a.nulls), 0)
}
