package host

import (
	"errors"
	"fmt"
	"math"
)

// Declared counts.
//
// A module declares the length of every vector it holds (types, imports,
// functions, locals, data bytes, names, ...) before its entries, and
// wazero's decoder allocates each vector at its declared length before it
// reads an entry: a module of 30 bytes that declares 2^32 imports, or a
// function of 2^32 - 2 locals (a local group is run-length encoded: a count
// and a type), makes wazero ask for gigabytes at Load, and a Go program that
// cannot get them dies (fatal error: runtime: out of memory), whatever
// recovers it. So every module is checked before wazero sees it
// (prepareModule): each vector of n entries must fit in the bytes left
// (an entry takes at least one byte, most several), and the counts that a
// few bytes can declare without bound (the locals of a function) or that
// cost wazero far more memory per entry than the entry's bytes are capped
// at the implementation limits of the WebAssembly JS API, which every
// browser enforces, so that no module that runs in a browser is refused.
//
// Left to wazero: counts in instructions (br_table targets, select types)
// take a byte each within a function body, so what wazero allocates for
// them is bounded by the module's size (WithMaxModuleBytes).
const (
	maxTypes           = 1_000_000
	maxFunctions       = 1_000_000
	maxImports         = 100_000
	maxExports         = 100_000
	maxGlobals         = 1_000_000
	maxDataSegments    = 100_000
	maxTables          = 100_000
	maxMemories        = 100_000 // wazero refuses more than one, with its own message
	maxElementSegments = 10_000_000
	maxTableEntries    = 10_000_000 // entries of one element segment (the JS API's table size)
	maxParams          = 1_000
	maxResults         = 1_000
	maxLocals          = 50_000 // declared in one function, parameters aside
)

// checkCounts refuses a module that declares a vector longer than the
// bytes left for it, or longer than the limits above, or a function whose
// type does not exist. It reads every section but the instructions of
// function bodies, and checks only what bounds an allocation or what wazero
// would index without a check; wazero validates the rest.
func checkCounts(wasm []byte) error {
	if len(wasm) < 8 {
		return errors.New("no WebAssembly 1.0 binary header")
	}
	secs, err := splitSections(wasm)
	if err != nil {
		return err
	}
	types := 0
	for _, s := range secs {
		r := &reader{b: wasm[s.start:s.end], base: s.start}
		var err error
		switch s.id {
		case 0:
			err = r.customCounts()
		case 1:
			types, err = r.typeCounts()
		case 2:
			err = r.importCounts()
		case 3:
			// wazero checks a function's type index only when it validates
			// that function, and panics on a call to a later one whose
			// index is out of range (v1.12).
			err = r.entries("functions", maxFunctions, 1, func(r *reader) error {
				return r.index(uint64(types), "a function of type %d; the module has %d types")
			})
		case 4:
			err = r.entries("tables", maxTables, 2, func(r *reader) error {
				if err := r.valType(); err != nil {
					return err
				}
				return r.limits()
			})
		case 5:
			err = r.entries("memories", maxMemories, 2, (*reader).limits)
		case 6:
			err = r.entries("globals", maxGlobals, 3, func(r *reader) error {
				if err := r.valType(); err != nil {
					return err
				}
				if _, err := r.byte1(); err != nil {
					return err
				}
				return r.constExpr()
			})
		case 7:
			err = r.entries("exports", maxExports, 3, func(r *reader) error {
				if _, err := r.name(); err != nil {
					return err
				}
				if _, err := r.byte1(); err != nil {
					return err
				}
				return r.leb()
			})
		case 9:
			err = r.entries("element segments", maxElementSegments, 2, (*reader).elementCounts)
		case 10:
			err = r.entries("function bodies", maxFunctions, 2, (*reader).bodyCounts)
		case 11:
			err = r.entries("data segments", maxDataSegments, 2, (*reader).dataCounts)
		}
		if err != nil {
			var u *unsupportedError
			if errors.As(err, &u) {
				return err
			}
			return fmt.Errorf("%s section: %w", sectionName(s.id), err)
		}
	}
	return nil
}

func sectionName(id byte) string {
	switch id {
	case 0:
		return "custom"
	case 4:
		return "table"
	case 9:
		return "element"
	case 10:
		return "code"
	case 11:
		return "data"
	}
	if n, ok := sectionNames[id]; ok {
		return n
	}
	return fmt.Sprintf("id %d", id)
}

// vec reads a vector's length and checks it: at most limit entries, and
// room for them at minSize bytes each in what is left of r.
func (r *reader) vec(what string, limit, minSize int) (int, error) {
	at := r.p
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n) > uint64(limit) {
		r.p = at
		return 0, r.errorf("%d %s, above the limit of %d", n, what, limit)
	}
	if left := len(r.b) - r.p; uint64(n)*uint64(minSize) > uint64(left) {
		r.p = at
		return 0, r.errorf("%d %s declared in the %d bytes left (each takes at least %d)", n, what, left, minSize)
	}
	return int(n), nil
}

// entries reads a vector and each of its entries with entry.
func (r *reader) entries(what string, limit, minSize int, entry func(*reader) error) error {
	n, err := r.vec(what, limit, minSize)
	if err != nil {
		return err
	}
	for range n {
		if err := entry(r); err != nil {
			return err
		}
	}
	return nil
}

