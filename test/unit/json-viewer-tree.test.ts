/**
 * The JSON viewer's pure parts: JSON Pointers there and back (keys with `/` and `~`), chunks of
 * children, what loads lazily, sizes in bytes; and the diff's change list.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeChange, valueChanges } from '../../src/server/dashboard/views/diff-changes.js';
import {
  CHILDREN_PER_CHUNK,
  childPath,
  childrenChunk,
  INLINE_STRING_CHARS,
  INLINE_SUBTREE_BYTES,
  jsonBytes,
  loadsLazily,
  valueAt,
} from '../../src/server/dashboard/views/json-viewer-tree.js';

describe('the JSON viewer tree', () => {
  const doc = { 'a/b': { '~x': [10, { deep: 'yes' }] }, list: [], n: null };

  it('finds every child again by the pointer it was given', () => {
    const outer = childrenChunk(doc, '', 0);
    assert.deepEqual(
      outer.map((c) => c.path),
      ['/a~1b', '/list', '/n'],
    );
    const inner = childrenChunk(doc['a/b'], outer[0]!.path, 0);
    assert.equal(inner[0]!.path, '/a~1b/~0x');
    assert.deepEqual(valueAt(doc, `${inner[0]!.path}/1/deep`), { found: true, value: 'yes' });
    assert.deepEqual(valueAt(doc, ''), { found: true, value: doc });
    assert.deepEqual(valueAt(doc, '/n'), { found: true, value: null });
  });

  it('finds nothing where nothing is: missing keys, bad indexes, inherited properties, no leading slash', () => {
    for (const pointer of ['/missing', '/a~1b/~0x/2', '/a~1b/~0x/01', '/a~1b/~0x/-1', '/toString', 'list', '/n/x']) {
      assert.deepEqual(valueAt(doc, pointer), { found: false }, pointer);
    }
    assert.equal(childPath('', 'a~/b'), '/a~0~1b');
  });

  it('gives children a chunk at a time, in order', () => {
    const big = Array.from({ length: CHILDREN_PER_CHUNK * 2 + 5 }, (_, i) => i);
    const third = childrenChunk(big, '/xs', CHILDREN_PER_CHUNK * 2);
    assert.deepEqual(
      third.map((c) => [c.key, c.value]),
      [0, 1, 2, 3, 4].map((i) => [String(CHILDREN_PER_CHUNK * 2 + i), CHILDREN_PER_CHUNK * 2 + i]),
    );
    assert.equal(childrenChunk(big, '', 0).length, CHILDREN_PER_CHUNK);
  });

  it('loads big subtrees and long strings lazily, and counts bytes as UTF-8 JSON', () => {
    assert.equal(loadsLazily({ s: 'x'.repeat(INLINE_SUBTREE_BYTES) }), true);
    assert.equal(loadsLazily({ s: 'x'.repeat(100) }), false);
    assert.equal(loadsLazily('x'.repeat(INLINE_STRING_CHARS + 1)), true);
    assert.equal(loadsLazily('x'.repeat(INLINE_STRING_CHARS)), false);
    assert.equal(loadsLazily({}), false);
    assert.equal(jsonBytes({ é: 'ü' }), Buffer.byteLength('{"é":"ü"}'));
  });
});

describe("the diff's change list", () => {
  it('names each changed, added and removed value by its pointer', () => {
    const { changes, total } = valueChanges(
      { id: 'bad-1', lines: [1, 2, 3], gone: true, same: { x: 1 } },
      { id: 'fixed-1', lines: [1, 5], note: 'new', same: { x: 1 } },
    );
    assert.equal(total, 5);
    assert.deepEqual(changes.map(describeChange), [
      '/id: "bad-1" → "fixed-1"',
      '/lines/1: 2 → 5',
      'removed /lines/2 (was 3)',
      'removed /gone (was true)',
      'added /note: "new"',
    ]);
  });

  it('counts every change but lists only the first ones, and treats a type change as one change', () => {
    const a = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const b = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, -i - 1]));
    const { changes, total } = valueChanges(a, b, 20);
    assert.equal(total, 50);
    assert.equal(changes.length, 20);
    assert.deepEqual(valueChanges([1], { 0: 1 }).changes.map(describeChange), ['the whole value: [1] → {"0":1}']);
    assert.deepEqual(valueChanges(undefined, { erpId: 'e' }).changes.map(describeChange), [
      'added the whole value: {"erpId":"e"}',
    ]);
    assert.equal(valueChanges({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }).total, 0);
  });
});
