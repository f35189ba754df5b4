// Building the output batch (spec §5.2): pass input columns through by
// aliasing their structures, add owned columns whose structures, strings,
// metadata and buffers live in one arena, and release exactly that arena.

import {
  Status, SCHEMA_SIZE, ARRAY_SIZE,
  SCHEMA_FORMAT, SCHEMA_NAME, SCHEMA_METADATA, SCHEMA_FLAGS, SCHEMA_N_CHILDREN, SCHEMA_CHILDREN,
  SCHEMA_RELEASE, ARRAY_LENGTH, ARRAY_NULL_COUNT, ARRAY_OFFSET, ARRAY_N_BUFFERS, ARRAY_N_CHILDREN,
  ARRAY_BUFFERS, ARRAY_CHILDREN, ARRAY_RELEASE, FLAG_NULLABLE,
} from "./abi";
import { Arena } from "./alloc";
import { ArrowSchema, ArrowArray, FormatInfo, Kind, Metadata, formatInfo } from "./arrow";
import { Column, Input } from "./column";
import { utf8Length, utf8Write } from "./cstr";
import { fail } from "./error";

/** Alignment of the buffers the builder allocates (cache line, SIMD friendly). */
export const BUFFER_ALIGN: usize = 64;

/** Every block of the current output; freed by wasinfer_release. */
export const outputArena = new Arena();

// ---- release callbacks (spec §5.2: set as the C Data Interface requires)

// Marks a tree released: clears `release` on every node the guest owns.
// Aliased input nodes have release = 0 and are neither followed nor written.
function markSchemaReleased(p: usize): void {
  const s = ArrowSchema.at(p);
  if (s.release == 0) return;
  for (let i = 0; i < s.nChildren; i++) markSchemaReleased(s.child(i).ptr);
  if (s.dictionaryPtr != 0) markSchemaReleased(s.dictionaryPtr);
  store<u32>(p, 0, SCHEMA_RELEASE);
}

function markArrayReleased(p: usize): void {
  const a = ArrowArray.at(p);
  if (a.release == 0) return;
  for (let i = 0; i < a.nChildren; i++) markArrayReleased(a.child(i).ptr);
  if (a.dictionaryPtr != 0) markArrayReleased(a.dictionaryPtr);
  store<u32>(p, 0, ARRAY_RELEASE);
}

/** The release callback of every owned ArrowSchema (table index in `release`). */
export function releaseSchema(p: usize): void { markSchemaReleased(p); }
/** The release callback of every owned ArrowArray. */
export function releaseArray(p: usize): void { markArrayReleased(p); }

// ---- helpers

function arenaCString(s: string): usize {
  const n = utf8Length(s);
  const p = outputArena.alloc(n + 1, 1, false);
  utf8Write(s, p);
  store<u8>(p + n, 0);
  return p;
}

function encodeMetadata(m: Metadata): usize {
  if (m.length == 0) return 0;
  let size: usize = 4;
  for (let i = 0; i < m.length; i++) size += 8 + utf8Length(m.keys[i]) + utf8Length(m.values[i]);
  const base = outputArena.alloc(size, 4, false);
  store<i32>(base, m.length);
  let p = base + 4;
  for (let i = 0; i < m.length; i++) {
    const kl = utf8Write(m.keys[i], p + 4);
    store<i32>(p, <i32>kl);
    p += 4 + kl;
    const vl = utf8Write(m.values[i], p + 4);
    store<i32>(p, <i32>vl);
    p += 4 + vl;
  }
  return base;
}

// Writes n child pointers (u32) into a new arena block; 0 when n is 0.
function pointerList(ptrs: usize[]): usize {
  const n = ptrs.length;
  if (n == 0) return 0;
  const list = outputArena.alloc(<usize>n << 2, 4, false);
  for (let i = 0; i < n; i++) store<u32>(list + (<usize>i << 2), <u32>ptrs[i]);
  return list;
}

/**
 * A column the UDF owns: its ArrowSchema and ArrowArray, name, format,
 * metadata and buffers are allocated in the output arena and freed by
 * wasinfer_release. Created by Output.addColumn or ColumnBuilder.addChild.
 *
 * Buffers follow spec §4.2 in order (buffer 0 is always validity). A buffer
 * left NULL is allowed only for validity (meaning: no nulls).
 */
