// node --test: SDK readers and builders through a test-only UDF
// (test/udfs/kitchen.ts, built into test/build/ by `make native-test`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guest, int32Column, utf8Column, bitmap, FLAG_NULLABLE } from './harness.mjs';

const WASM = new URL('./build/kitchen.wasm', import.meta.url).pathname;

function guest(mode) {
  const g = new Guest(WASM);
  assert.equal(g.init(JSON.stringify({ mode })), 0, g.lastError());
  return g;
}

function readI32(g, p, i) { return g.view().getInt32(p + 4 * i, true); }
function readI64(g, p, i) { return g.view().getBigInt64(p + 8 * i, true); }
function bit(g, p, i) { return p === 0 ? 1 : (g.mem()[p + (i >> 3)] >> (i & 7)) & 1; }
function str(g, arr, i, large = false) {
  const o = large ? (k) => Number(readI64(g, arr.buffers[1], k)) : (k) => readI32(g, arr.buffers[1], k);
  const s = arr.offset + i;
  return Buffer.from(g.mem().subarray(arr.buffers[2] + o(s), arr.buffers[2] + o(s + 1))).toString('utf8');
}

const input = () => ({
  length: 5,
  columns: [
    int32Column('a', [5, -1, 7, 0, 9], { offset: 3, valid: [true, true, false, true, true] }),
    utf8Column('s', ['abc', 'héllo', null, '', 'wörld'], { offset: 1 }),
  ],
});

test('builders: utf8 append, int32, bool and int64 with nulls', () => {
  const g = guest('strings');
  assert.equal(g.transform(input()), 0, g.lastError());
  const { schema, array } = g.readOutput();
  assert.deepEqual(schema.children.map(c => [c.name, c.format, c.flags]),
    [['upper', 'u', FLAG_NULLABLE], ['len', 'i', 0n], ['a_valid', 'b', 0n], ['a_plus_one', 'l', FLAG_NULLABLE]]);
  assert.equal(array.length, 5);
  const [up, len, valid, plus] = array.children;
  for (const c of array.children) assert.equal(c.length, 5);
  assert.deepEqual([0, 1, 2, 3, 4].map(i => bit(g, up.buffers[0], i) ? str(g, up, i) : null), ['ABC', 'HÉLLO', null, '', 'WÖRLD']);
  assert.equal(up.nullCount, 1);
  assert.deepEqual([0, 1, 2, 3, 4].map(i => readI32(g, len.buffers[1], i)), [3, 6, 0, 0, 6]);
  assert.equal(len.buffers[0], 0);
  assert.deepEqual([0, 1, 2, 3, 4].map(i => bit(g, valid.buffers[1], i)), [1, 1, 0, 1, 1]);
  assert.deepEqual([0, 1, 2, 3, 4].map(i => bit(g, plus.buffers[0], i) ? readI64(g, plus.buffers[1], i) : null), [6n, 0n, null, 1n, 10n]);
  assert.equal(plus.nullCount, 1);
  for (const c of array.children) for (const b of c.buffers) if (b) assert.equal(b % 64, 0, 'buffers are 64-byte aligned');
  g.release();
});

test('builders: a filter changes the row count; large_utf8 output', () => {
  const g = guest('filter');
  assert.equal(g.transform(input()), 0, g.lastError());
  const { schema, array } = g.readOutput();
  assert.equal(array.length, 2);
  assert.deepEqual(schema.children.map(c => c.format), ['i', 'U']);
  const [a, s] = array.children;
  assert.deepEqual([0, 1].map(i => readI32(g, a.buffers[1], i)), [5, 9]);
  assert.deepEqual([0, 1].map(i => str(g, s, i, true)), ['abc', 'wörld']);
  g.release();
  // an empty result
  assert.equal(g.transform({ length: 1, columns: [int32Column('a', [-3]), utf8Column('s', ['x'])] }), 0, g.lastError());
  const out = g.readOutput();
  assert.equal(out.array.length, 0);
  assert.notEqual(out.array.children[1].buffers[1], 0, 'offsets buffer allocated for an empty column');
  assert.notEqual(out.array.children[1].buffers[2], 0, 'data buffer allocated for an empty column');
  g.release();
});

test('readers: struct fields and list items honour offsets; builders: struct children, metadata', () => {
  const g = guest('struct');
  // st: struct offset 1 over x (own offset 2) and y; l: +l with offset 2 over items with offset 1
  const x = int32Column('x', [0, 1, 2, 3, 4], { offset: 2, valid: [true, true, false, true, true] });
  const y = int32Column('y', [100, 10, 20, 30, 40]);
  const st = { name: 'st', format: '+s', flags: FLAG_NULLABLE, length: 4, offset: 1, nullCount: 1,
    buffers: [bitmap([true, true, true, false, true])], children: [x, y] };
  const items = int32Column('item', [1, 2, 3, 4, 5, 6, 7], { offset: 1 });
  const l = { name: 'l', format: '+l', flags: FLAG_NULLABLE, length: 4, offset: 2, nullCount: 0,
    buffers: [null, new Uint8Array(new Int32Array([99, 99, 0, 1, 3, 3, 7]).buffer)], children: [items] };
  assert.equal(g.transform({ length: 4, columns: [st, l] }), 0, g.lastError());
  const { schema, array } = g.readOutput();
  assert.deepEqual(schema.metadata, [['made-by', 'kitchen']]);
  const pair = schema.children[0];
  assert.equal(pair.format, '+s');
  assert.deepEqual(pair.metadata, [['k', 'v']]);
  assert.deepEqual(pair.children.map(c => [c.name, c.format, c.flags]), [['sum', 'i', FLAG_NULLABLE], ['l_sum', 'l', 0n]]);
  const pa = array.children[0];
  assert.equal(pa.length, 4);
  assert.deepEqual([0, 1, 2, 3].map(i => bit(g, pa.buffers[0], i)), [1, 1, 0, 1]);
  const [sum, lsum] = pa.children;
  // row i: x = x[1 + i] (values 1,2,3,4 with 2 null), y = y[1 + i] (10,20,30,40)
  assert.deepEqual([0, 1, 2, 3].map(i => bit(g, sum.buffers[0], i) ? readI32(g, sum.buffers[1], i) : null), [11, null, 33, 44]);
  // l rows are offsets slots 2..6 = 0,1,3,3,7 into items 1..7 (the item array's own offset skips junk)
  assert.deepEqual([0, 1, 2, 3].map(i => readI64(g, lsum.buffers[1], i)), [1n, 5n, 0n, 22n]);
  g.release();
});

