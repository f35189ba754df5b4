// Test harness: instantiates a wasinfer guest in node's WebAssembly with a
// tiny WASI shim, writes Arrow C Data Interface structs into its memory by
// hand (as the Go host does, spec §4-§5), and reads the output back.

import fs from 'node:fs';

// Struct layout (spec §4).
export const S = { size: 48, format: 0, name: 4, metadata: 8, flags: 16, nChildren: 24, children: 32, dictionary: 36, release: 40, privateData: 44 };
export const A = { size: 64, length: 0, nullCount: 8, offset: 16, nBuffers: 24, nChildren: 32, buffers: 40, children: 44, dictionary: 48, release: 52, privateData: 56 };
export const FLAG_NULLABLE = 2n;

const ENOSYS = 52;

export class Guest {
  constructor(path) {
    this.stderr = '';
    this.stdout = '';
    const self = this;
    const wasi = new Proxy({
      fd_write(fd, iovs, n, nwritten) {
        const dv = self.view();
        let total = 0;
        for (let i = 0; i < n; i++) {
          const p = dv.getUint32(iovs + 8 * i, true), l = dv.getUint32(iovs + 8 * i + 4, true);
          const s = Buffer.from(self.mem().subarray(p, p + l)).toString('utf8');
          if (fd === 2) self.stderr += s; else if (fd === 1) self.stdout += s; else return 8; // EBADF
          total += l;
        }
        dv.setUint32(nwritten, total, true);
        return 0;
      },
      random_get(buf, len) {
        const m = self.mem();
        for (let i = 0; i < len; i++) m[buf + i] = (i * 131 + 7) & 0xff; // deterministic
        return 0;
      },
    }, { get: (t, k) => t[k] ?? (() => ENOSYS) });
    const mod = new WebAssembly.Module(fs.readFileSync(path));
    this.imports = WebAssembly.Module.imports(mod);
    this.exportNames = WebAssembly.Module.exports(mod).map(e => e.name);
    this.instance = new WebAssembly.Instance(mod, { wasi_snapshot_preview1: wasi });
    this.x = this.instance.exports;
    if (this.x._initialize) this.x._initialize();
    this.inBlock = 0;
    this.inSize = 0;
  }
  mem() { return new Uint8Array(this.x.memory.buffer); }
  view() { return new DataView(this.x.memory.buffer); }
  memorySize() { return this.x.memory.buffer.byteLength; }

  alloc(size, align) {
    const p = this.x.wasinfer_alloc(size, align) >>> 0;
    if (p === 0) throw new Error(`wasinfer_alloc(${size}, ${align}) returned 0`);
    return p;
  }
  lastError() {
    const v = BigInt.asUintN(64, this.x.wasinfer_last_error());
    const ptr = Number(v >> 32n), len = Number(v & 0xffffffffn);
    return Buffer.from(this.mem().subarray(ptr, ptr + len)).toString('utf8');
  }
  describe() {
    const v = BigInt.asUintN(64, this.x.wasinfer_describe());
    const ptr = Number(v >> 32n), len = Number(v & 0xffffffffn);
    return Buffer.from(this.mem().subarray(ptr, ptr + len)).toString('utf8');
  }
  init(config) {
    if (config === undefined || config === null) return this.x.wasinfer_init(0, 0);
    const b = Buffer.from(config, 'utf8');
    const p = this.alloc(b.length, 1);
    this.mem().set(b, p);
    const st = this.x.wasinfer_init(p, b.length);
    this.x.wasinfer_free(p, b.length, 1);
    return st;
  }

  // Writes a batch into one block, as the host does (spec §5.1), and calls
  // wasinfer_transform. batch: {columns: [col], length, metadata?}.
  // col: {name, format, flags?, metadata?, length, nullCount?, offset?, buffers: [Uint8Array|null], children?, dictionary?}
  transform(batch) {
    const w = new Writer();
    const outS = w.reserve(S.size, 8), outA = w.reserve(A.size, 8);
    const top = { name: '', format: '+s', flags: 0n, metadata: batch.metadata, length: batch.length, nullCount: 0, offset: 0, buffers: [null], children: batch.columns };
    const root = w.node(top);
    if (w.size > this.inSize) {
      if (this.inBlock) this.x.wasinfer_free(this.inBlock, this.inSize, 64);
      this.inSize = Math.max(w.size, 4096);
      this.inBlock = this.alloc(this.inSize, 64);
      // fill the block with garbage first, so zeroed-output assumptions show
      this.mem().fill(0xa5, this.inBlock, this.inBlock + this.inSize);
    }
    const base = this.inBlock;
    w.emit(this.mem(), this.view(), base);
    const p = (x) => x + base;
    this.last = { outS: p(outS), outA: p(outA), inS: p(root.s), inA: p(root.a), base };
    this.mem().fill(0, p(outS), p(outS) + S.size);
    this.mem().fill(0, p(outA), p(outA) + A.size);
    const st = this.x.wasinfer_transform(p(root.s), p(root.a), p(outS), p(outA));
    return st;
  }
  release() {
    this.x.wasinfer_release(this.last.outS, this.last.outA);
  }

