// node --test: the normalize example against a scalar JS formula computed
// with Math.fround (spec: /work/briefs/normalize.md semantics, see README).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guest, int32Column, utf8Column, imageColumn, FLAG_NULLABLE } from './harness.mjs';

const WASM = new URL('../examples/normalize/normalize.wasm', import.meta.url).pathname;
const DEFAULT_MEAN = [0.485, 0.456, 0.406], DEFAULT_STD = [0.229, 0.224, 0.225];

// Deterministic pseudo-random bytes.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}
function image(r, n) { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = r() & 0xff; return b; }

function expected(img, h, w, c, mean, std) {
  const out = new Float32Array(h * w * c);
  for (let ch = 0; ch < c; ch++) {
    const m = mean[Math.min(ch, mean.length - 1)], s = std[Math.min(ch, std.length - 1)];
    const scale = Math.fround(1 / (255 * s)), bias = Math.fround(-m / s);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      out[ch * h * w + y * w + x] = Math.fround(Math.fround(img[y * w * c + x * c + ch] * scale) + bias);
    }
  }
  return out;
}

// Reads the tensor column of the output and checks it against the formula.
function checkTensor(g, rows, h, w, c, { mean = DEFAULT_MEAN, std = DEFAULT_STD, name = 'tensor', index = null } = {}) {
  const out = g.readOutput();
  const k = index ?? out.schema.children.length - 1;
  const s = out.schema.children[k], a = out.array.children[k];
  const n = h * w * c;
  assert.equal(s.name, name);
  assert.equal(s.format, `+w:${n}`);
  assert.equal(s.flags, FLAG_NULLABLE);
  assert.deepEqual(s.metadata, [['ARROW:extension:name', 'arrow.fixed_shape_tensor'], ['ARROW:extension:metadata', `{"shape":[${c},${h},${w}]}`]]);
  assert.equal(s.children.length, 1);
  assert.equal(s.children[0].name, 'item');
  assert.equal(s.children[0].format, 'f');
  assert.equal(s.children[0].flags, 0n);
  assert.equal(s.children[0].metadata, null);
  assert.equal(a.length, rows.length);
  const item = a.children[0];
  assert.equal(item.length, rows.length * n);
  assert.equal(item.buffers[0], 0, 'no child nulls');
  const mem = g.mem();
  const validity = a.buffers[0];
  for (let r = 0; r < rows.length; r++) {
    const bit = validity === 0 ? 1 : (mem[validity + ((a.offset + r) >> 3)] >> ((a.offset + r) & 7)) & 1;
    assert.equal(bit, rows[r] === null ? 0 : 1, `validity of row ${r}`);
    const got = new Uint32Array(mem.slice(item.buffers[1] + 4 * (item.offset + (a.offset + r) * n), item.buffers[1] + 4 * (item.offset + (a.offset + r + 1) * n)).buffer);
    const want = rows[r] === null ? new Uint32Array(n) : new Uint32Array(expected(rows[r], h, w, c, mean, std).buffer);
    if (!Buffer.from(got.buffer).equals(Buffer.from(want.buffer))) {
      const i = got.findIndex((v, j) => v !== want[j]);
      assert.fail(`row ${r} element ${i}: got bits ${got[i].toString(16)}, want ${want[i].toString(16)}`);
    }
  }
  return out;
}

test('normalize matches the scalar formula bit for bit (C = 1..4, odd sizes, nulls, offsets)', () => {
  const r = rng(42);
  for (const [h, w, c] of [[1, 1, 1], [1, 1, 3], [2, 3, 3], [5, 7, 3], [4, 4, 4], [3, 5, 2], [9, 11, 2], [16, 9, 1], [40, 40, 1], [32, 32, 3], [7, 13, 4], [17, 23, 4]]) {
    const g = new Guest(WASM);
    assert.equal(g.init(null), 0, g.lastError());
    const n = h * w * c;
    const rows = [image(r, n), null, image(r, n), image(r, n), null, image(r, n)];
    for (const [offset, childOffset] of [[0, 0], [3, 0], [0, 5], [7, 11]]) {
      const st = g.transform({ length: rows.length, columns: [imageColumn('image', rows, h, w, c, { offset, childOffset })] });
      assert.equal(st, 0, g.lastError());
      checkTensor(g, rows, h, w, c);
      g.release();
    }
  }
});

