// Reading the input batch: columns by index or name, validity with offsets,
// typed values, strings, lists, struct fields and metadata.

import { ArrowSchema, ArrowArray, FormatInfo, Kind, formatInfo, metadataGet, Metadata } from "./arrow";

/**
 * One column (or nested child) of the input. Row i of the column is slot
 * `start + i` of the array's buffers: `start` folds in the array's own offset
 * and the offsets of its struct parents, so the accessors below honour every
 * offset (spec §4.3). Rows are 0 ≤ i < length; accessors do not check bounds
 * or formats (check `format` once per batch, then read rows fast).
 */
export class Column {
  private _info: FormatInfo | null = null;

  constructor(
    /** The field's schema. */
    public readonly schema: ArrowSchema,
    /** The array data. */
    public readonly array: ArrowArray,
    /** Slot of row 0 in the array's buffers. */
    public readonly start: i32,
    /** Number of rows. */
    public readonly length: i32,
    /** Dotted path from the batch ("a", "a.b", "a.item") for messages. */
    public readonly path: string,
  ) {}

  /** The field name (allocates). */
  get name(): string { return this.schema.name; }
  /** The format string (allocates). */
  get format(): string { return this.schema.format; }
  /** Whether the format is exactly f. */
  formatIs(f: string): bool { return this.schema.formatIs(f); }
  /** The format's layout class and width. */
  get info(): FormatInfo {
    let i = this._info;
    if (i === null) {
      i = formatInfo(this.schema.formatPtr);
      this._info = i;
    }
    return i;
  }
  /** Whether the field is declared nullable. */
  get nullable(): bool { return this.schema.nullable; }
  /** The field's metadata value for key, or null. */
  metadata(key: string): string | null { return metadataGet(this.schema.metadataPtr, key); }
  /** All metadata pairs of the field. */
  metadataAll(): Metadata { return Metadata.read(this.schema.metadataPtr); }

  /** Address of buffer i (0 when NULL). Buffers are indexed by slot, not row: add `start`. */
  @inline buffer(i: i32): usize { return this.array.buffer(i); }
  /** Address of the validity bitmap, 0 when every slot is valid. */
  @inline get validity(): usize {
    return this.array.nullCount == 0 ? 0 : this.array.buffer(0);
  }
  /** Whether any row may be null (a validity bitmap is present). */
  @inline get hasNulls(): bool { return this.validity != 0; }
  /** Whether row i is valid (not null). */
  @inline isValid(i: i32): bool {
    const v = this.validity;
    if (v == 0) return true;
    const slot = <usize>(this.start + i);
    return ((load<u8>(v + (slot >>> 3)) >>> <u8>(slot & 7)) & 1) != 0;
  }
  /** Whether row i is null. */
  @inline isNull(i: i32): bool { return !this.isValid(i); }
  /** Number of null rows, counted from the bitmap. */
  countNulls(): i32 {
    if (this.validity == 0) return 0;
    let n = 0;
    for (let i = 0; i < this.length; i++) if (!this.isValid(i)) n++;
    return n;
  }

  /** Address of row 0's value in a fixed-width column of T (buffer 1 + start). */
  @inline values<T>(): usize {
    return this.array.buffer(1) + (<usize>this.start) * sizeof<T>();
  }
  /** Row i of a fixed-width column of T (i8 for "c", u8 for "C", f32 for "f", ...). */
  @inline get<T>(i: i32): T {
    return load<T>(this.array.buffer(1) + (<usize>(this.start + i)) * sizeof<T>());
  }
  /** Row i of a boolean ("b") column. */
  @inline getBool(i: i32): bool {
    const slot = <usize>(this.start + i);
    return ((load<u8>(this.array.buffer(1) + (slot >>> 3)) >>> <u8>(slot & 7)) & 1) != 0;
  }

  /** Address of row i's bytes in a binary/utf8 (z u Z U) column. */
  bytesPtr(i: i32): usize {
    return this.array.buffer(2) + <usize>this.offsetAt(this.start + i);
  }
  /** Byte length of row i in a binary/utf8 (z u Z U) column. */
  bytesLength(i: i32): i32 {
    const s = this.start + i;
    return <i32>(this.offsetAt(s + 1) - this.offsetAt(s));
  }
  /** Row i of a utf8 column as a string (allocates). A null row's slot is usually empty: check isNull. */
  getString(i: i32): string {
    return String.UTF8.decodeUnsafe(this.bytesPtr(i), <usize>this.bytesLength(i));
  }

