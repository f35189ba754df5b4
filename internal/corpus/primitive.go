package corpus

import (
	"math"
	"math/big"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// rows is the row count of the per-type cases: not a multiple of 8, and
// long enough for slices at several odd offsets.
const rows = 45

// longStringRow is the row of the utf8 and large_utf8 "v" columns that holds
// the long string.
const longStringRow = 7

// longString is a valid UTF-8 string of a little over 1 MiB, mixing one-
// and three-byte characters.
var longString = strings.Repeat("wasinfer ☃ ", 1<<20/len("wasinfer ☃ ")+1)

// values returns n values: the specials first (as many as fit), then values
// from rnd.
func values[T any](n int, specials []T, rnd func() T) []T {
	v := make([]T, n)
	for i := range v {
		if i < len(specials) {
			v[i] = specials[i]
		} else {
			v[i] = rnd()
		}
	}
	return v
}

// pair returns the two columns of a per-type case: "v", not nullable and
// without a validity buffer, and "v_nulls", nullable and with nulls.
func pair(dt arrow.DataType, v, vNulls arrow.Array) []column {
	return []column{
		{arrow.Field{Name: "v", Type: dt}, v},
		{arrow.Field{Name: "v_nulls", Type: dt, Nullable: true}, vNulls},
	}
}

// fixedPair builds the two columns of a fixed-width type from a value
// generator.
func fixedPair[T any](g *gen, dt arrow.DataType, n int, specials []T, rnd func() T) []column {
	return pair(dt,
		fixed(g, dt, values(n, specials, rnd), nil),
		fixed(g, dt, values(n, specials, rnd), g.valid(n)))
}

func nullCase(g *gen, n int) []column {
	return []column{{arrow.Field{Name: "v", Type: arrow.Null, Nullable: true}, array.NewNull(n)}}
}

func boolCase(g *gen, n int) []column {
	rnd := func() bool { return g.rng.IntN(2) == 0 }
	return pair(arrow.FixedWidthTypes.Boolean,
		g.boolArray(values(n, []bool{true, false}, rnd), nil),
		g.boolArray(values(n, []bool{true, false}, rnd), g.valid(n)))
}

func int8Case(g *gen, n int) []column {
	return fixedPair(g, arrow.PrimitiveTypes.Int8, n, []int8{math.MinInt8, math.MaxInt8, 0, -1, 1},
		func() int8 { return int8(g.rng.Uint32()) })
}

func int16Case(g *gen, n int) []column {
	return fixedPair(g, arrow.PrimitiveTypes.Int16, n, []int16{math.MinInt16, math.MaxInt16, 0, -1, 1},
		func() int16 { return int16(g.rng.Uint32()) })
}

func int32Case(g *gen, n int) []column {
	return fixedPair(g, arrow.PrimitiveTypes.Int32, n, []int32{math.MinInt32, math.MaxInt32, 0, -1, 1},
		func() int32 { return int32(g.rng.Uint32()) })
}

func int64Case(g *gen, n int) []column {
	return fixedPair(g, arrow.PrimitiveTypes.Int64, n, []int64{math.MinInt64, math.MaxInt64, 0, -1, 1},
		func() int64 { return int64(g.rng.Uint64()) })
}

func uint8Case(g *gen, n int) []column {
	return fixedPair(g, arrow.PrimitiveTypes.Uint8, n, []uint8{0, math.MaxUint8, 1, 0x80},
		func() uint8 { return uint8(g.rng.Uint32()) })
}

func uint16Case(g *gen, n int) []column {
	return fixedPair(g, arrow.PrimitiveTypes.Uint16, n, []uint16{0, math.MaxUint16, 1, 0x8000},
		func() uint16 { return uint16(g.rng.Uint32()) })
}

func uint32Case(g *gen, n int) []column {
	return fixedPair(g, arrow.PrimitiveTypes.Uint32, n, []uint32{0, math.MaxUint32, 1, 0x8000_0000},
		func() uint32 { return g.rng.Uint32() })
}

func uint64Case(g *gen, n int) []column {
	return fixedPair(g, arrow.PrimitiveTypes.Uint64, n, []uint64{0, math.MaxUint64, 1, 0x8000_0000_0000_0000},
		func() uint64 { return g.rng.Uint64() })
}

// Float specials, as bit patterns: quiet NaN, negative NaN, a signalling
// NaN with a payload, +Inf, -Inf, -0, +0, the smallest subnormal, the
// smallest normal, the largest and the lowest finite value.
var (
	float16Specials = []uint16{0x7e00, 0xfe00, 0x7c01, 0x7c00, 0xfc00, 0x8000, 0x0000, 0x0001, 0x0400, 0x7bff, 0xfbff}
	float32Specials = []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0x7f800000, 0xff800000, 0x80000000, 0, 1, 0x00800000, 0x7f7fffff, 0xff7fffff}
	float64Specials = []uint64{0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001, 0x7ff0000000000000, 0xfff0000000000000,
		0x8000000000000000, 0, 1, 0x0010000000000000, 0x7fefffffffffffff, 0xffefffffffffffff}
)

