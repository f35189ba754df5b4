// A small, strict JSON reader (RFC 8259) for configurations and metadata
// values such as the tensor extension's {"shape":[...]}. Numbers convert with
// correct rounding (strtod.ts). AssemblyScript has no exceptions, so parse
// returns null and leaves the reason in `error`.

import { decimalToDouble } from "./strtod";

export enum JsonKind { NULL, BOOL, NUMBER, STRING, ARRAY, OBJECT }

/** A parsed JSON value. Objects keep their keys in document order. */
export class JsonValue {
  kind: JsonKind = JsonKind.NULL;
  bool: bool = false;
  num: f64 = 0;
  str: string = "";
  items: JsonValue[] = [];
  keys: string[] = [];
  values: JsonValue[] = [];

  get isNumber(): bool { return this.kind == JsonKind.NUMBER; }
  get isString(): bool { return this.kind == JsonKind.STRING; }
  get isArray(): bool { return this.kind == JsonKind.ARRAY; }
  get isObject(): bool { return this.kind == JsonKind.OBJECT; }

  /** The member key of an object, or null. */
  get(key: string): JsonValue | null {
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] == key) return this.values[i];
    }
    return null;
  }

  /** Whether this is a number with an integral value in [min, max]. */
  isInteger(min: f64, max: f64): bool {
    return this.kind == JsonKind.NUMBER && Math.floor(this.num) == this.num && this.num >= min && this.num <= max;
  }

  /** A short description of the kind for messages ("a number", "an array", ...). */
  get kindName(): string {
    switch (this.kind) {
      case JsonKind.NULL: return "null";
      case JsonKind.BOOL: return "a boolean";
      case JsonKind.NUMBER: return "a number";
      case JsonKind.STRING: return "a string";
      case JsonKind.ARRAY: return "an array";
      default: return "an object";
    }
  }
}

const MAX_DEPTH = 64;

/** Parses len UTF-8 bytes at ptr as one JSON value. */
export class JsonParser {
  /** Why parse returned null ("" after success). */
  error: string = "";
  private pos: usize = 0;

  constructor(private readonly ptr: usize, private readonly len: usize) {}

  /** Parses a string's UTF-8 encoding. */
  static ofString(s: string): JsonParser {
    const buf = String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
    const p = new JsonParser(changetype<usize>(buf), <usize>buf.byteLength);
    p.keep = buf;
    return p;
  }
  private keep: ArrayBuffer | null = null; // keeps ofString's bytes alive

  /** The whole input as one value, or null (see error). */
  parse(): JsonValue | null {
    this.pos = 0;
    this.error = "";
    this.ws();
    const v = this.value(0);
    if (v === null) return null;
    this.ws();
    if (this.pos != this.len) return this.fail("unexpected data after the value");
    return v;
  }

  private fail(msg: string): JsonValue | null {
    if (this.error.length == 0) this.error = "invalid JSON at byte " + this.pos.toString() + ": " + msg;
    return null;
  }

  @inline private peek(): i32 {
    return this.pos < this.len ? <i32>load<u8>(this.ptr + this.pos) : -1;
  }

  private ws(): void {
    while (this.pos < this.len) {
      const c = load<u8>(this.ptr + this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  private literal(word: string): bool {
    const n = <usize>word.length;
    if (this.pos + n > this.len) return false;
    for (let i: usize = 0; i < n; i++) {
      if (<i32>load<u8>(this.ptr + this.pos + i) != word.charCodeAt(<i32>i)) return false;
    }
    this.pos += n;
    return true;
  }

  private value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nested deeper than " + MAX_DEPTH.toString() + " levels");
    const c = this.peek();
    const v = new JsonValue();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      v.kind = JsonKind.STRING;
      v.str = s;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal("true")) { v.kind = JsonKind.BOOL; v.bool = true; return v; }
    if (this.literal("false")) { v.kind = JsonKind.BOOL; return v; }
    if (this.literal("null")) return v;
    if (c < 0) return this.fail("unexpected end of input");
    return this.fail("unexpected character '" + String.fromCharCode(c) + "'");
  }

  private object(depth: i32): JsonValue | null {
    const v = new JsonValue();
    v.kind = JsonKind.OBJECT;
    this.pos++; // {
    this.ws();
    if (this.peek() == 0x7d) { this.pos++; return v; }
    while (true) {
      this.ws();
      if (this.peek() != 0x22) return this.fail("expected a string key");
      const keyPos = this.pos;
      const k = this.string();
      if (k === null) return null;
      if (v.get(k) !== null) {
        this.pos = keyPos;
        return this.fail("duplicate key \"" + k + "\"");
      }
      this.ws();
      if (this.peek() != 0x3a) return this.fail("expected ':' after key \"" + k + "\"");
      this.pos++;
      this.ws();
      const m = this.value(depth + 1);
      if (m === null) return null;
      v.keys.push(k);
      v.values.push(m);
      this.ws();
      const c = this.peek();
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x7d) { this.pos++; return v; }
      return this.fail("expected ',' or '}'");
    }
  }