test('normalize passes the other columns through by aliasing, in order', () => {
  const g = new Guest(WASM);
  assert.equal(g.init('{"column":"img","output":"pixels"}'), 0, g.lastError());
  const r = rng(7);
  const rows = [image(r, 12), image(r, 12), image(r, 12)];
  const st = g.transform({ length: 3, columns: [
    int32Column('id', [1, 2, 3], { offset: 2 }),
    imageColumn('img', rows, 2, 2, 3),
    utf8Column('label', ['a', 'b', null]),
  ] });
  assert.equal(st, 0, g.lastError());
  const inp = g.readSchema(g.last.inS), inA = g.readArray(g.last.inA);
  const out = checkTensor(g, rows, 2, 2, 3, { name: 'pixels' });
  assert.deepEqual(out.schema.children.map(s => s.name), ['id', 'label', 'pixels']);
  assert.equal(out.schema.children[0].ptr, inp.children[0].ptr);
  assert.equal(out.schema.children[1].ptr, inp.children[2].ptr);
  assert.equal(out.array.children[0].ptr, inA.children[0].ptr);
  assert.equal(out.array.children[1].ptr, inA.children[2].ptr);
  assert.equal(out.schema.metadata, null);
  g.release();
});

test('normalize applies mean/std from the config (last value repeats)', () => {
  const r = rng(99);
  const cases = [
    ['{"mean":[0.5],"std":[0.25]}', [0.5], [0.25]],
    ['{"mean": [0.1, 0.2, 0.3, 0.4], "std": [0.3, 0.2, 0.1, 0.7]}', [0.1, 0.2, 0.3, 0.4], [0.3, 0.2, 0.1, 0.7]],
    ['{"std":[1e-3, 12.5e1]}', DEFAULT_MEAN, [1e-3, 12.5e1]],
    ['{"mean":[-3.14159265358979323846264338327950288],"std":[0.22500000000000000555]}', [-3.14159265358979323846264338327950288], [0.22500000000000000555]],
    ['{}', DEFAULT_MEAN, DEFAULT_STD],
  ];
  for (const [cfg, mean, std] of cases) {
    const g = new Guest(WASM);
    assert.equal(g.init(cfg), 0, g.lastError());
    const rows = [image(r, 4 * 3 * 4), image(r, 4 * 3 * 4)];
    assert.equal(g.transform({ length: 2, columns: [imageColumn('image', rows, 4, 3, 4)] }), 0, g.lastError());
    checkTensor(g, rows, 4, 3, 4, { mean, std });
    g.release();
  }
});

test('normalize gives 0 rows for an empty batch, with the same schema', () => {
  const g = new Guest(WASM);
  assert.equal(g.transform({ length: 0, columns: [imageColumn('image', [], 2, 2, 3)] }), 0, g.lastError());
  const out = checkTensor(g, [], 2, 2, 3);
  assert.notEqual(out.array.children[0].children[0].buffers[1], 0, 'values buffer is not NULL');
  g.release();
});

test('normalize accepts other keys and whitespace in the tensor metadata', () => {
  const g = new Guest(WASM);
  const r = rng(3);
  const rows = [image(r, 24)];
  const col = imageColumn('image', rows, 2, 4, 3, { shapeJSON: ' { "dim_names" : ["H","W","C"],\n "shape" : [ 2 , 4 , 3 ] } ' });
  assert.equal(g.transform({ length: 1, columns: [col] }), 0, g.lastError());
  checkTensor(g, rows, 2, 4, 3);
  g.release();
});

