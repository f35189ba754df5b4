// Zero-cost views of the Arrow C Data Interface structures at their wasm32
// offsets (spec §4), format-string classification (spec §4.2) and the binary
// metadata encoding. A view is the struct's address typed as an unmanaged
// class: `changetype<ArrowSchema>(ptr)` allocates nothing, and each getter is
// one load.

import {
  SCHEMA_FORMAT, SCHEMA_NAME, SCHEMA_METADATA, SCHEMA_FLAGS, SCHEMA_N_CHILDREN,
  SCHEMA_CHILDREN, SCHEMA_DICTIONARY, SCHEMA_RELEASE,
  ARRAY_LENGTH, ARRAY_NULL_COUNT, ARRAY_OFFSET, ARRAY_N_BUFFERS, ARRAY_N_CHILDREN,
  ARRAY_BUFFERS, ARRAY_CHILDREN, ARRAY_DICTIONARY, ARRAY_RELEASE,
  FLAG_NULLABLE,
} from "./abi";
import { cstrDecode, cstrEquals, cstrLen, cstrParseInt, bytesEqual } from "./cstr";

/** A view of a struct ArrowSchema (48 bytes) in linear memory. */
@final @unmanaged
export class ArrowSchema {
  /** The view of the schema at ptr. */
  @inline static at(ptr: usize): ArrowSchema {
    return changetype<ArrowSchema>(ptr);
  }
  /** Address of the struct. */
  @inline get ptr(): usize { return changetype<usize>(this); }
  /** Address of the NUL-terminated format string. */
  @inline get formatPtr(): usize { return <usize>load<u32>(changetype<usize>(this), SCHEMA_FORMAT); }
  /** Address of the NUL-terminated name (may be 0). */
  @inline get namePtr(): usize { return <usize>load<u32>(changetype<usize>(this), SCHEMA_NAME); }
  /** Address of the binary metadata (0 when none). */
  @inline get metadataPtr(): usize { return <usize>load<u32>(changetype<usize>(this), SCHEMA_METADATA); }
  @inline get flags(): i64 { return load<i64>(changetype<usize>(this), SCHEMA_FLAGS); }
  @inline get nChildren(): i32 { return <i32>load<i64>(changetype<usize>(this), SCHEMA_N_CHILDREN); }
  @inline get childrenPtr(): usize { return <usize>load<u32>(changetype<usize>(this), SCHEMA_CHILDREN); }
  /** Address of the dictionary schema (0 unless dictionary-encoded). */
  @inline get dictionaryPtr(): usize { return <usize>load<u32>(changetype<usize>(this), SCHEMA_DICTIONARY); }
  @inline get release(): u32 { return load<u32>(changetype<usize>(this), SCHEMA_RELEASE); }
  /** Child i (no bounds check). */
  @inline child(i: i32): ArrowSchema {
    return changetype<ArrowSchema>(<usize>load<u32>(this.childrenPtr + (<usize>i << 2)));
  }
  /** The format string (allocates). */
  get format(): string { return cstrDecode(this.formatPtr); }
  /** The field name (allocates). */
  get name(): string { return cstrDecode(this.namePtr); }
  /** Whether ARROW_FLAG_NULLABLE is set. */
  @inline get nullable(): bool { return (this.flags & FLAG_NULLABLE) != 0; }
  /** Whether the format is exactly f (no allocation for ASCII f). */
  formatIs(f: string): bool { return cstrEquals(this.formatPtr, f); }
  /** Whether the name is exactly n. */
  nameIs(n: string): bool {
    const p = this.namePtr;
    if (p == 0) return n.length == 0;
    return bytesEqual(p, cstrLen(p), n);
  }
  /** The value of metadata key, or null. */
  metadata(key: string): string | null { return metadataGet(this.metadataPtr, key); }
}