test('errors: pass-through with a changed row count, unfinished appends, silent and odd statuses', () => {
  let g = guest('bad-length');
  assert.equal(g.transform(input()), 1);
  assert.equal(g.lastError(), 'output has 6 rows but passes through input columns of 5 rows');
  g = guest('unfinished');
  assert.equal(g.transform(input()), 1);
  assert.equal(g.lastError(), 'output column "u": 1 of 5 slots appended');
  g = guest('silent');
  assert.equal(g.transform(input()), 1);
  assert.equal(g.lastError(), 'transform returned status 1 without a message');
  g = guest('status9');
  assert.equal(g.transform(input()), 9);
  assert.equal(g.lastError(), 'transform returned status 9 without a message');
  // the failed transforms freed what they built: the instance keeps working
  g = guest('strings');
  assert.equal(g.transform(input()), 0, g.lastError());
  g.release();
});

test('errors: unknown config keys and wrong types', () => {
  const g = new Guest(WASM);
  assert.equal(g.init('{"mode":"x","extra":1}'), 2);
  assert.equal(g.lastError(), 'config: unknown key "extra" (known keys: mode)');
  assert.equal(g.init('{"mode":["x"]}'), 2);
  assert.equal(g.lastError(), 'config: "mode" must be a string, got an array');
  assert.equal(g.init('{"mode":"a\\u00e9\\ud83d\\ude00\\n"}'), 0, g.lastError());
  assert.equal(g.transform(input()), 1);
  assert.equal(g.lastError(), 'unknown mode aé😀\n');
});

test('log writes to stderr; throw aborts with a message on stderr and traps', () => {
  let g = guest('log');
  assert.equal(g.transform(input()), 0, g.lastError());
  assert.equal(g.stderr, 'hello from kitchen\n');
  g.release();
  g = guest('throw');
  assert.throws(() => g.transform(input()), WebAssembly.RuntimeError);
  assert.match(g.stderr, /^abort: kitchen exploded at test\/udfs\/kitchen\.ts:\d+:\d+\n$/);
});

// Random decimal strings; the guest's JSON numbers must equal JavaScript's
// Number(), which is correctly rounded.
test('JSON numbers are correctly rounded', () => {
  const g = new Guest(WASM);
  let seed = 12345;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  const cases = ['0', '-0', '0.485', '0.456', '0.406', '0.229', '0.224', '0.225', '1e-300', '2.2250738585072011e-308',
    '2.2250738585072014e-308', '4.9e-324', '2.4703282292062327e-324', '2.4703282292062328e-324', '1.7976931348623157e308',
    '1.7976931348623158e308', '1.7976931348623159e308', '1e309', '1e-400', '9007199254740993', '9007199254740993.0000000001',
    '0.1', '123456789012345678901234567890', '1' + '0'.repeat(400) + 'e-400', '0.' + '0'.repeat(500) + '1e500',
    '2.5', '-1.5e-10', '7.2057594037927933e16', '1' + '9'.repeat(900) + 'e-900', '3.0000000000000001'];
  for (let i = 0; i < 20000; i++) {
    const digits = 1 + rnd(25);
    let d = '';
    for (let k = 0; k < digits; k++) d += String(rnd(10));
    d = d.replace(/^0+(?=\d)/, '');
    const dot = rnd(d.length + 1);
    let s = dot > 0 && dot < d.length ? d.slice(0, dot) + '.' + d.slice(dot) : d;
    if (rnd(3) === 0) s += 'e' + (rnd(2) ? '-' : '') + rnd(330);
    if (rnd(4) === 0) s = '-' + s;
    cases.push(s);
  }
  for (let i = 0; i < 5000; i++) {
    const x = Math.random() * 10 ** (rnd(60) - 30);
    cases.push(String(x), x.toPrecision(17), x.toExponential(20));
  }
  let bad = 0;
  const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);
  const bits = (v) => { f64[0] = v; return u64[0]; };
  for (const s of cases) {
    const b = Buffer.from(s);
    const p = g.alloc(b.length, 1);
    g.mem().set(b, p);
    const got = g.x.probe_parse(p, b.length);
    g.x.wasinfer_free(p, b.length, 1);
    const want = Number(s);
    if (bits(got) !== bits(want)) { bad++; if (bad < 10) console.log(`${s}: got ${got}, want ${want}`); }
  }
  assert.equal(bad, 0, `${bad} of ${cases.length} numbers misrounded`);
});
