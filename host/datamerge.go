package host

import (
	"errors"
	"slices"
)

// Merging data segments.
//
// Go's linker writes a module's initial memory as one data segment per run
// of non-zero bytes: the 5.3 MB Go identity guest has 65 297 of them, most
// two bytes long and 18 bytes apart. wazero decodes, validates and copies
// each one on every Load, warm cache or not, and that per-segment work was
// about a sixth of a warm Load (host/BENCHMARKS-host.md). So the guard also
// merges runs of such segments whose gaps are at most maxDataGap bytes into
// one segment, writing the zeros of the gaps: about 650 KB more data for
// 164 segments instead of 65 297.
//
// The result is the same memory, because:
//   - only active segments of memory 0 at an i32.const offset are merged,
//     and only two that are next to each other both in segment order and
//     in address order (no other segment starts between them), so the zeros
//     written cover no byte that another segment writes;
//   - nothing is merged when any two such segments overlap, when the memory
//     is imported (its bytes need not be zero), or when the module has a
//     data count section: without one no instruction can name a data
//     segment (memory.init and data.drop need it), so renumbering them
//     changes nothing;
//   - a merged segment ends where its last part ended: it is out of bounds
//     (and instantiation fails) exactly when one of its parts was.

// maxDataGap is the most zero bytes a merge writes between two segments.
const maxDataGap = 32

// dataSegment is one segment of a data section: raw is its encoding;
// offset and data are set when it is an active segment of memory 0 at a
// constant offset (mergeable).
type dataSegment struct {
	raw       []byte
	mergeable bool
	offset    uint32
	data      []byte
}

// mergeData returns a data section body (at byte base of the module) with
// runs of mergeable segments merged, or body itself when nothing merges.
func mergeData(body []byte, base int) ([]byte, error) {
	segs, err := dataSegments(body, base)
	if err != nil {
		return nil, err
	}
	// Address order of the mergeable segments; none may overlap.
	var order []int
	for i, s := range segs {
		if s.mergeable {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(int64(segs[a].offset) - int64(segs[b].offset)) })
	next := make(map[int]int, len(order)) // segment -> the one after it in address order
	for k := 1; k < len(order); k++ {
		a, b := segs[order[k-1]], segs[order[k]]
		if uint64(a.offset)+uint64(len(a.data)) > uint64(b.offset) {
			return body, nil
		}
		next[order[k-1]] = order[k]
	}
	type run struct {
		first  int    // segment index of its first part
		last   int    // and of its last
		offset uint32 // where it starts
		end    uint64 // where it ends
		parts  []int
	}
	var runs []run
	merged := false
	for i, s := range segs {
		if n := len(runs); n > 0 && s.mergeable {
			r := &runs[n-1]
			if segs[r.last].mergeable {
				if j, ok := next[r.last]; ok && j == i && uint64(s.offset)-r.end <= maxDataGap {
					r.parts = append(r.parts, i)
					r.last, r.end = i, uint64(s.offset)+uint64(len(s.data))
					merged = true
					continue
				}
			}
		}
		runs = append(runs, run{first: i, last: i, offset: s.offset, end: uint64(s.offset) + uint64(len(s.data)), parts: []int{i}})
	}
	if !merged {
		return body, nil
	}
	out := make([]byte, 0, len(body)+len(body)/2)
	out = appendUleb(out, uint64(len(runs)))
	for _, r := range runs {
		if len(r.parts) == 1 {
			out = append(out, segs[r.first].raw...)
			continue
		}
		out = append(out, 0x00, 0x41) // active, memory 0, i32.const
		out = appendSleb(out, int64(int32(r.offset)))
		out = append(out, 0x0b)
		out = appendUleb(out, r.end-uint64(r.offset))
		at := uint64(r.offset)
		for _, i := range r.parts {
			s := segs[i]
			out = append(out, make([]byte, uint64(s.offset)-at)...)
			out = append(out, s.data...)
			at = uint64(s.offset) + uint64(len(s.data))
		}
	}
	return out, nil
}

// dataSegments decodes a data section body.
func dataSegments(body []byte, base int) ([]dataSegment, error) {
	r := &reader{b: body, base: base}
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(body)) {
		return nil, r.errorf("%d data segments in a section of %d bytes", n, len(body))
	}
	segs := make([]dataSegment, 0, n)
	for range n {
		start := r.p
		form, err := r.u32()
		if err != nil {
			return nil, err
		}
		s := dataSegment{}
		switch form {
		case 0, 2:
		case 1:
		default:
			r.p = start
			return nil, r.errorf("data segment form %d", form)
		}
		memory := uint32(0)
		if form == 2 {
			if memory, err = r.u32(); err != nil {
				return nil, err
			}
		}
		if form != 1 {
			exprAt := r.p
			if err := r.constExpr(); err != nil {
				return nil, err
			}
			if off, ok := i32Const(body[exprAt:r.p]); ok && memory == 0 {
				s.mergeable, s.offset = true, off
			}
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		dataAt := r.p
		if err := r.skip(int(size)); err != nil {
			return nil, err
		}
		s.data = body[dataAt:r.p]
		s.raw = body[start:r.p]
		segs = append(segs, s)
	}
	if r.p != len(body) {
		return nil, r.errorf("%d bytes after the last data segment", len(body)-r.p)
	}
	return segs, nil
}

// i32Const returns c when expr is exactly `i32.const c; end`, as the
// unsigned address it is as an offset.
func i32Const(expr []byte) (uint32, bool) {
	if len(expr) < 3 || expr[0] != 0x41 || expr[len(expr)-1] != 0x0b {
		return 0, false
	}
	v, n, err := sleb(expr[1 : len(expr)-1])
	if err != nil || n != len(expr)-2 || v < -1<<31 || v >= 1<<31 {
		return 0, false
	}
	return uint32(int32(v)), true
}

// sleb decodes a signed LEB128 integer of at most 64 bits.
func sleb(b []byte) (int64, int, error) {
	var v int64
	for i := 0; i < 10 && i < len(b); i++ {
		c := b[i]
		v |= int64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if shift := 7 * (i + 1); shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("truncated or too long signed LEB128")
}
