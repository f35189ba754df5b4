package host

import (
	"cmp"
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

// end is where s stops writing.
func (s dataSegment) end() uint64 { return uint64(s.offset) + uint64(len(s.data)) }

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
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(segs[a].offset, segs[b].offset) })
	next := make(map[int]int, len(order)) // mergeable segment -> the one after it in address order
	for k := 1; k < len(order); k++ {
		if segs[order[k-1]].end() > uint64(segs[order[k]].offset) {
			return body, nil
		}
		next[order[k-1]] = order[k]
	}
	// Runs of segment indices, each to become one segment.
	var runs [][]int
	for i, s := range segs {
		if n := len(runs); n > 0 {
			last := runs[n-1][len(runs[n-1])-1]
			if j, ok := next[last]; ok && j == i && uint64(s.offset)-segs[last].end() <= maxDataGap {
				runs[n-1] = append(runs[n-1], i)
				continue
			}
		}
		runs = append(runs, []int{i})
	}
	if len(runs) == len(segs) {
		return body, nil
	}
	out := make([]byte, 0, len(body)+len(body)/2)
	out = appendUleb(out, uint64(len(runs)))
	for _, run := range runs {
		if len(run) == 1 {
			out = append(out, segs[run[0]].raw...)
			continue
		}
		first, last := segs[run[0]], segs[run[len(run)-1]]
		out = append(out, 0x00, 0x41) // active, memory 0, i32.const
		out = appendSleb(out, int64(int32(first.offset)))
		out = append(out, 0x0b)
		out = appendUleb(out, last.end()-uint64(first.offset))
		at := uint64(first.offset)
		for _, i := range run {
			s := segs[i]
			out = append(out, make([]byte, uint64(s.offset)-at)...)
			out = append(out, s.data...)
			at = s.end()
		}
	}
	return out, nil
}

// dataSegments decodes a data section body.
func dataSegments(body []byte, base int) ([]dataSegment, error) {
	r := &reader{b: body, base: base}
	var segs []dataSegment
	err := r.entries("data segments", maxDataSegments, 2, func(r *reader) error {
		s, err := r.dataSegment()
		segs = append(segs, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	if r.p != len(body) {
		return nil, r.errorf("%d bytes after the last data segment", len(body)-r.p)
	}
	return segs, nil
}

// dataSegment reads one data segment (checkCounts and mergeData).
func (r *reader) dataSegment() (dataSegment, error) {
	start := r.p
	var s dataSegment
	form, err := r.u32()
	if err != nil {
		return s, err
	}
	var memory uint64
	switch form {
	case 0, 1:
	case 2:
		v, n, err := uleb(r.b, r.p)
		if err != nil {
			return s, r.errorf("%v", err)
		}
		r.p += n
		memory = v
	default:
		return s, r.errorf("data segment form %d", form)
	}
	if form != 1 {
		exprAt := r.p
		if err := r.constExpr(); err != nil {
			return s, err
		}
		if off, ok := i32Const(r.b[exprAt:r.p]); ok && memory == 0 {
			s.mergeable, s.offset = true, off
		}
	}
	if s.data, err = r.byteVec("data bytes"); err != nil {
		return s, err
	}
	s.raw = r.b[start:r.p]
	return s, nil
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
