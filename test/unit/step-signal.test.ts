/**
 * A step's abort signal (step-invoke.ts), made only when its code reads it, and the fan-out the
 * steps of a worker listen on (abort-fanout.ts): aborted by a kill, a cancel or the timeout,
 * whether it was read before or after, and nothing left listening once the step returns.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { invokeStep } from '../../src/core/run/step-invoke.js';
import { AbortFanout } from '../../src/core/shared/abort-fanout.js';

const context = { executionId: 'e1', step: 's', attempt: 1, log: {} as never };

function call(timeoutMs?: number) {
  const kill = new AbortController();
  const cancel = new AbortController();
  const kills = new AbortFanout(kill.signal);
  return { kill, cancel, kills, args: { kills, cancelled: cancel.signal, timeoutMs, context } };
}

describe('step signal', () => {
  test('a fan-out calls each listener once on abort, at once after it, and not once unsubscribed', () => {
    const c = new AbortController();
    const fanout = new AbortFanout(c.signal);
    const heard: string[] = [];
    fanout.subscribe(() => heard.push('a'));
    const off = fanout.subscribe(() => heard.push('b'));
    off();
    c.abort();
    c.abort();
    fanout.subscribe(() => heard.push('late'));
    assert.deepEqual(heard, ['a', 'late']);
  });

  test('a signal read during the step aborts on a kill', async () => {
    const { kill, args } = call();
    const reason = await invokeStep(args, (ctx) => {
      const signal = ctx.signal;
      kill.abort();
      assert.equal(signal.aborted, true);
      return (signal.reason as Error).message;
    });
    assert.equal(reason, 'engine stopped');
  });

  test('a signal first read after a cancel is born aborted with the cancel reason', async () => {
    const { cancel, args } = call();
    const reason = await invokeStep(args, (ctx) => {
      cancel.abort(new Error('cancelled by ops'));
      return (ctx.signal.reason as Error).message;
    });
    assert.equal(reason, 'cancelled by ops');
  });

  test('the timeout aborts a signal read before it and one read after it', async () => {
    const { args } = call(20);
    let early: AbortSignal | undefined;
    let late: AbortSignal | undefined;
    await assert.rejects(
      invokeStep(args, async (ctx) => {
        early = ctx.signal;
        await new Promise((r) => setTimeout(r, 60));
        late = ctx.signal;
      }),
      { code: 'STEP_TIMEOUT' },
    );
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(early?.aborted, true);
    assert.equal(late?.aborted, true);
  });

  test('no listener is left on the cancel signal once a step returns, read or not', async () => {
    for (const reads of [false, true]) {
      const { cancel, args } = call();
      await invokeStep(args, (ctx) => (reads ? ctx.signal.aborted : 1));
      assert.equal(getEventListeners(cancel.signal, 'abort').length, 0, `reads signal: ${reads}`);
    }
  });
});
