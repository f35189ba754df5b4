// The stage configuration passed to wasinfer_init (spec §9): a JSON object,
// with typed getters that record the first problem instead of trapping.

import { Status } from "./abi";
import { fail } from "./error";
import { JsonKind, JsonValue } from "./json";

/**
 * A parsed configuration object. Getters return the default when the key is
 * absent; when it has the wrong type they record an error (see ok/fail) and
 * return the default. A stage without configuration gives an empty object.
 */
export class Config {
  /** The first problem found, "" when none. */
  error: string = "";

  constructor(
    /** The configuration object. */
    public readonly root: JsonValue,
    /** The configuration's JSON text ("" when the stage has none). */
    public readonly text: string,
  ) {}

  /** Whether no problem was recorded. */
  get ok(): bool { return this.error.length == 0; }
  /** Records a problem (the first one wins). */
  problem(message: string): void {
    if (this.error.length == 0) this.error = message;
  }
  /** fail(Status.INVALID_CONFIG, "config: " + error). */
  fail(): Status {
    return fail(Status.INVALID_CONFIG, "config: " + this.error);
  }

  /** The keys present, in document order. */
  get keys(): string[] { return this.root.keys; }
  /** Whether key is present. */
  has(key: string): bool { return this.root.get(key) !== null; }
  /** The raw value of key, or null. */
  value(key: string): JsonValue | null { return this.root.get(key); }

  /** Records an error for the first key not in allowed. Returns ok. */
  allowOnly(allowed: string[]): bool {
    for (let i = 0; i < this.root.keys.length; i++) {
      const k = this.root.keys[i];
      if (!allowed.includes(k)) {
        this.problem("unknown key \"" + k + "\" (known keys: " + allowed.join(", ") + ")");
        return false;
      }
    }
    return true;
  }

  /** The string at key, or def. */
  getString(key: string, def: string): string {
    const v = this.root.get(key);
    if (v === null) return def;
    if (v.kind != JsonKind.STRING) {
      this.problem("\"" + key + "\" must be a string, got " + v.kindName);
      return def;
    }
    return v.str;
  }

  /** The number at key, or def. */
  getNumber(key: string, def: f64): f64 {
    const v = this.root.get(key);
    if (v === null) return def;
    if (v.kind != JsonKind.NUMBER) {
      this.problem("\"" + key + "\" must be a number, got " + v.kindName);
      return def;
    }
    return v.num;
  }

  /** The integer at key (within [min, max]), or def. */
  getInt(key: string, def: i64, min: i64 = i64.MIN_VALUE, max: i64 = i64.MAX_VALUE): i64 {
    const v = this.root.get(key);
    if (v === null) return def;
    if (!v.isInteger(<f64>min, <f64>max)) {
      this.problem("\"" + key + "\" must be an integer in [" + min.toString() + ", " + max.toString() + "]");
      return def;
    }
    return <i64>v.num;
  }

  /** The boolean at key, or def. */
  getBool(key: string, def: bool): bool {
    const v = this.root.get(key);
    if (v === null) return def;
    if (v.kind != JsonKind.BOOL) {
      this.problem("\"" + key + "\" must be true or false, got " + v.kindName);
      return def;
    }
    return v.bool;
  }

  /** The array of numbers at key (minLen ≤ length ≤ maxLen), or def. */
  getNumbers(key: string, def: f64[], minLen: i32 = 0, maxLen: i32 = i32.MAX_VALUE): f64[] {
    const v = this.root.get(key);
    if (v === null) return def;
    if (v.kind != JsonKind.ARRAY || v.items.length < minLen || v.items.length > maxLen) {
      this.problem("\"" + key + "\" must be an array of " + minLen.toString() +
        (maxLen == i32.MAX_VALUE ? " or more" : " to " + maxLen.toString()) + " numbers");
      return def;
    }
    const out = new Array<f64>(v.items.length);
    for (let i = 0; i < v.items.length; i++) {
      const it = v.items[i];
      if (it.kind != JsonKind.NUMBER) {
        this.problem("\"" + key + "\"[" + i.toString() + "] must be a number, got " + it.kindName);
        return def;
      }
      out[i] = it.num;
    }
    return out;
  }

  /** The array of strings at key, or def. */
  getStrings(key: string, def: string[]): string[] {
    const v = this.root.get(key);
    if (v === null) return def;
    if (v.kind != JsonKind.ARRAY) {
      this.problem("\"" + key + "\" must be an array of strings, got " + v.kindName);
      return def;
    }
    const out = new Array<string>(v.items.length);
    for (let i = 0; i < v.items.length; i++) {
      const it = v.items[i];
      if (it.kind != JsonKind.STRING) {
        this.problem("\"" + key + "\"[" + i.toString() + "] must be a string, got " + it.kindName);
        return def;
      }
      out[i] = it.str;
    }
    return out;
  }
}