export class ColumnBuilder {
  /** Address of the owned ArrowSchema. */
  readonly schemaPtr: usize;
  /** Address of the owned ArrowArray. */
  readonly arrayPtr: usize;
  /** Layout class and width of the format. */
  readonly info: FormatInfo;
  /** Dotted path ("tensor", "tensor.item") for messages. */
  readonly path: string;
  private _length: i32;
  private buffersPtr: usize;
  private children: ColumnBuilder[] = [];
  private meta: Metadata | null = null;
  private metaAlias: usize = 0;
  // append mode of binary/utf8 columns
  private cursor: i32 = 0;
  private dataCap: usize = 0;
  private dataLen: usize = 0;

  /** @internal Use Output.addColumn or addChild. */
  constructor(name: string, format: string, flags: i64, length: i32, path: string) {
    this.path = path;
    this._length = length;
    const s = outputArena.alloc(SCHEMA_SIZE, 8, true);
    const a = outputArena.alloc(ARRAY_SIZE, 8, true);
    this.schemaPtr = s;
    this.arrayPtr = a;
    const fmt = arenaCString(format);
    this.info = formatInfo(fmt);
    if (this.info.kind == Kind.UNKNOWN) {
      throw new Error("wasinfer: output column \"" + path + "\": format \"" + format + "\" is not one of ABI v1");
    }
    store<u32>(s, <u32>fmt, SCHEMA_FORMAT);
    store<u32>(s, <u32>arenaCString(name), SCHEMA_NAME);
    store<i64>(s, flags, SCHEMA_FLAGS);
    store<u32>(s, releaseSchema.index, SCHEMA_RELEASE);
    const nb = this.info.nBuffers;
    this.buffersPtr = nb == 0 ? 0 : outputArena.alloc(<usize>nb << 2, 4, true);
    store<i64>(a, <i64>length, ARRAY_LENGTH);
    store<i64>(a, <i64>nb, ARRAY_N_BUFFERS);
    store<u32>(a, <u32>this.buffersPtr, ARRAY_BUFFERS);
    store<u32>(a, releaseArray.index, ARRAY_RELEASE);
  }

  /** Number of slots (rows, or items for a list's child). */
  get length(): i32 { return this._length; }
  /** Sets the number of slots; call before allocating buffers. */
  setLength(n: i32): ColumnBuilder {
    this._length = n;
    store<i64>(this.arrayPtr, <i64>n, ARRAY_LENGTH);
    return this;
  }
  /** Sets the array offset (when aliasing buffers that start at a slot > 0). */
  setOffset(n: i32): ColumnBuilder {
    store<i64>(this.arrayPtr, <i64>n, ARRAY_OFFSET);
    return this;
  }
  /** Sets null_count (-1: unknown). The host recomputes it from the bitmap. */
  setNullCount(n: i64): ColumnBuilder {
    store<i64>(this.arrayPtr, n, ARRAY_NULL_COUNT);
    return this;
  }
  get nullCount(): i64 { return load<i64>(this.arrayPtr, ARRAY_NULL_COUNT); }