/** A view of a struct ArrowArray (64 bytes) in linear memory. */
@final @unmanaged
export class ArrowArray {
  @inline static at(ptr: usize): ArrowArray {
    return changetype<ArrowArray>(ptr);
  }
  @inline get ptr(): usize { return changetype<usize>(this); }
  @inline get length(): i64 { return load<i64>(changetype<usize>(this), ARRAY_LENGTH); }
  /** -1 when unknown. */
  @inline get nullCount(): i64 { return load<i64>(changetype<usize>(this), ARRAY_NULL_COUNT); }
  @inline get offset(): i64 { return load<i64>(changetype<usize>(this), ARRAY_OFFSET); }
  @inline get nBuffers(): i32 { return <i32>load<i64>(changetype<usize>(this), ARRAY_N_BUFFERS); }
  @inline get nChildren(): i32 { return <i32>load<i64>(changetype<usize>(this), ARRAY_N_CHILDREN); }
  @inline get buffersPtr(): usize { return <usize>load<u32>(changetype<usize>(this), ARRAY_BUFFERS); }
  @inline get childrenPtr(): usize { return <usize>load<u32>(changetype<usize>(this), ARRAY_CHILDREN); }
  @inline get dictionaryPtr(): usize { return <usize>load<u32>(changetype<usize>(this), ARRAY_DICTIONARY); }
  @inline get release(): u32 { return load<u32>(changetype<usize>(this), ARRAY_RELEASE); }
  /** Address of buffer i, 0 when NULL or when i ≥ n_buffers. */
  @inline buffer(i: i32): usize {
    if (i >= this.nBuffers) return 0;
    return <usize>load<u32>(this.buffersPtr + (<usize>i << 2));
  }
  /** Child i (no bounds check). */
  @inline child(i: i32): ArrowArray {
    return changetype<ArrowArray>(<usize>load<u32>(this.childrenPtr + (<usize>i << 2)));
  }
}

/** Layout classes of a format string (spec §4.2). */
export enum Kind {
  /** Not a format of ABI v1. */
  UNKNOWN,
  NULL,
  /** Bit-packed values. */
  BOOL,
  /** Fixed-width values (width() bytes each). */
  FIXED,
  /** int32 offsets + data. */
  BINARY,
  /** int64 offsets + data. */
  LARGE_BINARY,
  LIST,
  LARGE_LIST,
  FIXED_SIZE_LIST,
  STRUCT,
  MAP,
}

/**
 * Classifies a format string. width is set to the value width in bytes for
 * FIXED, to N for FIXED_SIZE_LIST, 0 otherwise.
 */
export class FormatInfo {
  kind: Kind = Kind.UNKNOWN;
  width: i32 = 0;
  /** utf8 or large_utf8. */
  utf8: bool = false;

  /** Number of buffers an array of this format carries. */
  get nBuffers(): i32 {
    switch (this.kind) {
      case Kind.NULL: return 0;
      case Kind.FIXED_SIZE_LIST:
      case Kind.STRUCT: return 1;
      case Kind.BINARY:
      case Kind.LARGE_BINARY: return 3;
      case Kind.UNKNOWN: return 0;
      default: return 2;
    }
  }
}

