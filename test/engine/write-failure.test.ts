/**
 * A store write that fails for a reason other than an outage or a lost lease (disk full, a
 * read-only failover…) must stop the run even when the flow catches the step's error: nothing
 * may happen after a write that did not commit. The execution is handed back and resumes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow, type Store } from '../../src/index.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { startEngine, storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();

describe('a failed store write', () => {
  it('stops the run even if the flow catches it; the execution is handed back and finishes', async () => {
    const inner = new SqliteStore({ path: storeUrl(dir).slice('sqlite:'.length) });
    let failNextUpdate = false;
    let armed = false;
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'updateExecution') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]) => {
          if (failNextUpdate) {
            failNextUpdate = false;
            return Promise.reject(
              Object.assign(new Error('SQLITE_FULL: database or disk is full'), { code: 'SQLITE_FULL' }),
            );
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Store;
    const calls: string[] = [];
    const flow = defineFlow({
      name: 'write-failure',
      async run(ctx) {
        await ctx.step('first', () => calls.push('first'));
        try {
          // The first time through, the write that records "second" starting fails.
          if (!armed) {
            armed = true;
            failNextUpdate = true;
          }
          await ctx.step('second', () => calls.push('second'));
        } catch {
          // A careless flow swallows the error and goes on: the engine must not.
          await ctx.step('after-swallowed', () => calls.push('after-swallowed'));
        }
        return calls.length;
      },
    });
    const engine = await startEngine({ flows: [flow], store });
    const errors: string[] = [];
    engine.on('engine:error', (e) => errors.push(e.context));
    const handle = await engine.run('write-failure', {});
    await handle.result({ timeoutMs: 15_000 });
    const detail = await engine.executions.get(handle.id);
    assert.equal(detail.status, 'succeeded');
    assert.deepEqual(
      detail.steps.map((s) => s.name),
      ['first', 'second'],
      'the step after the swallowed error never ran: the run stopped at the failed write',
    );
    assert.ok(!calls.includes('after-swallowed'), `calls: ${calls.join(', ')}`);
    assert.ok(
      errors.some((c) => c.startsWith('writing execution')),
      `the failed write was reported: ${errors.join('; ')}`,
    );
  });
});