  /** Address of buffer i (0 when NULL). */
  buffer(i: i32): usize { return <usize>load<u32>(this.buffersPtr + (<usize>i << 2)); }
  /** Points buffer i at memory the UDF keeps alive until release (e.g. an input buffer). */
  setBuffer(i: i32, ptr: usize): ColumnBuilder {
    if (i < 0 || i >= this.info.nBuffers) {
      throw new Error("wasinfer: output column \"" + this.path + "\": no buffer " + i.toString());
    }
    store<u32>(this.buffersPtr + (<usize>i << 2), <u32>ptr);
    return this;
  }
  /** Allocates bytes for buffer i (64-byte aligned, zeroed when zero is set). */
  allocBuffer(i: i32, bytes: usize, zero: bool = false): usize {
    const p = outputArena.alloc(bytes, BUFFER_ALIGN, zero);
    this.setBuffer(i, p);
    return p;
  }
  /**
   * Allocates the values buffer (buffer 1) of a fixed-width or boolean column
   * for `length` slots. Returns its address.
   */
  allocValues(zero: bool = false): usize {
    const f = this.info;
    let bytes: usize;
    if (f.kind == Kind.FIXED) bytes = <usize>this._length * <usize>f.width;
    else if (f.kind == Kind.BOOL) bytes = (<usize>this._length + 7) >>> 3;
    else throw new Error("wasinfer: output column \"" + this.path + "\": allocValues needs a fixed-width or boolean format");
    return this.allocBuffer(1, bytes, zero);
  }
  /** Allocates a validity bitmap with every slot valid (or every slot null). */
  allocValidity(allValid: bool = true): usize {
    const bytes = (<usize>this._length + 7) >>> 3;
    const p = outputArena.alloc(bytes, BUFFER_ALIGN, false);
    memory.fill(p, allValid ? 0xff : 0, bytes);
    this.setBuffer(0, p);
    this.setNullCount(allValid ? 0 : <i64>this._length);
    return p;
  }
  /** Marks slot i null, allocating an all-valid bitmap first if there is none. */
  setNull(i: i32): void {
    let v = this.buffer(0);
    if (v == 0) v = this.allocValidity(true);
    const byte = v + (<usize>i >>> 3);
    const bit = <u8>(<u32>1 << <u32>(i & 7));
    const b = load<u8>(byte);
    if ((b & bit) != 0) {
      store<u8>(byte, b & ~bit);
      store<i64>(this.arrayPtr, this.nullCount + 1, ARRAY_NULL_COUNT);
    }
  }
  /** Marks slot i valid (only needed after allocValidity(false) or setNull). */
  setValid(i: i32): void {
    const v = this.buffer(0);
    if (v == 0) return;
    const byte = v + (<usize>i >>> 3);
    const bit = <u8>(<u32>1 << <u32>(i & 7));
    const b = load<u8>(byte);
    if ((b & bit) == 0) {
      store<u8>(byte, b | bit);
      store<i64>(this.arrayPtr, this.nullCount - 1, ARRAY_NULL_COUNT);
    }
  }
  /** Stores v as slot i of a fixed-width column (after allocValues). */
  @inline set<T>(i: i32, v: T): void {
    store<T>(this.buffer(1) + (<usize>i) * sizeof<T>(), v);
  }
  /** Stores slot i of a boolean column (after allocValues). */
  setBool(i: i32, v: bool): void {
    const byte = this.buffer(1) + (<usize>i >>> 3);
    const bit = <u8>(<u32>1 << <u32>(i & 7));
    const b = load<u8>(byte);
    store<u8>(byte, v ? b | bit : b & ~bit);
  }

  // ---- binary / utf8 columns, filled in row order

  /** Appends the next slot of a binary/utf8 column from len bytes at ptr (utf8 must be valid UTF-8). */
  appendBytes(ptr: usize, len: usize): void {
    const dst = this.reserve(len);
    memory.copy(dst, ptr, len);
    this.advance(len);
  }
  /** Appends the next slot of a utf8/binary column as UTF-8 (lone surrogates become U+FFFD). */
  appendString(s: string): void {
    const n = utf8Length(s);
    utf8Write(s, this.reserve(n));
    this.advance(n);
  }
  /** Appends a null slot (empty bytes) to a binary/utf8 column. */
  appendNull(): void {
    const i = this.cursor;
    this.reserve(0);
    this.advance(0);
    this.setNull(i);
  }
  /** Number of slots appended so far. */
  get appended(): i32 { return this.cursor; }

  private reserve(n: usize): usize {
    const k = this.info.kind;
    if (k != Kind.BINARY && k != Kind.LARGE_BINARY) {
      throw new Error("wasinfer: output column \"" + this.path + "\": append needs a binary or utf8 format");
    }
    if (this.cursor >= this._length) {
      throw new Error("wasinfer: output column \"" + this.path + "\": more than " + this._length.toString() + " slots appended");
    }
    if (this.buffer(1) == 0) {
      const w: usize = k == Kind.LARGE_BINARY ? 8 : 4;
      this.allocBuffer(1, (<usize>this._length + 1) * w, true);
    }
    if (this.dataLen + n > this.dataCap || this.buffer(2) == 0) {
      let cap = this.dataCap < 64 ? <usize>64 : this.dataCap;
      while (cap < this.dataLen + n) cap <<= 1;
      const p = outputArena.alloc(cap, BUFFER_ALIGN, false);
      const old = this.buffer(2);
      if (old != 0) memory.copy(p, old, this.dataLen);
      this.setBuffer(2, p); // the old block is freed with the arena
      this.dataCap = cap;
    }
    return this.buffer(2) + this.dataLen;
  }

  private advance(n: usize): void {
    this.dataLen += n;
    this.cursor++;
    const offs = this.buffer(1);
    if (this.info.kind == Kind.LARGE_BINARY) store<i64>(offs + (<usize>this.cursor << 3), <i64>this.dataLen);
    else {
      if (this.dataLen > <usize>i32.MAX_VALUE) {
        throw new Error("wasinfer: output column \"" + this.path + "\": over 2 GiB of data; use a large format");
      }
      store<i32>(offs + (<usize>this.cursor << 2), <i32>this.dataLen);
    }
  }

