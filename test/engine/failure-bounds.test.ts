/**
 * What one failure stores is bounded: a 5 MB error message retried three times used to add over
 * 100 MB to the store (message and stack, on every attempt, the step and the execution). Log
 * lines are bounded the same way. What is cut says how much.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow } from '../../src/index.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();
const FIVE_MB = 5 * 1024 * 1024;
const bytes = (s: string | undefined) => Buffer.byteLength(s ?? '');

const huge = defineFlow({
  name: 'huge-failure',
  async run(ctx) {
    ctx.log.info('y'.repeat(FIVE_MB), { blob: 'z'.repeat(FIVE_MB) });
    await ctx.step('explode', {
      run: () => {
        throw new Error(`upstream said: ${'x'.repeat(FIVE_MB)}`);
      },
      retry: { maxAttempts: 3, delay: 5, jitter: false },
    });
  },
});

describe('the size of what a failure stores', () => {
  it('cuts a huge error message and stack, on each attempt and on the execution, and says so', async () => {
    const engine = await startEngine({ flows: [huge], store: storeUrl(dir) });
    const h = await engine.run('huge-failure', {});
    await assert.rejects(h.result({ timeoutMs: 20_000 }), { code: 'EXECUTION_FAILED' });
    const e = await engine.executions.get(h.id);
    const errors = [e.error, e.steps[0]?.error, ...(e.steps[0]?.attempts ?? []).map((a) => a.error)];
    assert.equal(errors.length, 5, 'the execution, the step and three attempts');
    for (const error of errors) {
      assert.ok(bytes(error?.message) <= 16 * 1024, `message of ${bytes(error?.message)} bytes`);
      assert.ok(bytes(error?.stack) <= 16 * 1024, `stack of ${bytes(error?.stack)} bytes`);
      assert.match(error?.message ?? '', /^upstream said: x+… \[cut: \d+ more bytes of \d+, not stored\]$/);
    }
    const [line] = e.logs;
    assert.ok(bytes(line?.message) <= 16 * 1024);
    assert.match(line?.message ?? '', /\[cut: \d+ more bytes/);
    assert.equal(typeof line?.data, 'string', 'over-size log data is kept as the start of its JSON text');
    assert.ok(bytes(JSON.stringify(line?.data)) <= 16 * 1024);
    assert.ok(JSON.stringify(e).length < 200_000, `the whole record is ${JSON.stringify(e).length} characters`);
  });

  it('bounds them tighter under a small maxPayloadBytes', async () => {
    const engine = await startEngine({ flows: [huge], store: storeUrl(dir), maxPayloadBytes: 4096 });
    const h = await engine.run('huge-failure', {});
    await assert.rejects(h.result({ timeoutMs: 20_000 }));
    const e = await engine.executions.get(h.id);
    assert.ok(bytes(e.error?.message) <= 1024, `message of ${bytes(e.error?.message)} bytes`);
    assert.ok(bytes(e.steps[0]?.attempts[0]?.error?.stack) <= 1024);
    assert.ok(bytes(e.logs[0]?.message) <= 1024);
  });
});
