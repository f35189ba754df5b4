package reliability

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
)

// A mutant is a damaged copy of a real file.
type mutant struct {
	Name string
	Data []byte
}

// mutations returns deterministic damaged copies of data (named
// base/kind-detail): truncations at fixed fractions, flips single bits,
// runs of 0x00 and 0xff bytes at random offsets (flips of each, seeded by
// base), and the first and last bytes changed (bad magic). Format-specific
// damage (huge declared lengths) is added by the caller with setU32.
func mutations(base string, data []byte, flips int) []mutant {
	h := fnv.New64a()
	h.Write([]byte(base))
	rng := rand.New(rand.NewPCG(h.Sum64(), 7))
	var out []mutant
	add := func(kind string, b []byte) { out = append(out, mutant{base + "/" + kind, b}) }
	n := len(data)
	var cuts []int
	for _, c := range []int{0, 1, 4, 8, n / 4, n / 2, 3 * n / 4, n - 8, n - 1} {
		if c >= 0 && c < n && !slices.Contains(cuts, c) {
			cuts = append(cuts, c)
		}
	}
	for _, c := range cuts {
		add(fmt.Sprintf("truncated-%d", c), slices.Clone(data[:c]))
	}
	if n == 0 {
		return out
	}
	for range flips {
		b := slices.Clone(data)
		at := rng.IntN(n)
		bit := rng.IntN(8)
		b[at] ^= 1 << bit
		add(fmt.Sprintf("bitflip-%d.%d", at, bit), b)
	}
	for i := range flips / 2 {
		b := slices.Clone(data)
		at := rng.IntN(n)
		v := byte(0)
		if i%2 == 1 {
			v = 0xff
		}
		for j := at; j < min(n, at+16); j++ {
			b[j] = v
		}
		add(fmt.Sprintf("run%02x-%d", v, at), b)
	}
	first := slices.Clone(data)
	first[0] ^= 0xff
	add("badmagic-first", first)
	last := slices.Clone(data)
	last[n-1] ^= 0xff
	add("badmagic-last", last)
	return out
}

// setU32 returns a copy of data with the 4 bytes at off set to v (little
// or big endian): a declared length or count made huge.
func setU32(base, kind string, data []byte, off int, v uint32, big bool) mutant {
	b := slices.Clone(data)
	if off >= 0 && off+4 <= len(b) {
		if big {
			binary.BigEndian.PutUint32(b[off:], v)
		} else {
			binary.LittleEndian.PutUint32(b[off:], v)
		}
	}
	return mutant{base + "/" + kind, b}
}