  // ---- metadata and children

  /** Appends a field metadata pair (in this order in the output). */
  setMetadata(key: string, value: string): ColumnBuilder {
    let m = this.meta;
    if (m === null) {
      m = new Metadata();
      this.meta = m;
    }
    m.set(key, value);
    return this;
  }
  /** Uses the field metadata of an input column as is (aliased, not copied). */
  copyMetadataFrom(col: Column): ColumnBuilder {
    this.metaAlias = col.schema.metadataPtr;
    return this;
  }

  /**
   * Adds a child: the values of a list, large list, fixed_size_list or map,
   * or a field of a struct. Its length starts as this column's length for a
   * struct field, length × N for a fixed_size_list, and 0 otherwise (set it).
   */
  addChild(name: string, format: string, nullable: bool = false): ColumnBuilder {
    const f = this.info;
    let len: i32 = 0;
    if (f.kind == Kind.STRUCT) len = this._length;
    else if (f.kind == Kind.FIXED_SIZE_LIST) len = this._length * f.width;
    const c = new ColumnBuilder(name, format, nullable ? FLAG_NULLABLE : 0, len, this.path + "." + name);
    this.children.push(c);
    return c;
  }

  /** @internal Writes children, metadata and append-mode state into the structs. */
  finish(): Status {
    const k = this.info.kind;
    if ((k == Kind.BINARY || k == Kind.LARGE_BINARY) && this.buffer(1) == 0 && this._length == 0) {
      this.allocBuffer(1, k == Kind.LARGE_BINARY ? 8 : 4, true);
    }
    if ((k == Kind.BINARY || k == Kind.LARGE_BINARY) && this.buffer(2) == 0) {
      this.allocBuffer(2, 0, false);
    }
    if ((k == Kind.BINARY || k == Kind.LARGE_BINARY) && this.cursor != 0 && this.cursor != this._length) {
      return fail(Status.ERROR, "output column \"" + this.path + "\": " + this.cursor.toString() +
        " of " + this._length.toString() + " slots appended");
    }
    for (let i = 1; i < this.info.nBuffers; i++) {
      if (this.buffer(i) == 0) {
        if (this._length == 0) {
          this.allocBuffer(i, 8, true);
        } else {
          return fail(Status.ERROR, "output column \"" + this.path + "\": buffer " + i.toString() + " was not set");
        }
      }
    }
    const want = k == Kind.STRUCT ? -1 : (k == Kind.LIST || k == Kind.LARGE_LIST || k == Kind.FIXED_SIZE_LIST || k == Kind.MAP) ? 1 : 0;
    if (want >= 0 && this.children.length != want) {
      return fail(Status.ERROR, "output column \"" + this.path + "\": format \"" +
        ArrowSchema.at(this.schemaPtr).format + "\" needs " + want.toString() + " children, has " + this.children.length.toString());
    }
    const sp = new Array<usize>();
    const ap = new Array<usize>();
    for (let i = 0; i < this.children.length; i++) {
      const c = this.children[i];
      const st = c.finish();
      if (st != Status.OK) return st;
      sp.push(c.schemaPtr);
      ap.push(c.arrayPtr);
    }
    const n = <i64>this.children.length;
    store<i64>(this.schemaPtr, n, SCHEMA_N_CHILDREN);
    store<u32>(this.schemaPtr, <u32>pointerList(sp), SCHEMA_CHILDREN);
    store<i64>(this.arrayPtr, n, ARRAY_N_CHILDREN);
    store<u32>(this.arrayPtr, <u32>pointerList(ap), ARRAY_CHILDREN);
    const m = this.meta;
    const md = m !== null ? encodeMetadata(m) : this.metaAlias;
    store<u32>(this.schemaPtr, <u32>md, SCHEMA_METADATA);
    return Status.OK;
  }
}

/**
 * The output batch of one wasinfer_transform call. Columns appear in the
 * order they are added. Its row count starts as the input's.
 */
export class Output {
  private schemas: usize[] = [];
  private arrays: usize[] = [];
  private builders: ColumnBuilder[] = [];
  private aliased: i32 = 0;
  private _length: i32;
  private meta: Metadata | null = null;
  private metaAlias: usize = 0;

