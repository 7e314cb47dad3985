import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEngine, defineFlow, ExecutionFailedError, FatalError, RetryableError } from '../../src/index.js';
import { OffsetClock } from '../../src/testing/index.js';
import { FAST, startEngine, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

const dir = tempDir();

class AcmeTimeout extends Error {
  override name = 'AcmeTimeout';
}
class BadOrder extends Error {
  override name = 'BadOrder';
}
class RateLimited extends Error {
  override name = 'RateLimited';
}
class CodedError extends Error {
  constructor(readonly code: string) {
    super(`failed with ${code}`);
  }
}

/** A flow whose one step throws the errors in `script` in turn, then succeeds. */
function scripted(name: string, script: (() => Error)[], extra: Partial<Parameters<typeof defineFlow>[0]> = {}) {
  const calls = { n: 0 };
  const flow = defineFlow({
    name,
    retry: { maxAttempts: 4, delay: 5, jitter: false },
    errors: { AcmeTimeout: 'retry', BadOrder: 'fatal', RateLimited: { delay: 1, maxAttempts: 8 }, E_GONE: 'fatal' },
    ...extra,
    async run(ctx) {
      return ctx.step('call-acme', () => {
        const make = script[calls.n++];
        if (make) throw make();
        return { ok: true, calls: calls.n };
      });
    },
  } as Parameters<typeof defineFlow>[0]);
  return { flow, calls };
}

describe('declared errors and retries', () => {
  it('retries RetryableError and declared retry errors, recording every attempt', async () => {
    const { flow, calls } = scripted('retry-then-ok', [
      () => new RetryableError('busy'),
      () => new AcmeTimeout('timed out'),
    ]);
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir) });
    const retrying: string[] = [];
    engine.on('step:retrying', (e) => retrying.push(`${e.attempt}:${e.error.name}`));
    const h = await engine.run(flow.name, {} as never);
    assert.deepEqual(await h.result(), { ok: true, calls: 3 });
    assert.equal(calls.n, 3);
    assert.deepEqual(retrying, ['1:RetryableError', '2:AcmeTimeout']);
    const step = (await engine.executions.get(h.id)).steps[0]!;
    assert.equal(step.attemptCount, 3);
    assert.deepEqual(
      step.attempts.map((a) => [a.attempt, a.status, a.error?.name ?? null, a.error?.message ?? null]),
      [
        [1, 'failed', 'RetryableError', 'busy'],
        [2, 'failed', 'AcmeTimeout', 'timed out'],
        [3, 'succeeded', null, null],
      ],
    );
    assert.match(step.attempts[0]!.error!.stack!, /RetryableError: busy/);
    for (const a of step.attempts) assert.ok(a.finishedAt && a.finishedAt >= a.startedAt);
  });

  it('fails at once on FatalError and on errors declared fatal by name or code', async () => {
    for (const [name, make] of [
      ['fatal-thrown', () => new FatalError('card declined')],
      ['fatal-declared', () => new BadOrder('qty must be positive')],
      ['fatal-by-code', () => new CodedError('E_GONE')],
    ] as const) {
      const { flow, calls } = scripted(name, [make, make]);
      const engine = await startEngine({ flows: [flow], store: storeUrl(dir) });
      const h = await engine.run(flow.name, {} as never);
      await assert.rejects(
        h.result(),
        (err: unknown) => err instanceof ExecutionFailedError && err.error.step === 'call-acme',
      );
      assert.equal(calls.n, 1, `${name}: one attempt only`);
      const e = await engine.executions.get(h.id);
      assert.equal(e.status, 'failed');
      assert.equal(e.error?.step, 'call-acme');
      assert.equal(e.error?.message, make().message);
      assert.equal(e.steps[0]?.status, 'failed');
    }
  });

  it('fails with the last error once attempts are exhausted; per-error policies override', async () => {
    const { flow, calls } = scripted(
      'exhausted',
      Array(10).fill(() => new AcmeTimeout('still down')),
    );
    const engine = await startEngine({ flows: [flow], store: storeUrl(dir) });
    const h = await engine.run(flow.name, {} as never);
    await assert.rejects(h.result(), /failed in step "call-acme": AcmeTimeout: still down/);
    assert.equal(calls.n, 4, 'maxAttempts of the flow policy');

    const limited = scripted(
      'rate-limited',
      Array(7).fill(() => new RateLimited('slow down')),
    );
    const engine2 = await startEngine({ flows: [limited.flow], store: storeUrl(dir) });
    assert.deepEqual(await (await engine2.run(limited.flow.name, {} as never)).result(), { ok: true, calls: 8 });
  });

  it('applies the default policy to undeclared errors (retry, or fatal when configured)', async () => {
    const retried = scripted('undeclared-retry', [() => new Error('boom')]);
    const e1 = await startEngine({ flows: [retried.flow], store: storeUrl(dir) });
    assert.deepEqual(await (await e1.run(retried.flow.name, {} as never)).result(), { ok: true, calls: 2 });

    const fatal = scripted('undeclared-fatal', [() => new Error('boom')]);
    const e2 = await startEngine({ flows: [fatal.flow], store: storeUrl(dir), defaultErrorPolicy: 'fatal' });
    await assert.rejects((await e2.run(fatal.flow.name, {} as never)).result(), /Error: boom/);
    assert.equal(fatal.calls.n, 1);
  });

  it('times out a slow attempt and retries it', async () => {
    let calls = 0;
    const slow = defineFlow({
      name: 'slow',
      async run(ctx) {
        return ctx.step('slow-call', {
          timeout: 50,
          run: async (s) => {
            calls++;
            if (calls === 1) await new Promise((r) => setTimeout(r, 1000));
            return { aborted: s.signal.aborted, attempt: s.attempt };
          },
        });
      },
    });
    const engine = await startEngine({ flows: [slow], store: storeUrl(dir) });
    const h = await engine.run('slow', {});
    assert.deepEqual(await h.result(), { aborted: false, attempt: 2 });
    const attempts = (await engine.executions.get(h.id)).steps[0]!.attempts;
    assert.equal(attempts[0]?.error?.name, 'StepTimeoutError');
  });

  it('lets a flow catch a failed step and compensate', async () => {
    const saga = defineFlow({
      name: 'saga',
      async run(ctx) {
        await ctx.step('reserve', () => 'r1');
        try {
          await ctx.step('charge', () => {
            throw new FatalError('declined');
          });
          return 'charged';
        } catch {
          await ctx.step('release', () => 'released');
          return 'compensated';
        }
      },
    });
    const engine = await startEngine({ flows: [saga], store: storeUrl(dir) });
    const h = await engine.run('saga', {});
    assert.equal(await h.result(), 'compensated');
    const e = await engine.executions.get(h.id);
    assert.deepEqual(
      e.steps.map((s) => [s.name, s.status]),
      [
        ['reserve', 'succeeded'],
        ['charge', 'failed'],
        ['release', 'succeeded'],
      ],
    );
  });

  it('asks validate before retrying a non-repeatable step, and completes from its answer', async () => {
    let created = 0;
    let validations = 0;
    const lastStepValidated = defineFlow({
      name: 'reply-lost',
      retry: { delay: 20, jitter: false },
      async run(ctx) {
        return ctx.step('create-in-erp', {
          repeatable: false,
          run: (): string => {
            created++;
            throw new Error('reply lost'); // the record was created, the answer never came
          },
          validate: () => {
            validations++;
            return created ? { status: 'complete', output: 'ERP-1' } : { status: 'retry' };
          },
        });
      },
    });
    const engine = await startEngine({ flows: [lastStepValidated], store: storeUrl(dir) });
    const h = await engine.run('reply-lost', {});
    assert.equal(await h.result(), 'ERP-1');
    assert.equal(created, 1, 'not run again: validate found the record');
    assert.equal(validations, 1);
    const step = (await engine.executions.get(h.id)).steps[0]!;
    assert.equal(step.status, 'succeeded');
    assert.deepEqual(
      step.attempts.map((a) => a.status),
      ['failed'],
    );
  });

  it('keeps a 3-day retry as a durable timer across a restart, costing no memory', async () => {
    const clock = new OffsetClock();
    const url = storeUrl(dir);
    let calls = 0;
    const outage = defineFlow({
      name: 'outage',
      retry: { maxAttempts: 3, delay: '3d', jitter: false },
      async run(ctx) {
        return ctx.step('call-acme', () => {
          calls++;
          if (calls === 1) throw new AcmeTimeout('Acme is down');
          return 'synced';
        });
      },
    });
    const first = createEngine({ ...FAST, flows: [outage], store: url, clock });
    await first.start();
    const h = await first.run('outage', {});
    await waitFor(async () => (await first.executions.get(h.id)).status === 'retrying', 5000, 'retrying');
    const parked = await first.executions.get(h.id);
    const dueIn = parked.dueAt!.getTime() - clock.now();
    assert.ok(dueIn > 3 * 86_400_000 - 60_000 && dueIn <= 3 * 86_400_000, `due in ~3 days, got ${dueIn} ms`);
    await waitFor(async () => (await first.executions.get(h.id)).claimCount === 1, 1000);
    // A retry this long is parked in the store: the worker holds nothing for it.
    await waitFor(() => first.activeExecutions === 0, 1000, 'the parked execution to leave memory');
    await first.stop();

    const second = createEngine({ ...FAST, flows: [outage], store: url, clock });
    await second.start();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await second.executions.get(h.id)).status, 'retrying', 'not before its due time');
    clock.advance(3 * 86_400_000);
    const done = await second.handle(h.id).result({ timeoutMs: 5000 });
    assert.equal(done, 'synced');
    assert.equal(calls, 2);
    const e = await second.executions.get(h.id);
    assert.equal(e.claimCount, 2);
    await second.stop();
  });
});
