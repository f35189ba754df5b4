package host

import (
	"errors"
	"fmt"
)

// guardCalls returns a copy of a module in which every function body begins
// with an empty `loop end` block.
//
// Why: wazero stops a guest at its deadline by checks it compiles into loop
// headers. A guest with no loops at all (a call tree that doubles at each
// level, or deep recursion that does not overflow) would never reach a check
// and could not be stopped. wazero checks even a loop nothing branches back
// to, so an empty loop at each function's entry makes every call a check
// point. Cost: one check per call (see BenchmarkDeadlineGuard).
//
// The rest of the module is copied byte for byte; only the code section's
// bodies (and their sizes) change.
func guardCalls(wasm []byte) ([]byte, error) {
	const header = 8
	out := make([]byte, 0, len(wasm)+len(wasm)/16)
	out = append(out, wasm[:header]...)
	p := header
	for p < len(wasm) {
		id := wasm[p]
		size, n, err := uleb(wasm, p+1)
		if err != nil {
			return nil, fmt.Errorf("section at byte %d: %w", p, err)
		}
		start := p + 1 + n
		end := start + int(size)
		if end > len(wasm) || end < start {
			return nil, fmt.Errorf("section %d at byte %d runs past the end of the module", id, p)
		}
		if id != 10 { // not the code section
			out = append(out, wasm[p:end]...)
			p = end
			continue
		}
		code, err := guardCode(wasm[start:end])
		if err != nil {
			return nil, fmt.Errorf("code section: %w", err)
		}
		out = append(out, id)
		out = appendUleb(out, uint64(len(code)))
		out = append(out, code...)
		p = end
	}
	return out, nil
}

var emptyLoop = []byte{0x03, 0x40, 0x0b} // loop (empty block type) end

func guardCode(sec []byte) ([]byte, error) {
	count, n, err := uleb(sec, 0)
	if err != nil {
		return nil, err
	}
	out := appendUleb(make([]byte, 0, len(sec)+int(count)*4), count)
	p := n
	for i := range count {
		size, n, err := uleb(sec, p)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		body := p + n
		end := body + int(size)
		if end > len(sec) || end < body {
			return nil, fmt.Errorf("function %d runs past the section", i)
		}
		locals, err := localsEnd(sec[body:end])
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = appendUleb(out, size+uint64(len(emptyLoop)))
		out = append(out, sec[body:body+locals]...)
		out = append(out, emptyLoop...)
		out = append(out, sec[body+locals:end]...)
		p = end
	}
	if p != len(sec) {
		return nil, errors.New("bytes after the last function")
	}
	return out, nil
}

// localsEnd returns the length of a body's local declarations.
func localsEnd(body []byte) (int, error) {
	groups, p, err := uleb(body, 0)
	if err != nil {
		return 0, err
	}
	for range groups {
		_, n, err := uleb(body, p)
		if err != nil {
			return 0, err
		}
		p += n
		if p >= len(body) {
			return 0, errors.New("local declarations run past the body")
		}
		switch t := body[p]; t {
		case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f: // i32 i64 f32 f64 v128 funcref externref
			p++
		default:
			return 0, fmt.Errorf("local of value type %#x is not supported", t)
		}
	}
	return p, nil
}

func uleb(b []byte, p int) (uint64, int, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		if p+i >= len(b) {
			return 0, 0, errors.New("truncated LEB128")
		}
		c := b[p+i]
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("LEB128 too long")
}

func appendUleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}
