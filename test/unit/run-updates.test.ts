import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunUpdates } from '../../src/core/run/run-writes.js';
import type { ExecutionId, LeaseToken, WorkerId } from '../../src/core/shared/ids.js';
import type { StepWrite } from '../../src/core/store/store.js';

const fence = { executionId: 'e1' as ExecutionId, leaseToken: 't1' as LeaseToken, workerId: 'w1' as WorkerId };
const row = (error: StepWrite['error']): StepWrite => ({
  position: 0,
  name: 'fetch',
  status: 'retrying',
  attempts: 1,
  repeatable: true,
  hasValidator: false,
  error,
});

describe('RunUpdates', () => {
  it('fences every update and sends rows without errors as they are (no copies on the hot path)', () => {
    const updates = new RunUpdates(fence, 1000);
    const steps = [row(null)];
    const update = updates.of({ steps });
    assert.deepEqual({ ...update, steps: undefined }, { ...fence, steps: undefined, attempts: [], logs: [] });
    assert.equal(update.steps, steps);
    assert.equal(update.steps?.[0], steps[0]);
  });

  it('bounds each error of steps, attempts and the execution, and the same error object once', () => {
    const updates = new RunUpdates(fence, 1000);
    const error = { name: 'Boom', message: `x\u0000${'y'.repeat(5000)}`, stack: 'z'.repeat(5000) };
    const first = updates.of({
      steps: [row(error)],
      attempts: [{ position: 0, attempt: 1, status: 'failed', error }],
      execution: { status: 'retrying', error },
    });
    const bounded = first.steps?.[0]?.error;
    assert.ok(bounded && bounded !== error);
    assert.ok(Buffer.byteLength(bounded.message) <= 1000 && Buffer.byteLength(bounded.stack ?? '') <= 1000);
    assert.ok(!bounded.message.includes('\u0000'));
    assert.equal(first.attempts?.[0]?.error, bounded, 'one bounded copy per error object');
    assert.equal(first.execution?.error, bounded);
    assert.equal(error.message.length, 5002, 'the error given is left as it was');
    // The next write carrying the same error (or its bounded copy) bounds nothing again.
    assert.equal(updates.of({ steps: [row(error)] }).steps?.[0]?.error, bounded);
    const again = [row(bounded)];
    assert.equal(updates.of({ steps: again }).steps, again);
    assert.equal(updates.error(error), bounded);
  });
});