  // Reads the output tree (after a zero status).
  readOutput() {
    return { schema: this.readSchema(this.last.outS), array: this.readArray(this.last.outA) };
  }
  cstr(p) {
    if (p === 0) return null;
    const m = this.mem();
    let e = p;
    while (m[e] !== 0) e++;
    return Buffer.from(m.subarray(p, e)).toString('utf8');
  }
  readMetadata(p) {
    if (p === 0) return null;
    const dv = this.view(), m = this.mem();
    const n = dv.getInt32(p, true);
    let q = p + 4;
    const pairs = [];
    for (let i = 0; i < n; i++) {
      const kl = dv.getInt32(q, true); const k = Buffer.from(m.subarray(q + 4, q + 4 + kl)).toString('utf8'); q += 4 + kl;
      const vl = dv.getInt32(q, true); const v = Buffer.from(m.subarray(q + 4, q + 4 + vl)).toString('utf8'); q += 4 + vl;
      pairs.push([k, v]);
    }
    return pairs;
  }
  readSchema(p) {
    const dv = this.view();
    const n = Number(dv.getBigInt64(p + S.nChildren, true));
    const cp = dv.getUint32(p + S.children, true);
    const children = [];
    for (let i = 0; i < n; i++) children.push(this.readSchema(dv.getUint32(cp + 4 * i, true)));
    return {
      ptr: p, format: this.cstr(dv.getUint32(p + S.format, true)), name: this.cstr(dv.getUint32(p + S.name, true)),
      metadataPtr: dv.getUint32(p + S.metadata, true), metadata: this.readMetadata(dv.getUint32(p + S.metadata, true)),
      flags: dv.getBigInt64(p + S.flags, true), children, release: dv.getUint32(p + S.release, true),
    };
  }
  readArray(p) {
    const dv = this.view();
    const nb = Number(dv.getBigInt64(p + A.nBuffers, true));
    const bp = dv.getUint32(p + A.buffers, true);
    const buffers = [];
    for (let i = 0; i < nb; i++) buffers.push(dv.getUint32(bp + 4 * i, true));
    const n = Number(dv.getBigInt64(p + A.nChildren, true));
    const cp = dv.getUint32(p + A.children, true);
    const children = [];
    for (let i = 0; i < n; i++) children.push(this.readArray(dv.getUint32(cp + 4 * i, true)));
    return {
      ptr: p, length: Number(dv.getBigInt64(p + A.length, true)), nullCount: Number(dv.getBigInt64(p + A.nullCount, true)),
      offset: Number(dv.getBigInt64(p + A.offset, true)), buffers, children, release: dv.getUint32(p + A.release, true),
    };
  }
}

// Lays out a batch in a block: structs (8-aligned), strings, buffers (64-aligned).
class Writer {
  constructor() { this.size = 0; this.ops = []; }
  reserve(n, align) {
    this.size = (this.size + align - 1) & ~(align - 1);
    const at = this.size;
    this.size += n;
    return at;
  }
  bytes(b, align) { const at = this.reserve(b.length, align); this.ops.push([at, b]); return at; }
  cstr(s) { return s === null || s === undefined ? null : this.bytes(Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]), 1); }
  metadata(pairs) {
    if (!pairs) return null;
    const parts = [i32(pairs.length)];
    for (const [k, v] of pairs) {
      const kb = Buffer.from(k, 'utf8'), vb = Buffer.from(v, 'utf8');
      parts.push(i32(kb.length), kb, i32(vb.length), vb);
    }
    return this.bytes(Buffer.concat(parts), 4);
  }
  node(c) {
    const s = this.reserve(S.size, 8), a = this.reserve(A.size, 8);
    const kids = (c.children || []).map(k => this.node(k));
    const dict = c.dictionary ? this.node(c.dictionary) : null;
    const bufs = (c.buffers || []).map(b => (b === null || b === undefined) ? null : this.bytes(b, 64));
    const bl = this.reserve(4 * Math.max(bufs.length, 1), 4);
    const scl = this.reserve(4 * Math.max(kids.length, 1), 4), acl = this.reserve(4 * Math.max(kids.length, 1), 4);
    const fmt = this.cstr(c.format), name = this.cstr(c.name ?? ''), md = this.metadata(c.metadata);
    this.ops.push({ fill: (mem, dv, base) => {
      const P = (x) => x === null ? 0 : x + base;
      dv.setUint32(s + base + S.format, P(fmt), true);
      dv.setUint32(s + base + S.name, P(name), true);
      dv.setUint32(s + base + S.metadata, P(md), true);
      dv.setUint32(s + base + 12, 0, true);
      dv.setBigInt64(s + base + S.flags, BigInt(c.flags ?? 0n), true);
      dv.setBigInt64(s + base + S.nChildren, BigInt(kids.length), true);
      dv.setUint32(s + base + S.children, kids.length ? P(scl) : 0, true);
      dv.setUint32(s + base + S.dictionary, dict ? P(dict.s) : 0, true);
      dv.setUint32(s + base + S.release, 0, true);
      dv.setUint32(s + base + S.privateData, 0, true);
      dv.setBigInt64(a + base + A.length, BigInt(c.length), true);
      dv.setBigInt64(a + base + A.nullCount, BigInt(c.nullCount ?? 0), true);
      dv.setBigInt64(a + base + A.offset, BigInt(c.offset ?? 0), true);
      dv.setBigInt64(a + base + A.nBuffers, BigInt(bufs.length), true);
      dv.setBigInt64(a + base + A.nChildren, BigInt(kids.length), true);
      dv.setUint32(a + base + A.buffers, P(bl), true);
      dv.setUint32(a + base + A.children, kids.length ? P(acl) : 0, true);
      dv.setUint32(a + base + A.dictionary, dict ? P(dict.a) : 0, true);
      dv.setUint32(a + base + A.release, 0, true);
      dv.setUint32(a + base + A.privateData, 0, true);
      bufs.forEach((b, i) => dv.setUint32(bl + base + 4 * i, P(b), true));
      kids.forEach((k, i) => { dv.setUint32(scl + base + 4 * i, P(k.s), true); dv.setUint32(acl + base + 4 * i, P(k.a), true); });
    } });
    return { s, a };
  }
  emit(mem, dv, base) {
    for (const op of this.ops) {
      if (Array.isArray(op)) mem.set(op[1], base + op[0]);
      else op.fill(mem, dv, base);
    }
  }
}