  constructor(private readonly input: Input) {
    this._length = input.length;
  }

  /** Number of output rows. */
  get length(): i32 { return this._length; }
  /**
   * Sets the number of output rows (a filter or explode). Call before
   * addColumn; pass-through columns need the input's row count.
   */
  setLength(n: i32): Output {
    this._length = n;
    return this;
  }

  /**
   * Passes an input column through unchanged (name, flags, metadata, data):
   * the output points at the input's structures, nothing is copied.
   */
  passThrough(col: Column): Output {
    const s = col.schema.ptr;
    let found = false;
    for (let i = 0; i < this.input.numColumns; i++) {
      if (this.input.schema.child(i).ptr == s) found = true;
    }
    if (!found) throw new Error("wasinfer: passThrough takes a top-level input column, not \"" + col.path + "\"");
    this.alias(s, col.array.ptr);
    return this;
  }
  /** Passes every input column through (see passThrough). */
  passThroughAll(): Output {
    for (let i = 0; i < this.input.numColumns; i++) {
      this.alias(this.input.schema.child(i).ptr, this.input.array.child(i).ptr);
    }
    return this;
  }
  private alias(schema: usize, array: usize): void {
    this.schemas.push(schema);
    this.arrays.push(array);
    this.aliased++;
  }

  /** Adds an owned column of `length` rows. See ColumnBuilder. */
  addColumn(name: string, format: string, nullable: bool = true): ColumnBuilder {
    const c = new ColumnBuilder(name, format, nullable ? FLAG_NULLABLE : 0, this._length, name);
    this.schemas.push(c.schemaPtr);
    this.arrays.push(c.arrayPtr);
    this.builders.push(c);
    return c;
  }

  /** Keeps the input batch's schema-level metadata (aliased). */
  keepSchemaMetadata(): Output {
    this.metaAlias = this.input.schema.metadataPtr;
    return this;
  }
  /** Appends a schema-level metadata pair (replaces keepSchemaMetadata). */
  setSchemaMetadata(key: string, value: string): Output {
    let m = this.meta;
    if (m === null) {
      m = new Metadata();
      this.meta = m;
    }
    m.set(key, value);
    return this;
  }

  /** Scratch or buffer memory that lives until the output is released. */
  alloc(size: usize, align: usize = BUFFER_ALIGN, zero: bool = false): usize {
    return outputArena.alloc(size, align, zero);
  }

  /** @internal Fills *outS and *outA (spec §4.1). */
  finish(outS: usize, outA: usize): Status {
    if (this.aliased > 0 && this._length != this.input.length) {
      return fail(Status.ERROR, "output has " + this._length.toString() + " rows but passes through input columns of " +
        this.input.length.toString() + " rows");
    }
    for (let i = 0; i < this.builders.length; i++) {
      const b = this.builders[i];
      if (b.length != this._length) {
        return fail(Status.ERROR, "output column \"" + b.path + "\": " + b.length.toString() + " rows, the batch has " + this._length.toString());
      }
      const st = b.finish();
      if (st != Status.OK) return st;
    }
    const k = <i64>this.schemas.length;
    const m = this.meta;
    memory.fill(outS, 0, SCHEMA_SIZE);
    memory.fill(outA, 0, ARRAY_SIZE);
    store<u32>(outS, <u32>memory.data<u8>([0x2b, 0x73, 0]), SCHEMA_FORMAT); // "+s"
    store<u32>(outS, <u32>memory.data<u8>([0]), SCHEMA_NAME);             // ""
    store<u32>(outS, <u32>(m !== null ? encodeMetadata(m) : this.metaAlias), SCHEMA_METADATA);
    store<i64>(outS, k, SCHEMA_N_CHILDREN);
    store<u32>(outS, <u32>pointerList(this.schemas), SCHEMA_CHILDREN);
    store<u32>(outS, releaseSchema.index, SCHEMA_RELEASE);
    const bufs = outputArena.alloc(4, 4, true); // buffers[0] = NULL validity
    store<i64>(outA, <i64>this._length, ARRAY_LENGTH);
    store<i64>(outA, 1, ARRAY_N_BUFFERS);
    store<u32>(outA, <u32>bufs, ARRAY_BUFFERS);
    store<i64>(outA, k, ARRAY_N_CHILDREN);
    store<u32>(outA, <u32>pointerList(this.arrays), ARRAY_CHILDREN);
    store<u32>(outA, releaseArray.index, ARRAY_RELEASE);
    return Status.OK;
  }
}