// byteVec reads a vector of bytes and returns them.
func (r *reader) byteVec(what string) ([]byte, error) {
	n, err := r.vec(what, math.MaxInt32, 1)
	if err != nil {
		return nil, err
	}
	r.p += n
	return r.b[r.p-n : r.p], nil
}

// typeCounts reads the type section and returns its number of types.
func (r *reader) typeCounts() (int, error) {
	n := 0
	err := r.entries("types", maxTypes, 3, func(r *reader) error {
		n++
		form, err := r.byte1()
		if err != nil {
			return err
		}
		if form != 0x60 {
			r.p--
			return r.errorf("type form %#x, want 0x60 (a function type)", form)
		}
		if err := r.entries("parameters", maxParams, 1, (*reader).valType); err != nil {
			return err
		}
		return r.entries("results", maxResults, 1, (*reader).valType)
	})
	return n, err
}

func (r *reader) importCounts() error {
	return r.entries("imports", maxImports, 4, func(r *reader) error {
		if _, err := r.name(); err != nil {
			return err
		}
		if _, err := r.name(); err != nil {
			return err
		}
		kind, err := r.byte1()
		if err != nil {
			return err
		}
		switch kind {
		case 0x00: // function
			return r.leb()
		case 0x01: // table
			if err := r.valType(); err != nil {
				return err
			}
			return r.limits()
		case 0x02: // memory
			return r.limits()
		case 0x03: // global
			if err := r.valType(); err != nil {
				return err
			}
			_, err := r.byte1()
			return err
		}
		r.p--
		return r.errorf("import kind %#x", kind)
	})
}

// bodyCounts reads one function body's size and local declarations and
// skips its instructions.
func (r *reader) bodyCounts() error {
	size, err := r.u32()
	if err != nil {
		return err
	}
	if int64(size) > int64(len(r.b)-r.p) {
		return r.errorf("a function body of %d bytes runs past the section", size)
	}
	end := r.p + int(size)
	body := &reader{b: r.b[:end], p: r.p, base: r.base}
	groups, err := body.vec("local groups", maxLocals, 2)
	if err != nil {
		return err
	}
	var locals uint64
	for range groups {
		at := body.p
		n, err := body.u32()
		if err != nil {
			return err
		}
		if locals += uint64(n); locals > maxLocals {
			body.p = at
			return body.errorf("more than %d locals in a function", maxLocals)
		}
		if err := body.valType(); err != nil {
			return err
		}
	}
	r.p = end
	return nil
}

// elementCounts reads one element segment (WebAssembly 2.0: its eight
// forms).
func (r *reader) elementCounts() error {
	form, err := r.u32()
	if err != nil {
		return err
	}
	if form > 7 {
		return r.errorf("element segment form %d", form)
	}
	if form == 2 || form == 6 { // table index
		if err := r.leb(); err != nil {
			return err
		}
	}
	if form&1 == 0 { // active: offset
		if err := r.constExpr(); err != nil {
			return err
		}
	}
	if form&3 != 0 && form&4 == 0 { // element kind
		if _, err := r.byte1(); err != nil {
			return err
		}
	}
	if form == 5 || form == 6 || form == 7 { // reference type
		if err := r.valType(); err != nil {
			return err
		}
	}
	if form&4 == 0 {
		return r.entries("function indices", maxTableEntries, 1, (*reader).leb)
	}
	return r.entries("element expressions", maxTableEntries, 1, (*reader).constExpr)
}

// dataCounts reads one data segment.
func (r *reader) dataCounts() error {
	_, err := r.dataSegment()
	return err
}

// constExpr skips a constant expression: instructions up to an end.
func (r *reader) constExpr() error {
	for {
		kind, err := r.instr()
		if err != nil {
			return err
		}
		if kind == instrEnd {
			return nil
		}
	}
}

// customCounts reads a custom section's name, and the contents of the
// name section (module, function and local names), whose subsections must
// fill exactly what they declare: wazero reads them without regard to the
// declared sizes, so a size that lies would have it read counts elsewhere.
func (r *reader) customCounts() error {
	name, err := r.name()
	if err != nil || name != "name" {
		return err
	}
	for r.p < len(r.b) {
		id, err := r.byte1()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		if int64(size) > int64(len(r.b)-r.p) {
			return r.errorf("name subsection %d of %d bytes runs past the section", id, size)
		}
		end := r.p + int(size)
		sub := &reader{b: r.b[:end], p: r.p, base: r.base}
		switch id {
		case 0: // module name
			_, err = sub.name()
		case 1: // function names
			err = sub.nameMap("function names", maxFunctions)
		case 2: // local names
			err = sub.entries("functions with local names", maxFunctions, 2, func(r *reader) error {
				if err := r.leb(); err != nil {
					return err
				}
				return r.nameMap("local names", maxLocals+maxParams)
			})
		default:
			sub.p = end
		}
		if err != nil {
			return fmt.Errorf("name subsection %d: %w", id, err)
		}
		if sub.p != end {
			return sub.errorf("name subsection %d declares %d bytes, its contents take %d", id, size, sub.p-(end-int(size)))
		}
		r.p = end
	}
	return nil
}

// nameMap reads a vector of (index, name) pairs.
func (r *reader) nameMap(what string, limit int) error {
	return r.entries(what, limit, 2, func(r *reader) error {
		if err := r.leb(); err != nil {
			return err
		}
		_, err := r.name()
		return err
	})
}
