// node --test (make native-test): __NAME__.wasm in node's WebAssembly, called
// the way the host calls it. The harness (../wasinfer-sdk/test/harness.mjs,
// from the SDK) writes Arrow C Data Interface structures into the module's
// memory by hand and reads the output back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guest, FLAG_NULLABLE, bitmap, nullsOf } from '../wasinfer-sdk/test/harness.mjs';

const WASM = new URL('../__NAME__.wasm', import.meta.url).pathname;

// An int64 ("l") or float64 ("g") column with `offset` junk slots first, as
// the host may send it; null in values is a null row.
function column(name, format, values, { offset = 0 } = {}) {
  const all = [...Array(offset).fill(99), ...values.map(v => v ?? 0)];
  const data = format === 'l' ? new BigInt64Array(all.map(v => BigInt(v))) : new Float64Array(all);
  const valid = [...Array(offset).fill(true), ...values.map(v => v !== null)];
  const nulls = nullsOf(valid);
  return {
    name, format, flags: FLAG_NULLABLE, length: values.length, offset, nullCount: nulls,
    buffers: [nulls ? bitmap(valid) : null, new Uint8Array(data.buffer)],
  };
}

// The column every test batch starts with.
function idColumn(n) { return column('id', 'l', [...Array(n).keys()], { offset: 2 }); }

// Runs one batch and returns the new column's values (null for a null row).
function scaled(config, col) {
  const g = new Guest(WASM);
  assert.equal(g.init(config), 0, g.lastError());
  const st = g.transform({ length: col.length, columns: [idColumn(col.length), col] });
  assert.equal(st, 0, g.lastError());
  const out = g.readOutput();
  assert.equal(out.schema.children.length, 3);
  const inp = g.readSchema(g.last.inS);
  for (let i = 0; i < 2; i++) assert.equal(out.schema.children[i].ptr, inp.children[i].ptr, `column ${i} is passed through`);
  const s = out.schema.children[2], a = out.array.children[2];
  assert.deepEqual([s.name, s.format], [col.name + '_out', 'g']);
  const dv = g.view(), got = [];
  for (let r = 0; r < a.length; r++) {
    const slot = a.offset + r;
    const valid = a.buffers[0] === 0 || ((g.mem()[a.buffers[0] + (slot >> 3)] >> (slot & 7)) & 1) === 1;
    got.push(valid ? dv.getFloat64(a.buffers[1] + 8 * slot, true) : null);
  }
  g.release();
  return got;
}

test('the module exports the ABI and imports only WASI', () => {
  const g = new Guest(WASM);
  for (const imp of g.imports) assert.equal(imp.module, 'wasi_snapshot_preview1', `import ${imp.module}.${imp.name}`);
  for (const name of ['memory', '_initialize', 'wasinfer_abi_v1', 'wasinfer_transform', 'wasinfer_init']) {
    assert.ok(g.exportNames.includes(name), `export ${name}`);
  }
  assert.equal(JSON.parse(g.describe()).name, '__NAME__');
});

test('scales an int64 column with nulls', () => {
  assert.deepEqual(scaled('{"factor": 2.5}', column('value', 'l', [3, -2, null, 1500], { offset: 3 })), [7.5, -5, null, 3750]);
});

test('scales a float64 column by the default factor', () => {
  assert.deepEqual(scaled('{"column": "score"}', column('score', 'g', [0.5, -1.25, null], { offset: 1 })), [1, -2.5, null]);
});

test('transform errors name the column and the row', () => {
  const cases = [
    ['{"factor": 1e306}', column('value', 'l', [1, 2, 1000]), 1, 'column "value": row 2: value * factor is not finite'],
    ['{"column": "nope"}', column('value', 'l', [1]), 3, 'column "nope": not found in the input (columns: "id", "value")'],
    ['{"column": "id"}', column('id_out', 'l', [1]), 3, 'column "id_out": already in the input'],
    ['{}', { ...column('value', 'l', [1]), format: 'i', buffers: [null, new Uint8Array(4)] }, 3,
      'column "value": want int64 or float64, got format "i"'],
  ];
  for (const [config, col, status, message] of cases) {
    const g = new Guest(WASM);
    assert.equal(g.init(config), 0, g.lastError());
    assert.equal(g.transform({ length: col.length, columns: [idColumn(col.length), col] }), status, config);
    assert.equal(g.lastError(), message);
  }
});

test('configuration errors', () => {
  const cases = [
    ['{"factr": 2}', 'config: unknown key "factr" (known keys: column, factor)'],
    ['{"factor": "2"}', 'config: "factor" must be a number, got a string'],
    ['{"column": 7}', 'config: "column" must be a string, got a number'],
    ['{"column": ""}', 'config: "column" must not be empty'],
  ];
  for (const [config, message] of cases) {
    const g = new Guest(WASM);
    assert.equal(g.init(config), 2, config);
    assert.equal(g.lastError(), message);
  }
});