/** Classifies the NUL-terminated format at ptr (see FormatInfo). */
export function formatInfo(ptr: usize): FormatInfo {
  const f = new FormatInfo();
  if (ptr == 0) return f;
  const len = cstrLen(ptr);
  if (len == 0) return f;
  const c0 = <i32>load<u8>(ptr);
  const c1 = len > 1 ? <i32>load<u8>(ptr, 1) : 0;
  if (len == 1) {
    switch (c0) {
      case 0x6e: f.kind = Kind.NULL; break;            // n
      case 0x62: f.kind = Kind.BOOL; break;            // b
      case 0x63: case 0x43: f.kind = Kind.FIXED; f.width = 1; break; // c C
      case 0x73: case 0x53: case 0x65: f.kind = Kind.FIXED; f.width = 2; break; // s S e
      case 0x69: case 0x49: case 0x66: f.kind = Kind.FIXED; f.width = 4; break; // i I f
      case 0x6c: case 0x4c: case 0x67: f.kind = Kind.FIXED; f.width = 8; break; // l L g
      case 0x7a: f.kind = Kind.BINARY; break;          // z
      case 0x75: f.kind = Kind.BINARY; f.utf8 = true; break; // u
      case 0x5a: f.kind = Kind.LARGE_BINARY; break;    // Z
      case 0x55: f.kind = Kind.LARGE_BINARY; f.utf8 = true; break; // U
    }
    return f;
  }
  if (c0 == 0x77 && c1 == 0x3a) { // w:W
    const w = cstrParseInt(ptr, 2);
    if (w > 0 && cstrLen(ptr) == 2 + decimalDigits(w)) { f.kind = Kind.FIXED; f.width = w; }
    return f;
  }
  if (c0 == 0x64 && c1 == 0x3a) { // d:P,S[,bits]
    f.kind = Kind.FIXED;
    f.width = 16;
    let commas = 0;
    let last: usize = 0;
    for (let i: usize = 2; i < len; i++) {
      if (load<u8>(ptr + i) == 0x2c) { commas++; last = i; }
    }
    if (commas == 2) {
      const bits = cstrParseInt(ptr, last + 1);
      if (bits == 256) f.width = 32;
      else if (bits != 128) { f.kind = Kind.UNKNOWN; f.width = 0; }
    }
    return f;
  }
  if (c0 == 0x74) { // t...
    const c2 = len > 2 ? <i32>load<u8>(ptr, 2) : 0;
    if (c1 == 0x64 && len == 3) { // tdD tdm
      if (c2 == 0x44) { f.kind = Kind.FIXED; f.width = 4; }
      else if (c2 == 0x6d) { f.kind = Kind.FIXED; f.width = 8; }
    } else if (c1 == 0x74 && len == 3) { // tts ttm ttu ttn
      if (c2 == 0x73 || c2 == 0x6d) { f.kind = Kind.FIXED; f.width = 4; }
      else if (c2 == 0x75 || c2 == 0x6e) { f.kind = Kind.FIXED; f.width = 8; }
    } else if (c1 == 0x73 && len >= 4 && load<u8>(ptr, 3) == 0x3a) { // ts?:TZ
      if (c2 == 0x73 || c2 == 0x6d || c2 == 0x75 || c2 == 0x6e) { f.kind = Kind.FIXED; f.width = 8; }
    } else if (c1 == 0x44 && len == 3) { // tD?
      if (c2 == 0x73 || c2 == 0x6d || c2 == 0x75 || c2 == 0x6e) { f.kind = Kind.FIXED; f.width = 8; }
    }
    return f;
  }
  if (c0 == 0x2b) { // +
    if (len == 2) {
      switch (c1) {
        case 0x6c: f.kind = Kind.LIST; break;       // +l
        case 0x4c: f.kind = Kind.LARGE_LIST; break; // +L
        case 0x73: f.kind = Kind.STRUCT; break;     // +s
        case 0x6d: f.kind = Kind.MAP; break;        // +m
      }
    } else if (c1 == 0x77 && len > 3 && load<u8>(ptr, 2) == 0x3a) { // +w:N
      const n = cstrParseInt(ptr, 3);
      if (n > 0 && len == 3 + decimalDigits(n)) { f.kind = Kind.FIXED_SIZE_LIST; f.width = n; }
    }
  }
  return f;
}

function decimalDigits(v: i32): usize {
  let d: usize = 1;
  while (v >= 10) { v /= 10; d++; }
  return d;
}

// ---- metadata: i32 count, then (i32 key length, key, i32 value length, value)*

/** Decoded metadata pairs, in encoding order. */
export class Metadata {
  keys: string[] = [];
  values: string[] = [];

  /** Decodes the metadata at ptr (empty for 0). */
  static read(ptr: usize): Metadata {
    const m = new Metadata();
    if (ptr == 0) return m;
    const n = load<i32>(ptr);
    let p = ptr + 4;
    for (let i = 0; i < n; i++) {
      const kl = <usize>load<i32>(p);
      m.keys.push(String.UTF8.decodeUnsafe(p + 4, kl));
      p += 4 + kl;
      const vl = <usize>load<i32>(p);
      m.values.push(String.UTF8.decodeUnsafe(p + 4, vl));
      p += 4 + vl;
    }
    return m;
  }

  get length(): i32 { return this.keys.length; }

  /** The value of key, or null. */
  get(key: string): string | null {
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] == key) return this.values[i];
    }
    return null;
  }

  /** Appends a pair (keys may repeat; readers take the first). */
  set(key: string, value: string): Metadata {
    this.keys.push(key);
    this.values.push(value);
    return this;
  }
}

/**
 * Finds key in the metadata at ptr without allocating. Returns the address of
 * the value's i32 length prefix (the bytes follow it), or 0 when absent.
 */
export function metadataFind(ptr: usize, key: string): usize {
  if (ptr == 0) return 0;
  const n = load<i32>(ptr);
  let p = ptr + 4;
  for (let i = 0; i < n; i++) {
    const kl = <usize>load<i32>(p);
    const keyPtr = p + 4;
    p = keyPtr + kl;
    const vl = <usize>load<i32>(p);
    if (bytesEqual(keyPtr, kl, key)) return p;
    p += 4 + vl;
  }
  return 0;
}

/** The value of key in the metadata at ptr, or null. */
export function metadataGet(ptr: usize, key: string): string | null {
  const v = metadataFind(ptr, key);
  if (v == 0) return null;
  return String.UTF8.decodeUnsafe(v + 4, <usize>load<i32>(v));
}
