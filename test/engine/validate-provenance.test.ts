/**
 * What validate answered is recorded on the step (which attempt it judged, complete | retry |
 * error, when), and a step settled by validate says so: it did not "succeed in 1 attempt".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkerId } from '../../src/core/shared/ids.js';
import { defineFlow, RetryableError, type ValidateResult } from '../../src/index.js';
import { deferred, startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

const dir = tempDir();

/** One non-repeatable step whose first attempt fails (the reply was lost) and whose validator answers `answer`. */
function lostReply<const N extends string>(name: N, answer: ValidateResult<{ id: string }>) {
  return defineFlow({
    name,
    retry: { maxAttempts: 3 },
    async run(ctx) {
      return ctx.step('create-invoice', {
        repeatable: false,
        validate: () => answer,
        run: (step) => {
          if (step.attempt === 1) throw new RetryableError('socket hang up after the request was sent');
          return { id: 'INV-from-attempt-2' };
        },
      });
    },
  });
}

describe("validate's answer on the step", () => {
  it('records a step completed by validate as such, with the attempt it judged and when', async () => {
    const flows = [
      lostReply('complete', { status: 'complete', output: { id: 'INV-found' } }),
      lostReply('retry', { status: 'retry' }),
      lostReply('error', { status: 'error', error: { name: 'Rejected', message: 'the ERP refused it' } }),
    ];
    const engine = await startEngine({ flows, store: storeUrl(dir) });
    const t0 = Date.now();

    const complete = await engine.run('complete', {});
    assert.deepEqual(await complete.result(), { id: 'INV-found' });
    const [c] = (await engine.executions.get(complete.id)).steps;
    assert.deepEqual(
      [c!.status, c!.attemptCount, c!.outputSource, c!.validation?.attempt, c!.validation?.outcome],
      ['succeeded', 1, 'validate', 1, 'complete'],
    );
    assert.ok(c!.validation!.at.getTime() >= t0 - 1000, 'when validate answered');
    assert.deepEqual(
      c!.attempts.map((a) => a.status),
      ['failed'],
    );

    const retry = await engine.run('retry', {});
    assert.deepEqual(await retry.result(), { id: 'INV-from-attempt-2' });
    const [r] = (await engine.executions.get(retry.id)).steps;
    assert.deepEqual(
      [r!.status, r!.attemptCount, r!.outputSource, r!.validation?.attempt, r!.validation?.outcome],
      ['succeeded', 2, 'run', 1, 'retry'],
    );

    const error = await engine.run('error', {});
    await assert.rejects(error.result(), /the ERP refused it/);
    const [e] = (await engine.executions.get(error.id)).steps;
    assert.deepEqual(
      [e!.status, e!.outputSource, e!.validation?.attempt, e!.validation?.outcome],
      ['failed', null, 1, 'error'],
    );
  });

  it('records an interrupted attempt settled by validate on the worker that took it over', async () => {
    const url = storeUrl(dir);
    const hold = deferred();
    let calls = 0;
    const flow = defineFlow({
      name: 'interrupted',
      async run(ctx) {
        return ctx.step('push', {
          repeatable: false,
          validate: () => ({ status: 'complete', output: 'found-in-erp' }),
          run: async () => {
            calls++;
            await hold.promise; // the worker "dies" here, after the side effect
            return 'never recorded';
          },
        });
      },
    });
    const first = await startEngine({ flows: [flow], store: url, lease: '3h', sweepInterval: '1h' });
    const h = await first.run('interrupted', {});
    await waitFor(() => calls === 1, 2000, 'the first attempt');
    await first.store.expireWorkers({ workerIds: [first.workerId as WorkerId] });
    const second = await startEngine({ flows: [flow], store: url });
    assert.equal(await second.handle(h.id).result({ timeoutMs: 5000 }), 'found-in-erp');
    const [step] = (await second.executions.get(h.id)).steps;
    assert.deepEqual(
      [step!.status, step!.outputSource, step!.validation?.attempt, step!.validation?.outcome],
      ['succeeded', 'validate', 1, 'complete'],
    );
    assert.deepEqual(
      step!.attempts.map((a) => a.status),
      ['interrupted'],
    );
    hold.resolve();
  });
});