func float16Case(g *gen, n int) []column {
	// Finite halves: any exponent but all-ones.
	rnd := func() uint16 {
		for {
			if b := uint16(g.rng.Uint32()); b&0x7c00 != 0x7c00 {
				return b
			}
		}
	}
	return fixedPair(g, arrow.FixedWidthTypes.Float16, n, float16Specials, rnd)
}

func float32Case(g *gen, n int) []column {
	rnd := func() uint32 { return math.Float32bits(float32(g.rng.NormFloat64() * 1e3)) }
	return fixedPair(g, arrow.PrimitiveTypes.Float32, n, float32Specials, rnd)
}

func float64Case(g *gen, n int) []column {
	rnd := func() uint64 { return math.Float64bits(g.rng.NormFloat64() * 1e6) }
	return fixedPair(g, arrow.PrimitiveTypes.Float64, n, float64Specials, rnd)
}

// stringSpecials are the interesting strings every string column starts
// with: empty, ASCII, 2-, 3- and 4-byte UTF-8, a combining sequence, NUL,
// zero-width space, control characters, CSV and JSON metacharacters.
var stringSpecials = []string{
	"", "a", "héllo wörld", "日本語テキスト", "🦀🚀", "e\u0301", "nul\x00byte",
	"\u200b", "line\nbreak\ttab\r", `"quoted", comma; {json}`,
}

var alphabet = []rune("abcxyzABCXYZ019 _-.,éßøЖж中文日本🦀✓")

