// node --test: the identity example through a hand-written host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guest, int32Column, utf8Column, imageColumn } from './harness.mjs';

const WASM = new URL('../examples/identity/identity.wasm', import.meta.url).pathname;

function batch() {
  const img = new Uint8Array(2 * 2 * 3).map((_, i) => i);
  return {
    length: 3,
    metadata: [['origin', 'test'], ['ключ', 'значение']],
    columns: [
      int32Column('a', [1, 2, 3], { offset: 5, valid: [true, false, true] }),
      utf8Column('s', ['x', null, 'héllo'], { offset: 2 }),
      imageColumn('image', [img, null, img], 2, 2, 3, { offset: 1, childOffset: 7 }),
      { name: 'st', format: '+s', flags: 2n, length: 3, offset: 1, nullCount: 0, buffers: [null],
        children: [int32Column('x', [0, 10, 20, 30], { offset: 3 })] },
    ],
  };
}

test('module imports only wasi_snapshot_preview1 and exports the ABI', () => {
  const g = new Guest(WASM);
  for (const imp of g.imports) assert.equal(imp.module, 'wasi_snapshot_preview1', `import ${imp.module}.${imp.name}`);
  for (const name of ['memory', 'wasinfer_abi_v1', 'wasinfer_alloc', 'wasinfer_free', 'wasinfer_transform',
    'wasinfer_release', 'wasinfer_last_error', 'wasinfer_init', 'wasinfer_describe', '_initialize']) {
    assert.ok(g.exportNames.includes(name), `export ${name}`);
  }
  assert.ok(!g.exportNames.includes('_start'));
  assert.deepEqual(JSON.parse(g.describe()).name, 'identity');
});

test('identity aliases every input column and keeps schema metadata', () => {
  const g = new Guest(WASM);
  assert.equal(g.init(null), 0);
  const st = g.transform(batch());
  assert.equal(st, 0, g.lastError());
  const out = g.readOutput();
  const inp = { schema: g.readSchema(g.last.inS), array: g.readArray(g.last.inA) };
  assert.equal(out.schema.format, '+s');
  assert.equal(out.schema.name, '');
  assert.equal(out.schema.flags, 0n);
  assert.deepEqual(out.schema.metadata, [['origin', 'test'], ['ключ', 'значение']]);
  assert.equal(out.schema.metadataPtr, inp.schema.metadataPtr, 'schema metadata aliased');
  assert.notEqual(out.schema.release, 0);
  assert.equal(out.array.length, 3);
  assert.equal(out.array.offset, 0);
  assert.equal(out.array.nullCount, 0);
  assert.deepEqual(out.array.buffers, [0]);
  assert.notEqual(out.array.release, 0);
  assert.equal(out.schema.children.length, 4);
  for (let i = 0; i < 4; i++) {
    assert.equal(out.schema.children[i].ptr, inp.schema.children[i].ptr, `schema child ${i} aliased`);
    assert.equal(out.array.children[i].ptr, inp.array.children[i].ptr, `array child ${i} aliased`);
  }
  g.release();
  assert.equal(g.view().getUint32(g.last.outS + 40, true), 0, 'schema released');
  assert.equal(g.view().getUint32(g.last.outA + 52, true), 0, 'array released');
  // the input was not written to
  assert.equal(g.readSchema(g.last.inS).children[0].release, 0);
});

test('identity handles an empty batch and a batch without columns', () => {
  const g = new Guest(WASM);
  let st = g.transform({ length: 0, columns: [int32Column('a', [])] });
  assert.equal(st, 0, g.lastError());
  assert.equal(g.readOutput().array.length, 0);
  g.release();
  st = g.transform({ length: 0, columns: [] });
  assert.equal(st, 0, g.lastError());
  const out = g.readOutput();
  assert.equal(out.schema.children.length, 0);
  g.release();
});

test('identity refuses configuration it does not take', () => {
  const g = new Guest(WASM);
  assert.equal(g.init('{}'), 0);
  assert.equal(g.init('{"k":1}'), 2);
  assert.equal(g.lastError(), 'config: this UDF takes no configuration, got key "k"');
  assert.equal(g.init('[1]'), 2);
  assert.equal(g.lastError(), 'config: must be a JSON object, got an array');
  assert.equal(g.init('{"k":'), 2);
  assert.equal(g.lastError(), 'config: invalid JSON at byte 5: unexpected end of input');
});

test('wasinfer_alloc honours alignment up to 64 and size 0', () => {
  const g = new Guest(WASM);
  const blocks = [];
  for (const align of [1, 2, 4, 8, 16, 32, 64]) {
    for (const size of [0, 1, 7, 100, 70000]) {
      const p = g.alloc(size, align);
      assert.equal(p % align, 0, `alloc(${size}, ${align}) = ${p}`);
      g.mem().fill(0x5a, p, p + size);
      blocks.push([p, size, align]);
    }
  }
  for (const [p, size, align] of blocks) g.x.wasinfer_free(p, size, align);
  g.x.wasinfer_free(0, 0, 8);
  assert.equal(g.x.wasinfer_alloc(16, 3), 0, 'bad alignment');
  assert.equal(g.x.wasinfer_alloc(16, 128), 0, 'alignment above 64');
  assert.equal(g.x.wasinfer_alloc(0xfff00000, 8) >>> 0, 0, 'too large');
});

test('transform and release cycles do not leak', () => {
  const g = new Guest(WASM);
  for (let i = 0; i < 200; i++) { assert.equal(g.transform(batch()), 0); g.release(); }
  const size = g.memorySize();
  for (let i = 0; i < 3000; i++) { assert.equal(g.transform(batch()), 0); g.release(); }
  assert.equal(g.memorySize(), size);
});