function i32(v) { const b = Buffer.alloc(4); b.writeInt32LE(v); return b; }

// ---- column constructors

export function bitmap(valid) { // valid: array of bool
  const b = new Uint8Array(Math.ceil(valid.length / 8) || 1);
  valid.forEach((v, i) => { if (v) b[i >> 3] |= 1 << (i & 7); });
  return b;
}

export function nullsOf(valid) { return valid.filter(v => !v).length; }

// A primitive column with `offset` leading junk slots.
export function int32Column(name, values, { offset = 0, valid = null, metadata = null } = {}) {
  const all = [...Array(offset).fill(-999), ...values];
  const v = valid ? [...Array(offset).fill(false), ...valid] : null;
  return {
    name, format: 'i', flags: FLAG_NULLABLE, metadata, length: values.length, offset,
    nullCount: valid ? nullsOf(valid) : 0,
    buffers: [v ? bitmap(v) : null, new Uint8Array(new Int32Array(all).buffer)],
  };
}

export function utf8Column(name, values, { offset = 0 } = {}) {
  const all = [...Array(offset).fill('junk'), ...values];
  const offs = [0];
  const data = [];
  for (const s of all) { const b = Buffer.from(s ?? '', 'utf8'); data.push(b); offs.push(offs[offs.length - 1] + b.length); }
  const valid = all.map(s => s !== null);
  const nulls = nullsOf(valid.slice(offset));
  return {
    name, format: 'u', flags: FLAG_NULLABLE, length: values.length, offset, nullCount: nulls,
    buffers: [nulls ? bitmap(valid) : null, new Uint8Array(new Int32Array(offs).buffer), new Uint8Array(Buffer.concat(data))],
  };
}

// A fixed_shape_tensor<uint8>[h,w,c] column. rows: array of Uint8Array(h*w*c) or null.
export function imageColumn(name, rows, h, w, c, { offset = 0, childOffset = 0, shapeJSON = null, extName = 'arrow.fixed_shape_tensor' } = {}) {
  const n = h * w * c;
  const total = offset + rows.length;
  const values = new Uint8Array(childOffset + total * n).fill(0xee);
  rows.forEach((r, i) => { if (r) values.set(r, childOffset + (offset + i) * n); });
  const valid = [...Array(offset).fill(true), ...rows.map(r => r !== null)];
  const nulls = nullsOf(valid);
  const metadata = [];
  if (extName !== null) metadata.push(['ARROW:extension:name', extName]);
  metadata.push(['ARROW:extension:metadata', shapeJSON ?? JSON.stringify({ shape: [h, w, c] })]);
  return {
    name, format: `+w:${n}`, flags: FLAG_NULLABLE, metadata, length: rows.length, offset, nullCount: nulls,
    buffers: [nulls ? bitmap(valid) : null],
    children: [{ name: 'item', format: 'C', flags: 0n, length: total * n, offset: childOffset, nullCount: 0, buffers: [null, values] }],
  };
}
