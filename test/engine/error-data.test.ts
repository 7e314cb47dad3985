/**
 * Whatever a step throws, its failure is recorded: an Error whose `message` or `name` is not a
 * string (or whose getters throw) used to make the failure write throw, leaving the execution
 * running and leased; and a failure while writing a failure must never leave it leased.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow, FatalError, type Store } from '../../src/index.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();

function oddError(kind: string): unknown {
  const err = new FatalError('placeholder');
  if (kind === 'object message') Object.defineProperty(err, 'message', { value: { detail: 'no stock', sku: 7 } });
  if (kind === 'number name') Object.defineProperty(err, 'name', { value: 404 });
  if (kind === 'symbol name') Object.defineProperty(err, 'name', { value: Symbol('x') });
  if (kind === 'throwing getters') {
    // The stack first: redefining it formats the stack, which reads the message.
    Object.defineProperty(err, 'stack', { value: 12 });
    Object.defineProperty(err, 'message', {
      get() {
        throw new Error('no message for you');
      },
    });
    Object.defineProperty(err, 'name', {
      get() {
        throw new Error('no name either');
      },
    });
  }
  return err;
}

describe('error data that is not what it should be', () => {
  it('records a thrown Error whose message or name is not a string, and fails the execution', async () => {
    const kinds = ['object message', 'number name', 'symbol name', 'throwing getters'];
    const flow = defineFlow({
      name: 'odd-errors',
      async run(ctx, input: { kind: string }) {
        return ctx.step('throws', { run: () => Promise.reject(oddError(input.kind)), retry: { maxAttempts: 1 } });
      },
    });
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir) });
    for (const kind of kinds) {
      const h = await engine.run('odd-errors', { kind });
      await assert.rejects(h.result({ timeoutMs: 5000 }), { code: 'EXECUTION_FAILED' }, kind);
      const e = await engine.executions.get(h.id);
      assert.equal(e.status, 'failed', kind);
      assert.equal(typeof e.error?.name, 'string', kind);
      assert.equal(typeof e.error?.message, 'string', kind);
      assert.equal(e.steps[0]?.status, 'failed', kind);
      assert.equal(e.steps[0]?.attempts[0]?.status, 'failed', `${kind}: the attempt's own failure is recorded`);
      if (kind === 'object message') assert.equal(e.error?.message, '{"detail":"no stock","sku":7}');
      if (kind === 'number name') assert.equal(e.error?.name, '404');
    }
  });

  it('keeps the name and message of an error-like object returned by validate', async () => {
    let calls = 0;
    const flow = defineFlow({
      name: 'validate-error-object',
      async run(ctx) {
        return ctx.step('pay', {
          repeatable: false,
          run: () => {
            calls++;
            throw new Error('timeout talking to the bank');
          },
          validate: () => ({ status: 'error', error: { name: 'PaymentDeclined', message: 'card declined' } }),
          retry: { maxAttempts: 3, delay: 5, jitter: false },
        });
      },
    });
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir) });
    const h = await engine.run('validate-error-object', {});
    await assert.rejects(h.result({ timeoutMs: 5000 }));
    const e = await engine.executions.get(h.id);
    assert.equal(calls, 1);
    assert.equal(e.error?.name, 'PaymentDeclined');
    assert.equal(e.error?.message, 'card declined');
  });

  it('never leaves an execution leased when writing its failure fails, nor when handing it back does', async () => {
    const inner = new SqliteStore({ path: storeUrl(dir).slice('sqlite:'.length) });
    let failFailures = 1;
    let failReleases = 2;
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'updateExecution') return typeof value === 'function' ? value.bind(target) : value;
        return (u: Parameters<Store['updateExecution']>[0]) => {
          const broken = Object.assign(new Error('disk on fire'), { code: 'EWEIRD' });
          if (u.execution?.status === 'failed' && failFailures-- > 0) return Promise.reject(broken);
          if (u.execution?.release && failReleases-- > 0) return Promise.reject(broken);
          return target.updateExecution(u);
        };
      },
    }) as Store;
    const flow = defineFlow({
      name: 'failure-write-fails',
      async run(ctx) {
        return ctx.step('boom', () => {
          throw new FatalError('ERP refused the order');
        });
      },
    });
    const engine = await startEngine({ flows: [flow], store, sweepInterval: '100ms' });
    const h = await engine.run('failure-write-fails', {});
    await assert.rejects(h.result({ timeoutMs: 10_000 }), { code: 'EXECUTION_FAILED' });
    const e = await engine.executions.get(h.id);
    assert.equal(e.status, 'failed');
    assert.equal(e.error?.message, 'ERP refused the order');
    assert.equal(e.claimCount, 2, 'handed back (by the sweep, once the hand-back itself had failed) and claimed again');
    assert.ok(failReleases <= 0, 'both hand-back writes were refused');
  });
});
