package host

import (
	"context"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wasinfer/wasinfer/internal/corpus"
)

// TestSizeClass: a class holds its request padded to 64 bytes, wastes at
// most a quarter of it, and a class's capacity is its own class.
func TestSizeClass(t *testing.T) {
	prev := 0
	for n := 1; n < 1<<22; n += 1 + n/97 {
		c, capacity, ok := sizeClass(n)
		padded := (n + 63) &^ 63
		if !ok || capacity < padded || (padded > 64 && capacity > padded+padded/4) {
			t.Fatalf("sizeClass(%d) = class %d, capacity %d, %t", n, c, capacity, ok)
		}
		if c2, cap2, _ := sizeClass(capacity); c2 != c || cap2 != capacity {
			t.Fatalf("sizeClass(%d) = %d, %d; its capacity's class is %d, %d", n, c, capacity, c2, cap2)
		}
		if c < prev || c >= numClasses {
			t.Fatalf("sizeClass(%d) = %d after %d (of %d classes)", n, c, prev, numClasses)
		}
		prev = c
	}
	if _, _, ok := sizeClass(1<<maxPooledShift + 1); ok {
		t.Fatal("a buffer above the largest class is pooled")
	}
}

func dataPtr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// TestBufferPool: released buffers are reused, the pool holds at most its
// limit (dropping the least recently used size first), and every byte goes
// back to the backing allocator by Close or, after Close, on release.
func TestBufferPool(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newBufferPool(mem, 3<<20)

	a := p.buffer(1 << 20)
	first := dataPtr(a.Buf())
	a.Release()
	if p.idleBytes() != 1<<20 {
		t.Fatalf("idle %d after one release, want %d", p.idleBytes(), 1<<20)
	}
	b := p.buffer(1<<20 - 100) // same class
	if dataPtr(b.Buf()) != first || b.Len() != 1<<20-100 {
		t.Fatalf("not reused: len %d", b.Len())
	}
	c := p.buffer(1 << 20)
	d := p.buffer(1 << 20)
	small := p.buffer(1000)
	small.Release()
	b.Release()
	c.Release() // 1 KiB + 2 MiB idle
	d.Release() // would pass the limit: the 1 KiB class goes first
	if got := p.idleBytes(); got != 3<<20 {
		t.Fatalf("idle %d, want %d", got, 3<<20)
	}
	e := p.buffer(4 << 20) // above the limit: never kept
	e.Release()
	if got := p.idleBytes(); got != 3<<20 {
		t.Fatalf("idle %d after a buffer above the limit, want %d", got, 3<<20)
	}

	z := p.Allocate(5000)
	for i, v := range z {
		if v != 0 {
			t.Fatalf("Allocate: byte %d is %d", i, v)
		}
	}
	z = p.Reallocate(9000, z)
	if len(z) != 9000 || z[8999] != 0 {
		t.Fatal("Reallocate")
	}
	p.Free(z)

	live := p.buffer(1 << 20)
	p.close()
	if p.idleBytes() != 0 || mem.CurrentAlloc() != 1<<20 {
		t.Fatalf("after close: idle %d, allocated %d", p.idleBytes(), mem.CurrentAlloc())
	}
	live.Release() // straight back to mem
}

// TestPooledBuffersClean: buffers reused from a pool full of garbage come
// out of the copy with every byte of their length overwritten, their
// padding zeroed and no bit set in a bitmap past its length, so that
// corpus.Equal and arrow-go's full validation hold for every corpus batch.
func TestPooledBuffersClean(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newBufferPool(mem, 64<<20)
	defer p.close()
	for _, c := range corpus.Batches(mem) {
		t.Run(c.Name, func(t *testing.T) {
			defer c.Batch.Release()
			dirty(p)
			buf, s, a := encodeToMemory(t, c.Batch)
			got, err := decodeFromMemory(buf, s, a, p)
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			defer got.Release()
			if err := corpus.Equal(c.Batch, got); err != nil {
				t.Fatal(err)
			}
			for i, col := range got.Columns() {
				if err := validateFull(col); err != nil {
					t.Fatalf("column %d: %v", i, err)
				}
				checkClean(t, got.Schema().Field(i).Name, col.Data())
			}
		})
	}
}

