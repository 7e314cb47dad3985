/**
 * No finished execution keeps a step `running` or `retrying`. A resumed run that ends without
 * reaching a recorded unfinished step fails with NON_DETERMINISM naming it; whatever ends an
 * execution (a failure, a non-determinism, a cancellation) settles its unfinished step rows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineFlow } from '../../src/index.js';
import { deferred, startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

const dir = tempDir();

/** Step "b" fails once and is parked for a retry; by the resume the code has changed (`next`). */
function changingFlow(name: string, next: 'skip b' | 'call c instead') {
  const state = { changed: false, bCalls: 0 };
  const flow = defineFlow({
    name,
    async run(ctx) {
      await ctx.step('a', () => 1);
      if (!state.changed) {
        await ctx.step('b', {
          run: () => {
            state.bCalls++;
            state.changed = true;
            throw new Error('flaky');
          },
          retry: { maxAttempts: 3, delay: 200, jitter: false },
        });
      } else if (next === 'call c instead') {
        await ctx.step('c', () => 3);
      }
      return 'done';
    },
  });
  return { flow, state };
}

describe('step rows of a finished execution', () => {
  it('fails with NON_DETERMINISM a resumed run that no longer calls a recorded retrying step', async () => {
    const { flow, state } = changingFlow('skips-recorded-step', 'skip b');
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir), inMemoryRetryMax: '20ms' });
    const h = await engine.run('skips-recorded-step', {} as never);
    await assert.rejects(h.result({ timeoutMs: 5000 }), { code: 'EXECUTION_FAILED' });
    const e = await engine.executions.get(h.id);
    assert.equal(state.bCalls, 1);
    assert.equal(e.status, 'failed');
    assert.equal(e.error?.code, 'NON_DETERMINISM');
    assert.match(e.error?.message ?? '', /step #1 "b"/);
    assert.deepEqual(
      e.steps.map((s) => [s.name, s.status]),
      [
        ['a', 'succeeded'],
        ['b', 'failed'],
      ],
    );
  });

  it('settles a retrying step when a NON_DETERMINISM at its position fails the execution', async () => {
    const { flow } = changingFlow('calls-other-step', 'call c instead');
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir), inMemoryRetryMax: '20ms' });
    const h = await engine.run('calls-other-step', {} as never);
    await assert.rejects(h.result({ timeoutMs: 5000 }), { code: 'EXECUTION_FAILED' });
    const e = await engine.executions.get(h.id);
    assert.equal(e.error?.code, 'NON_DETERMINISM');
    const b = e.steps.find((s) => s.name === 'b');
    assert.equal(b?.status, 'failed', 'not left retrying');
    assert.equal(b?.error?.code, 'STEP_ABANDONED');
    assert.match(b?.error?.message ?? '', /NON_DETERMINISM/);
  });

  it("settles a cancelled execution's running step and its attempt", async () => {
    const gate = deferred();
    let started = false;
    const flow = defineFlow({
      name: 'cancel-running-step',
      async run(ctx) {
        await ctx.step('wait', async () => {
          started = true;
          await gate.promise;
        });
      },
    });
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir) });
    const h = await engine.run('cancel-running-step', {});
    await waitFor(() => started);
    await engine.cancel(h.id);
    gate.resolve();
    const e = await engine.executions.get(h.id);
    assert.equal(e.status, 'cancelled');
    assert.equal(e.steps[0]?.status, 'failed');
    assert.equal(e.steps[0]?.error?.code, 'STEP_ABANDONED');
    assert.equal(e.steps[0]?.attempts?.[0]?.status, 'interrupted');
  });
});