func (g *gen) randomString(maxRunes int) string {
	r := make([]rune, g.rng.IntN(maxRunes+1))
	for i := range r {
		r[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(r)
}

func (g *gen) stringPair(dt arrow.DataType, n int) []column {
	rnd := func() string { return g.randomString(20) }
	v := values(n, stringSpecials, rnd)
	if n > longStringRow {
		v[longStringRow] = longString
	}
	return pair(dt, g.varBinary(dt, v, nil), g.varBinary(dt, values(n, stringSpecials, rnd), g.valid(n)))
}

func utf8Case(g *gen, n int) []column      { return g.stringPair(arrow.BinaryTypes.String, n) }
func largeUTF8Case(g *gen, n int) []column { return g.stringPair(arrow.BinaryTypes.LargeString, n) }

var binarySpecials = []string{"", "\x00", "\xff\xfe\xfd", "\x00\x01\x02\x03", "plain text", "\xc3\x28"}

func (g *gen) randomBytes(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return string(b)
}

func (g *gen) binaryPair(dt arrow.DataType, n int) []column {
	rnd := func() string { return g.randomBytes(g.rng.IntN(25)) }
	return pair(dt,
		g.varBinary(dt, values(n, binarySpecials, rnd), nil),
		g.varBinary(dt, values(n, binarySpecials, rnd), g.valid(n)))
}

func binaryCase(g *gen, n int) []column      { return g.binaryPair(arrow.BinaryTypes.Binary, n) }
func largeBinaryCase(g *gen, n int) []column { return g.binaryPair(arrow.BinaryTypes.LargeBinary, n) }

func fixedSizeBinaryCase(g *gen, n int) []column {
	const w = 5
	dt := &arrow.FixedSizeBinaryType{ByteWidth: w}
	specials := [][w]byte{{}, {0xff, 0xff, 0xff, 0xff, 0xff}, {'a', 'b', 'c', 'd', 'e'}}
	rnd := func() (b [w]byte) {
		copy(b[:], g.randomBytes(w))
		return b
	}
	return fixedPair(g, dt, n, specials, rnd)
}

// randomDigits returns a random integer of 1 to digits decimal digits, with
// a random sign.
func (g *gen) randomDigits(digits int) *big.Int {
	d := 1 + g.rng.IntN(digits)
	b := make([]byte, d)
	for i := range b {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	v, _ := new(big.Int).SetString(string(b), 10)
	if g.rng.IntN(2) == 0 {
		v.Neg(v)
	}
	return v
}

func decimal128Case(g *gen, n int) []column {
	dt := &arrow.Decimal128Type{Precision: 38, Scale: 9}
	maxv := decimal128.GetMaxValue(38)
	specials := []decimal128.Num{decimal128.FromI64(0), decimal128.FromI64(1), decimal128.FromI64(-1),
		maxv, maxv.Negate(), decimal128.FromI64(1_000_000_000)}
	rnd := func() decimal128.Num { return decimal128.FromBigInt(g.randomDigits(38)) }
	cols := fixedPair(g, dt, n, specials, rnd)

	small := &arrow.Decimal128Type{Precision: 5, Scale: 2}
	smallRnd := func() decimal128.Num { return decimal128.FromBigInt(g.randomDigits(5)) }
	smallSpecials := []decimal128.Num{decimal128.FromI64(99999), decimal128.FromI64(-99999)}
	return append(cols, column{arrow.Field{Name: "p5s2_nulls", Type: small, Nullable: true},
		fixed(g, small, values(n, smallSpecials, smallRnd), g.valid(n))})
}

func decimal256Case(g *gen, n int) []column {
	dt := &arrow.Decimal256Type{Precision: 76, Scale: 20}
	maxv := decimal256.GetMaxValue(76)
	specials := []decimal256.Num{decimal256.FromI64(0), decimal256.FromI64(1), decimal256.FromI64(-1), maxv, maxv.Negate()}
	rnd := func() decimal256.Num { return decimal256.FromBigInt(g.randomDigits(76)) }
	return fixedPair(g, dt, n, specials, rnd)
}

// Days from the epoch of 0001-01-01 and 9999-12-31.
const (
	minDay = -719162
	maxDay = 2932896
)

func (g *gen) day() int32 { return int32(minDay + g.rng.IntN(maxDay-minDay+1)) }

var daySpecials = []int32{0, -1, minDay, maxDay, 19000}

func date32Case(g *gen, n int) []column {
	specials := make([]arrow.Date32, len(daySpecials))
	for i, d := range daySpecials {
		specials[i] = arrow.Date32(d)
	}
	return fixedPair(g, arrow.FixedWidthTypes.Date32, n, specials, func() arrow.Date32 { return arrow.Date32(g.day()) })
}

func date64Case(g *gen, n int) []column {
	const msPerDay = 86_400_000
	specials := make([]arrow.Date64, len(daySpecials))
	for i, d := range daySpecials {
		specials[i] = arrow.Date64(int64(d) * msPerDay)
	}
	return fixedPair(g, arrow.FixedWidthTypes.Date64, n, specials, func() arrow.Date64 { return arrow.Date64(int64(g.day()) * msPerDay) })
}

func time32Case(unit arrow.TimeUnit) func(*gen, int) []column {
	perDay := int32(86400)
	if unit == arrow.Millisecond {
		perDay *= 1000
	}
	return func(g *gen, n int) []column {
		return fixedPair(g, &arrow.Time32Type{Unit: unit}, n, []arrow.Time32{0, arrow.Time32(perDay - 1)},
			func() arrow.Time32 { return arrow.Time32(g.rng.Int32N(perDay)) })
	}
}

func time64Case(unit arrow.TimeUnit) func(*gen, int) []column {
	perDay := int64(86400_000_000)
	if unit == arrow.Nanosecond {
		perDay *= 1000
	}
	return func(g *gen, n int) []column {
		return fixedPair(g, &arrow.Time64Type{Unit: unit}, n, []arrow.Time64{0, arrow.Time64(perDay - 1)},
			func() arrow.Time64 { return arrow.Time64(g.rng.Int64N(perDay)) })
	}
}

// timeZones gives each timestamp unit a different zone spelling: a name, an
// IANA zone, a fixed offset.
var timeZones = map[arrow.TimeUnit]string{
	arrow.Second:      "UTC",
	arrow.Millisecond: "America/New_York",
	arrow.Microsecond: "+05:30",
	arrow.Nanosecond:  "Asia/Tokyo",
}

// timestampCase has four columns: v and v_nulls without a time zone, v_tz
// and v_tz_nulls with one. Seconds to microseconds span the years 0001 to
// 9999; nanoseconds span all of int64 (1677 to 2262).
func timestampCase(unit arrow.TimeUnit) func(*gen, int) []column {
	return func(g *gen, n int) []column {
		const minSec, maxSec = -62135596800, 253402300799
		var specials []arrow.Timestamp
		var rnd func() arrow.Timestamp
		if unit == arrow.Nanosecond {
			specials = []arrow.Timestamp{0, -1, math.MinInt64, math.MaxInt64, 1_700_000_000_000_000_000}
			rnd = func() arrow.Timestamp { return arrow.Timestamp(g.rng.Uint64()) }
		} else {
			mult := int64(1)
			for range unit {
				mult *= 1000
			}
			specials = []arrow.Timestamp{0, -1, arrow.Timestamp(minSec * mult), arrow.Timestamp(maxSec*mult + mult - 1), arrow.Timestamp(1_700_000_000 * mult)}
			rnd = func() arrow.Timestamp { return arrow.Timestamp(minSec*mult + g.rng.Int64N((maxSec-minSec)*mult)) }
		}
		cols := fixedPair(g, &arrow.TimestampType{Unit: unit}, n, specials, rnd)
		tz := &arrow.TimestampType{Unit: unit, TimeZone: timeZones[unit]}
		return append(cols,
			column{arrow.Field{Name: "v_tz", Type: tz}, fixed(g, tz, values(n, specials, rnd), nil)},
			column{arrow.Field{Name: "v_tz_nulls", Type: tz, Nullable: true}, fixed(g, tz, values(n, specials, rnd), g.valid(n))})
	}
}

func durationCase(unit arrow.TimeUnit) func(*gen, int) []column {
	return func(g *gen, n int) []column {
		return fixedPair(g, &arrow.DurationType{Unit: unit}, n,
			[]arrow.Duration{0, -1, 1, math.MinInt64, math.MaxInt64},
			func() arrow.Duration { return arrow.Duration(g.rng.Uint64()) })
	}
}