// dirty fills the pool with buffers of every small class, set to 0xff.
func dirty(p *bufferPool) {
	var bufs []*memory.Buffer
	for n := 1; n <= 1<<16; n = n*5/4 + 1 {
		b := p.buffer(n)
		for i := range b.Buf() {
			b.Buf()[i] = 0xff
		}
		bufs = append(bufs, b)
	}
	for _, b := range bufs {
		b.Release()
	}
}

// checkClean fails when a buffer of d has a non-zero byte in its padding,
// or a validity or boolean bitmap a set bit past the array's slots.
func checkClean(t *testing.T, path string, d arrow.ArrayData) {
	t.Helper()
	for i, b := range d.Buffers() {
		if b == nil {
			continue
		}
		for j, v := range b.Buf()[b.Len():] {
			if v != 0 {
				t.Fatalf("%s: buffer %d: padding byte %d is %#x", path, i, b.Len()+j, v)
			}
		}
		bitmap := i == 0 || (i == 1 && d.DataType().ID() == arrow.BOOL)
		if n := d.Offset() + d.Len(); bitmap && b.Len() > 0 && n%8 != 0 {
			if last := b.Bytes()[(n-1)/8]; last>>(n%8) != 0 {
				t.Fatalf("%s: buffer %d: bits past slot %d set (%#08b)", path, i, n, last)
			}
		}
	}
	for i, c := range d.Children() {
		checkClean(t, path+"."+string(rune('0'+i)), c)
	}
	if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
		checkClean(t, path+"<dictionary>", dict)
	}
}

// TestOutputPoolOwnership: with the default pool an output buffer the
// caller releases stays allocated, idle in the pool, until Close; with
// WithOutputPool(0) it goes straight back to the allocator.
func TestOutputPoolOwnership(t *testing.T) {
	ctx := context.Background()
	for _, pooled := range []bool{true, false} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		opts := []Option{WithPoolSize(1), WithAllocator(mem), WithCacheDir(testCacheDir)}
		if !pooled {
			opts = append(opts, WithOutputPool(0))
		}
		u, err := Load(ctx, readGuest(t, cIdentity), opts...)
		if err != nil {
			t.Fatal(err)
		}
		rec := int64Batch(mem, 1<<20)
		in := mem.CurrentAlloc()
		for range 3 {
			out, err := u.Transform(ctx, 0, rec)
			if err != nil {
				t.Fatal(err)
			}
			if err := corpus.Equal(rec, out); err != nil {
				t.Fatal(err)
			}
			out.Release()
		}
		idle := mem.CurrentAlloc() - in
		switch {
		case pooled && (idle < 1<<20 || idle > DefaultOutputPool):
			t.Errorf("pooled: %d bytes idle after the batches were released, want one batch's", idle)
		case !pooled && idle != 0:
			t.Errorf("unpooled: %d bytes still allocated after the batches were released", idle)
		}
		rec.Release()
		if err := u.Close(ctx); err != nil {
			t.Fatal(err)
		}
		mem.AssertSize(t, 0)
	}
}

// TestOutputOutlivesUDF: a batch released after Close gives its memory
// back to the allocator.
func TestOutputOutlivesUDF(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	u, err := Load(ctx, readGuest(t, cIdentity), WithPoolSize(1), WithAllocator(mem), WithCacheDir(testCacheDir))
	if err != nil {
		t.Fatal(err)
	}
	rec := nullableBatch(mem)
	defer rec.Release()
	out, err := u.Transform(ctx, 0, rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := corpus.Equal(rec, out); err != nil {
		t.Fatal(err)
	}
	out.Release()
}

// nullableBatch is an int32 column with nulls and a string column.
func nullableBatch(mem memory.Allocator) arrow.RecordBatch {
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	sb := array.NewStringBuilder(mem)
	defer sb.Release()
	for i := range 1000 {
		if i%7 == 3 {
			ib.AppendNull()
		} else {
			ib.Append(int32(i))
		}
		sb.Append(string(rune('a' + i%26)))
	}
	ic, sc := ib.NewArray(), sb.NewArray()
	defer ic.Release()
	defer sc.Release()
	s := arrow.NewSchema([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	return array.NewRecordBatch(s, []arrow.Array{ic, sc}, 1000)
}
