import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundErrorInfo, cutText, storableText, toErrorInfo } from '../../src/core/shared/error-info.js';

describe('error-info', () => {
  it('storableText replaces NULs and lone surrogates, and keeps surrogate pairs', () => {
    assert.equal(storableText('a\u0000b'), 'a\ufffdb');
    assert.equal(storableText('x\ud800y\udc00z'), 'x\ufffdy\ufffdz');
    assert.equal(storableText('rocket 🚀 ß 水'), 'rocket 🚀 ß 水');
    assert.equal(storableText('\ud83d'), '\ufffd', 'a high surrogate at the end');
  });

  it('cutText keeps within the byte limit, never splits a character, and says how much was cut', () => {
    for (const text of ['x'.repeat(10_000), '水'.repeat(5_000), '🚀'.repeat(3_000)]) {
      const cut = cutText(text, 1000);
      assert.ok(Buffer.byteLength(cut) <= 1000, `${Buffer.byteLength(cut)} bytes`);
      assert.ok(!cut.includes('\ufffd'), 'no broken character at the cut');
      assert.match(cut, new RegExp(`… \\[cut: \\d+ more bytes of ${Buffer.byteLength(text)}, not stored\\]$`));
    }
    assert.equal(cutText('short', 1000), 'short');
  });

  it('toErrorInfo never throws, whatever is thrown', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no');
        },
      },
    );
    for (const thrown of [undefined, null, 'text', 42, circular, hostile, Symbol('s'), () => 1]) {
      const info = toErrorInfo(thrown, 'step');
      assert.equal(typeof info.name, 'string');
      assert.equal(typeof info.message, 'string');
      assert.equal(info.step, 'step');
    }
    assert.deepEqual(toErrorInfo({ name: 'Declined', message: 'card declined' }), {
      name: 'Declined',
      message: 'card declined',
    });
  });

  it('boundErrorInfo bounds message and stack separately and cleans every field', () => {
    const info = boundErrorInfo(
      { name: 'E\u0000', message: 'm'.repeat(50_000), stack: 's'.repeat(50_000), code: 'C\ud800' },
      2048,
    );
    assert.equal(info.name, 'E\ufffd');
    assert.equal(info.code, 'C\ufffd');
    assert.ok(Buffer.byteLength(info.message) <= 2048);
    assert.ok(Buffer.byteLength(info.stack!) <= 2048);
  });
});