test('normalize rejects unsupported input with status 3', () => {
  const cases = [
    [{ columns: [int32Column('other', [1])] }, 'column "image": not found in the input (columns: other)'],
    [{ columns: [int32Column('image', [1])] }, 'column "image": expected a fixed_size_list<uint8> (format "+w:N"), got format "i"'],
    [{ columns: [{ ...imageColumn('image', [new Uint8Array(3)], 1, 1, 3), children: [{ name: 'item', format: 'c', length: 3, buffers: [null, new Uint8Array(3)] }] }] },
      'column "image": expected uint8 values (format "C"), got format "c"'],
    [{ columns: [imageColumn('image', [new Uint8Array(3)], 1, 1, 3, { extName: null })] },
      'column "image": expected extension type arrow.fixed_shape_tensor (field metadata ARROW:extension:name), got none'],
    [{ columns: [imageColumn('image', [new Uint8Array(3)], 1, 1, 3, { shapeJSON: '{"shape":[1,3]}' })] },
      'column "image": "shape" must be [H, W, C] with positive integers and 1 ≤ C ≤ 4, got {"shape":[1,3]}'],
    [{ columns: [imageColumn('image', [new Uint8Array(5)], 1, 1, 5)] },
      'column "image": "shape" must be [H, W, C] with positive integers and 1 ≤ C ≤ 4, got {"shape":[1,1,5]}'],
    [{ columns: [imageColumn('image', [new Uint8Array(6)], 1, 2, 3, { shapeJSON: '{"shape":[2,2,3]}' })] },
      'column "image": shape [2, 2, 3] has 12 elements, the list size is 6'],
    [{ columns: [imageColumn('image', [new Uint8Array(3)], 1, 1, 3, { shapeJSON: '{"shape":[1,1,3' })] },
      'column "image": ARROW:extension:metadata: invalid JSON at byte 15: expected \',\' or \']\''],
  ];
  for (const [b, msg] of cases) {
    const g = new Guest(WASM);
    const st = g.transform({ length: 1, ...b });
    assert.equal(st, 3, msg);
    assert.equal(g.lastError(), msg);
    // the instance still works after an error status
    const ok = g.transform({ length: 1, columns: [imageColumn('image', [new Uint8Array(3)], 1, 1, 3)] });
    assert.equal(ok, 0, g.lastError());
    g.release();
  }
});

test('normalize rejects bad configuration with status 2', () => {
  const cases = [
    ['{"scale":1}', 'config: unknown key "scale" (known keys: column, output, mean, std)'],
    ['{"std":[0.1,0]}', 'config: "std"[1] must be > 0, got 0.0'],
    ['{"std":[-1]}', 'config: "std"[0] must be > 0, got -1.0'],
    ['{"std":[]}', 'config: "std" must be an array of 1 to 4 numbers'],
    ['{"mean":[1,2,3,4,5]}', 'config: "mean" must be an array of 1 to 4 numbers'],
    ['{"mean":["0.5"]}', 'config: "mean"[0] must be a number, got a string'],
    ['{"column":7}', 'config: "column" must be a string, got a number'],
    ['{"column":""}', 'config: "column" must not be empty'],
    ['{"mean":[0.5,]}', 'config: invalid JSON at byte 13: unexpected character \']\''],
    ['{"mean":[01]}', 'config: invalid JSON at byte 10: expected \',\' or \']\''],
    ['{"a":1,"a":2}', 'config: invalid JSON at byte 7: duplicate key "a"'],
    ['nope', 'config: invalid JSON at byte 0: unexpected character \'n\''],
  ];
  for (const [cfg, msg] of cases) {
    const g = new Guest(WASM);
    assert.equal(g.init(cfg), 2, cfg);
    assert.equal(g.lastError(), msg, cfg);
  }
});

test('normalize does not leak across batches', () => {
  const g = new Guest(WASM);
  const r = rng(5);
  const rows = Array.from({ length: 8 }, () => image(r, 16 * 16 * 3));
  const b = { length: 8, columns: [imageColumn('image', rows, 16, 16, 3)] };
  for (let i = 0; i < 50; i++) { assert.equal(g.transform(b), 0); g.release(); }
  const size = g.memorySize();
  for (let i = 0; i < 1000; i++) { assert.equal(g.transform(b), 0); g.release(); }
  assert.equal(g.memorySize(), size);
});