  // offsets buffer (buffer 1) entry at slot, int32 or int64 by format.
  private offsetAt(slot: i32): i64 {
    const k = this.info.kind;
    const offs = this.array.buffer(1);
    if (k == Kind.LARGE_BINARY || k == Kind.LARGE_LIST) return load<i64>(offs + (<usize>slot << 3));
    return <i64>load<i32>(offs + (<usize>slot << 2));
  }

  /** N of a fixed_size_list ("+w:N") column, 0 for other formats. */
  get listSize(): i32 {
    const f = this.info;
    return f.kind == Kind.FIXED_SIZE_LIST ? f.width : 0;
  }
  /**
   * The values child of a list, large list, fixed_size_list or map, as a
   * column of its own (row j is item j); rows of this column address it with
   * itemStart/itemEnd.
   */
  items(): Column {
    const a = this.array.child(0);
    return new Column(this.schema.child(0), a, <i32>a.offset, <i32>a.length, this.path + "." + this.schema.child(0).name);
  }
  /** First item of row i in items() (lists, maps, fixed_size_list). */
  itemStart(i: i32): i32 {
    const f = this.info;
    if (f.kind == Kind.FIXED_SIZE_LIST) return (this.start + i) * f.width;
    return <i32>this.offsetAt(this.start + i);
  }
  /** One past the last item of row i in items(). */
  itemEnd(i: i32): i32 {
    const f = this.info;
    if (f.kind == Kind.FIXED_SIZE_LIST) return (this.start + i + 1) * f.width;
    return <i32>this.offsetAt(this.start + i + 1);
  }

  /** Number of children (struct fields, or 1 for lists). */
  get numChildren(): i32 { return this.schema.nChildren; }
  /**
   * Field i of a struct column, row-aligned with this column (the struct's
   * offset carries over to its fields).
   */
  child(i: i32): Column {
    const s = this.schema.child(i);
    const a = this.array.child(i);
    return new Column(s, a, this.start + <i32>a.offset, this.length, this.path + "." + s.name);
  }
  /** The struct field named name, or null. */
  childByName(name: string): Column | null {
    const n = this.schema.nChildren;
    for (let i = 0; i < n; i++) {
      if (this.schema.child(i).nameIs(name)) return this.child(i);
    }
    return null;
  }
  /**
   * The dictionary of a dictionary-encoded column (its indices are this
   * column's values), or null.
   */
  dictionary(): Column | null {
    const sp = this.schema.dictionaryPtr;
    const ap = this.array.dictionaryPtr;
    if (sp == 0 || ap == 0) return null;
    const a = ArrowArray.at(ap);
    return new Column(ArrowSchema.at(sp), a, <i32>a.offset, <i32>a.length, this.path + ".dictionary");
  }
}

/**
 * The input batch of one wasinfer_transform call: a struct array whose
 * children are the columns (spec §4.1). It is borrowed: valid only during the
 * call, and never to be written (spec §5.1).
 */
export class Input {
  constructor(
    public readonly schema: ArrowSchema,
    public readonly array: ArrowArray,
  ) {}

  /** Number of rows. */
  get length(): i32 { return <i32>this.array.length; }
  /** Number of columns. */
  get numColumns(): i32 { return this.schema.nChildren; }
  /** Column i. */
  column(i: i32): Column {
    const s = this.schema.child(i);
    const a = this.array.child(i);
    return new Column(s, a, <i32>this.array.offset + <i32>a.offset, this.length, s.name);
  }
  /** Index of the column named name, or -1. */
  columnIndex(name: string): i32 {
    const n = this.schema.nChildren;
    for (let i = 0; i < n; i++) {
      if (this.schema.child(i).nameIs(name)) return i;
    }
    return -1;
  }
  /** The column named name, or null. */
  columnByName(name: string): Column | null {
    const i = this.columnIndex(name);
    return i < 0 ? null : this.column(i);
  }
  /** The column names, in order. */
  columnNames(): string[] {
    const names = new Array<string>();
    for (let i = 0; i < this.schema.nChildren; i++) names.push(this.schema.child(i).name);
    return names;
  }
  /** The batch's schema-level metadata value for key, or null. */
  metadata(key: string): string | null { return metadataGet(this.schema.metadataPtr, key); }
}