  private array(depth: i32): JsonValue | null {
    const v = new JsonValue();
    v.kind = JsonKind.ARRAY;
    this.pos++; // [
    this.ws();
    if (this.peek() == 0x5d) { this.pos++; return v; }
    while (true) {
      this.ws();
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.ws();
      const c = this.peek();
      if (c == 0x2c) { this.pos++; continue; }
      if (c == 0x5d) { this.pos++; return v; }
      return this.fail("expected ',' or ']'");
    }
  }

  private hex4(): i32 {
    if (this.pos + 4 > this.len) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>load<u8>(this.ptr + this.pos + <usize>i);
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else return -1;
      v = (v << 4) | d;
    }
    this.pos += 4;
    return v;
  }

  private string(): string | null {
    this.pos++; // "
    let out = "";
    let runStart = this.pos;
    while (true) {
      if (this.pos >= this.len) { this.fail("unterminated string"); return null; }
      const c = load<u8>(this.ptr + this.pos);
      if (c == 0x22) {
        out += String.UTF8.decodeUnsafe(this.ptr + runStart, this.pos - runStart);
        this.pos++;
        return out;
      }
      if (c < 0x20) { this.fail("control character in string"); return null; }
      if (c != 0x5c) { this.pos++; continue; }
      out += String.UTF8.decodeUnsafe(this.ptr + runStart, this.pos - runStart);
      this.pos++; // backslash
      const e = this.peek();
      this.pos++;
      switch (e) {
        case 0x22: out += "\""; break;
        case 0x5c: out += "\\"; break;
        case 0x2f: out += "/"; break;
        case 0x62: out += "\b"; break;
        case 0x66: out += "\f"; break;
        case 0x6e: out += "\n"; break;
        case 0x72: out += "\r"; break;
        case 0x74: out += "\t"; break;
        case 0x75: {
          const u = this.hex4();
          if (u < 0) { this.fail("bad \\u escape"); return null; }
          out += String.fromCharCode(u);
          break;
        }
        default: this.pos--; this.fail("bad escape"); return null;
      }
      runStart = this.pos;
    }
  }

  private number(): JsonValue | null {
    const start = this.pos;
    let neg = false;
    if (this.peek() == 0x2d) { neg = true; this.pos++; }
    const digits0 = this.pos;
    let c = this.peek();
    if (c == 0x30) {
      this.pos++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    } else {
      return this.fail("bad number");
    }
    const intDigits = <i32>(this.pos - digits0);
    // Digits are copied to a scratch buffer without the point.
    const scratch = heap.alloc(this.len - start + 1);
    memory.copy(scratch, this.ptr + digits0, <usize>intDigits);
    let nDigits = intDigits;
    if (this.peek() == 0x2e) {
      this.pos++;
      const f0 = this.pos;
      while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
      if (this.pos == f0) { heap.free(scratch); return this.fail("bad number: no digit after '.'"); }
      memory.copy(scratch + <usize>nDigits, this.ptr + f0, this.pos - f0);
      nDigits += <i32>(this.pos - f0);
    }
    let exp: i64 = 0;
    c = this.peek();
    if (c == 0x65 || c == 0x45) {
      this.pos++;
      let eneg = false;
      c = this.peek();
      if (c == 0x2b || c == 0x2d) { eneg = c == 0x2d; this.pos++; }
      const e0 = this.pos;
      while (this.peek() >= 0x30 && this.peek() <= 0x39) {
        if (exp < 1000000) exp = exp * 10 + <i64>(this.peek() - 0x30);
        this.pos++;
      }
      if (this.pos == e0) { heap.free(scratch); return this.fail("bad number: no exponent digits"); }
      if (eneg) exp = -exp;
    }
    const mag = decimalToDouble(scratch, nDigits, intDigits, exp);
    heap.free(scratch);
    const v = new JsonValue();
    v.kind = JsonKind.NUMBER;
    v.num = neg ? -mag : mag;
    return v;
  }
}

/** Parses s as JSON; null when it is not valid (the parser's error is lost: use JsonParser for it). */
export function parseJson(s: string): JsonValue | null {
  return JsonParser.ofString(s).parse();
}
