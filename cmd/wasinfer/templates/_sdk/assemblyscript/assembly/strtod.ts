// Correctly rounded decimal → binary64 conversion (round half to even), for
// JSON numbers. AssemblyScript's parseFloat is not correctly rounded in every
// case, and configuration values such as a normalisation's std must convert
// exactly as strtod, Go's strconv or JavaScript's Number do. Exact big-integer
// arithmetic: slow (microseconds), meant for configuration, not data.

// Big unsigned integers: little-endian u32 limbs in a managed array.
type Big = u32[];

function bigFromU32(v: u32): Big {
  const b = new Array<u32>();
  if (v != 0) b.push(v);
  return b;
}

function bigMulAdd(a: Big, m: u32, add: u32): void {
  let carry: u64 = add;
  for (let i = 0; i < a.length; i++) {
    const t = <u64>unchecked(a[i]) * <u64>m + carry;
    unchecked(a[i] = <u32>t);
    carry = t >>> 32;
  }
  if (carry != 0) a.push(<u32>carry);
}

function bigBitLen(a: Big): i32 {
  if (a.length == 0) return 0;
  return (a.length - 1) * 32 + (32 - <i32>clz<u32>(a[a.length - 1]));
}

function bigShl(a: Big, bits: i32): Big {
  const words = bits >>> 5;
  const sh = <u32>(bits & 31);
  const r = new Array<u32>();
  for (let i = 0; i < words; i++) r.push(0);
  let carry: u32 = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    r.push(sh == 0 ? v : (v << sh) | carry);
    carry = sh == 0 ? 0 : v >>> (32 - sh);
  }
  if (carry != 0) r.push(carry);
  return r;
}

function bigCmp(a: Big, b: Big): i32 {
  if (a.length != b.length) return a.length < b.length ? -1 : 1;
  for (let i = a.length - 1; i >= 0; i--) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

// a -= b, a ≥ b.
function bigSub(a: Big, b: Big): void {
  let borrow: i64 = 0;
  for (let i = 0; i < a.length; i++) {
    let t = <i64>a[i] - (i < b.length ? <i64>b[i] : 0) - borrow;
    borrow = t < 0 ? 1 : 0;
    a[i] = <u32>(t + (borrow << 32));
  }
  while (a.length > 0 && a[a.length - 1] == 0) a.pop();
}

function bigIsZero(a: Big): bool {
  return a.length == 0;
}

// Top 64 bits of a (bitLen ≥ 64) and whether any lower bit is set.
function bigTop64(a: Big, sticky: bool[]): u64 {
  const L = bigBitLen(a);
  const drop = L - 64;
  let q: u64 = 0;
  for (let bit = L - 1; bit >= drop; bit--) {
    q = (q << 1) | <u64>((a[bit >>> 5] >>> <u32>(bit & 31)) & 1);
  }
  let s = false;
  for (let bit = 0; bit < drop && !s; bit++) {
    if (((a[bit >>> 5] >>> <u32>(bit & 31)) & 1) != 0) s = true;
  }
  sticky[0] = s;
  return q;
}

// Rounds (q + sticky·ε) × 2^bexp to the nearest double, ties to even. q ≠ 0.
function roundToDouble(q: u64, sticky: bool, bexp: i32): f64 {
  const L = 64 - <i32>clz<u64>(q);
  const e = L - 1 + bexp; // exponent of the leading bit
  if (e > 1023) return Infinity;
  const keep = e >= -1022 ? 53 : 53 - (-1022 - e);
  const drop = L - keep;
  let m: u64;
  let lsbExp: i32;
  if (drop <= 0) {
    m = q << <u64>(-drop);
    lsbExp = bexp + drop;
  } else if (drop > L) {
    return 0; // below half the smallest subnormal
  } else {
    m = drop >= 64 ? 0 : q >>> <u64>drop;
    const rem = drop >= 64 ? q : q & ((<u64>1 << <u64>drop) - 1);
    const half = <u64>1 << <u64>(drop - 1);
    if (rem > half || (rem == half && (sticky || (m & 1) != 0))) m++;
    lsbExp = bexp + drop;
  }
  if (m == 0) return 0;
  if (m >= (<u64>1 << 53)) { // carry out of the mantissa
    m >>>= 1;
    lsbExp++;
  }
  if (m >= (<u64>1 << 52)) {
    const biased = lsbExp + 52 + 1023;
    if (biased >= 2047) return Infinity;
    return reinterpret<f64>((<u64>biased << 52) | (m & ((<u64>1 << 52) - 1)));
  }
  return reinterpret<f64>(m); // subnormal: lsbExp is -1074
}

const MAX_DIGITS = 800; // more significant digits cannot change the result beyond a sticky bit

/**
 * Converts a decimal number: digits (ASCII '0'..'9', leading zeros allowed)
 * with the decimal point after pointPos digits, times 10^exp10. Returns the
 * correctly rounded positive double (Infinity on overflow, 0 on underflow).
 */
export function decimalToDouble(ptr: usize, nDigits: i32, pointPos: i32, exp10: i64): f64 {
  // skip leading zeros
  let first = 0;
  while (first < nDigits && load<u8>(ptr + <usize>first) == 48) first++;
  if (first == nDigits) return 0;
  let last = nDigits;
  while (last > first && load<u8>(ptr + <usize>(last - 1)) == 48) last--;
  // value = 0.d[first..last) × 10^(pointPos - first + exp10) ... as integer D × 10^E
  let count = last - first;
  let truncated = false;
  if (count > MAX_DIGITS) {
    count = MAX_DIGITS;
    truncated = true;
  }
  let E: i64 = <i64>pointPos - <i64>first - <i64>count + exp10;
  const mag: i64 = E + <i64>count; // value < 10^mag
  if (mag > 310) return Infinity;
  if (mag < -330) return 0;
  const D = bigFromU32(0);
  for (let i = 0; i < count; i++) bigMulAdd(D, 10, <u32>(load<u8>(ptr + <usize>(first + i)) - 48));
  if (truncated) { // a non-zero tail: append a 1 digit below the kept ones
    bigMulAdd(D, 10, 1);
    E--;
  }
  const sticky = [false];
  if (E >= 0) {
    for (let i: i64 = 0; i < E; i++) bigMulAdd(D, 10, 0);
    if (bigBitLen(D) <= 64) {
      let q: u64 = 0;
      for (let i = D.length - 1; i >= 0; i--) q = (q << 32) | <u64>D[i];
      return roundToDouble(q, false, 0);
    }
    const L = bigBitLen(D);
    const q = bigTop64(D, sticky);
    return roundToDouble(q, sticky[0], L - 64);
  }
  // D / 10^-E: scale so the quotient has 62..63 bits, then long division.
  const P = bigFromU32(1);
  for (let i: i64 = 0; i < -E; i++) bigMulAdd(P, 10, 0);
  const s = bigBitLen(P) - bigBitLen(D) + 62;
  let num = s > 0 ? bigShl(D, s) : D;
  const den = s < 0 ? bigShl(P, -s) : P;
  let q: u64 = 0;
  for (let bit = 63; bit >= 0; bit--) {
    const d = bigShl(den, bit);
    if (bigCmp(num, d) >= 0) {
      bigSub(num, d);
      q |= <u64>1 << <u64>bit;
    }
  }
  return roundToDouble(q, !bigIsZero(num), -s);
}
