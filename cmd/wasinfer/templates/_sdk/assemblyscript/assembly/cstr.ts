// NUL-terminated UTF-8 strings (format, name) and length-prefixed byte
// strings (metadata) in linear memory.

/** Length of the NUL-terminated string at ptr (0 for a NULL pointer). */
export function cstrLen(ptr: usize): usize {
  if (ptr == 0) return 0;
  let p = ptr;
  while (load<u8>(p) != 0) p++;
  return p - ptr;
}

/** Decodes the NUL-terminated UTF-8 string at ptr ("" for NULL). Allocates. */
export function cstrDecode(ptr: usize): string {
  if (ptr == 0) return "";
  return String.UTF8.decodeUnsafe(ptr, cstrLen(ptr));
}

/** Whether the len UTF-8 bytes at ptr spell s. Does not allocate for ASCII s. */
export function bytesEqual(ptr: usize, len: usize, s: string): bool {
  const n = s.length;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    if (len != <usize>n) return false;
    for (let i = 0; i < n; i++) {
      if (<i32>load<u8>(ptr + <usize>i) != s.charCodeAt(i)) return false;
    }
    return true;
  }
  const enc = String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
  if (<usize>enc.byteLength != len) return false;
  return memory.compare(ptr, changetype<usize>(enc), len) == 0;
}

/** Whether the NUL-terminated string at ptr equals s (NULL equals nothing). */
export function cstrEquals(ptr: usize, s: string): bool {
  if (ptr == 0) return false;
  return bytesEqual(ptr, cstrLen(ptr), s);
}

/** Whether the NUL-terminated string at ptr starts with the ASCII prefix. */
export function cstrHasPrefix(ptr: usize, prefix: string): bool {
  if (ptr == 0) return false;
  for (let i = 0; i < prefix.length; i++) {
    const b = <i32>load<u8>(ptr + <usize>i);
    if (b != prefix.charCodeAt(i)) return false; // also stops at the NUL
  }
  return true;
}

/** UTF-8 byte length of s (lone surrogates count as U+FFFD). */
export function utf8Length(s: string): usize {
  return <usize>String.UTF8.byteLength(s, false);
}

/** Encodes s as UTF-8 at dst (lone surrogates become U+FFFD); returns the bytes written. */
export function utf8Write(s: string, dst: usize): usize {
  return String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, dst, false, String.UTF8.ErrorMode.REPLACE);
}

/**
 * Parses the unsigned decimal integer of the NUL-terminated string at ptr
 * starting at byte start, up to the first byte that is not a digit. Returns -1
 * when there is no digit or the value is above i32.MAX_VALUE.
 */
export function cstrParseInt(ptr: usize, start: usize): i32 {
  let v: i64 = 0;
  let p = ptr + start;
  let any = false;
  while (true) {
    const b = <i32>load<u8>(p);
    if (b < 48 || b > 57) break;
    v = v * 10 + <i64>(b - 48);
    if (v > <i64>i32.MAX_VALUE) return -1;
    any = true;
    p++;
  }
  return any ? <i32>v : -1;
}
