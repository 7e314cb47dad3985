/**
 * Invoke in Zato's three modes, from outside (`engine.invoke`) and inside a flow (`ctx.invoke`),
 * on SQLite and PostgreSQL: what each mode resolves with and when, the attempts made (no more
 * after a success or a fatal error), the callback run once with Zato's payload fields exactly,
 * the caller's retry policy not compounding an INVOKE_FAILED, and the reads: invocations by cid
 * and by filter, target executions' invokedBy, the caller's step naming its invocation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Engine, type InvocationPayload, InvokeFailedError, RetraceError } from '../../src/index.js';
import { enginesOnEachStore } from '../support/each-store.js';
import { waitFor } from '../support/temp-engine.js';
import { callbacks, freshKey, INVOKE_FLOWS, openGate, runs } from './invoke-flows.js';

const engines = enginesOnEachStore(INVOKE_FLOWS);
type E = Engine<(typeof INVOKE_FLOWS)[number]>;

const PAYLOAD_FIELDS = [
  'attempts',
  'call_cid',
  'context',
  'error',
  'ok',
  'orig_cid',
  'req_ts_utc',
  'resp_ts_utc',
  'response',
  'retry_repeats',
  'retry_seconds',
  'source',
  'target',
].sort();

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The callback's payloads for `cid`, once it has run (and a moment more, to see a second run if any). */
async function callbackOf(cid: string): Promise<InvocationPayload> {
  await waitFor(() => (callbacks.get(cid)?.length ?? 0) > 0, 10_000, `the callback of ${cid}`);
  await new Promise((r) => setTimeout(r, 100));
  const seen = callbacks.get(cid)!;
  assert.equal(seen.length, 1, 'the callback ran exactly once');
  return seen[0]!;
}

function describeCases(store: 'sqlite' | 'postgres', get: () => E): void {
  describe(`invoke on ${store}`, () => {
    it('sync from outside: success on attempt 2 of 4 resolves with the response and stops the attempts', async () => {
      const engine = get();
      const key = freshKey('sync-ok');
      const cid = `cid-${key}`;
      const result = await engine.invoke(
        'flaky',
        { key, failures: 1 },
        { repeats: 3, seconds: 0.02, callback: 'record', cid },
      );
      assert.deepEqual(result, { status: 'succeeded', ok: true, cid, response: { key, n: 2 } });
      const payload = await callbackOf(cid);
      assert.equal(payload.ok, true);
      assert.equal(payload.attempts, 2);
      assert.equal(runs.get(key), 2, 'no third attempt');
      const view = await engine.invocations.get(cid);
      assert.equal(view.status, 'succeeded');
      assert.deepEqual(
        view.attempts.map((a) => [a.attempt, a.status]),
        [
          [1, 'failed'],
          [2, 'succeeded'],
        ],
      );
      assert.deepEqual(view.payload, payload);
      assert.ok(view.callbackExecutionId);
      const target = await engine.executions.get(view.attempts[1]!.executionId);
      assert.equal(target.idempotencyKey, `${cid}#2`);
      assert.equal(target.correlationId, cid);
      assert.deepEqual(target.invokedBy, {
        role: 'attempt',
        executionId: null,
        step: null,
        cid,
        invocationId: view.executionId,
        attempt: 2,
        waiter: view.executionId,
      });
      assert.equal((await engine.executions.get(view.attempts[0]!.executionId)).idempotencyKey, cid);
    });

    it('sync from outside, every attempt failing: InvokeFailedError with the payload; the callback gets the same, by Zato field names', async () => {
      const engine = get();
      const key = freshKey('sync-fail');
      const cid = `cid-${key}`;
      const context = { orderId: 'A-17', lines: [1, 2] };
      const seconds = 0.02;
      const minutes = 0.0002;
      const before = Date.now();
      const error = await engine
        .invoke(
          'flaky',
          { key, failures: 99 },
          { repeats: 2, seconds, minutes, callback: 'record', context, cid, origCid: 'order-17', source: 'erp' },
        )
        .then(
          () => assert.fail('resolved'),
          (e: unknown) => e,
        );
      assert.ok(error instanceof InvokeFailedError);
      assert.equal(error.code, 'INVOKE_FAILED');
      assert.equal(error.cid, cid);
      const payload = error.payload;
      assert.deepEqual(Object.keys(payload).sort(), PAYLOAD_FIELDS);
      assert.equal(payload.ok, false);
      assert.equal(payload.source, 'erp');
      assert.equal(payload.target, 'flaky');
      assert.equal(payload.retry_repeats, 2);
      assert.equal(payload.retry_seconds, minutes * 60 + seconds);
      assert.equal(payload.call_cid, cid);
      assert.equal(payload.orig_cid, 'order-17');
      assert.match(payload.req_ts_utc, ISO);
      assert.match(payload.resp_ts_utc, ISO);
      assert.ok(Date.parse(payload.req_ts_utc) >= before - 1000);
      assert.ok(Date.parse(payload.resp_ts_utc) >= Date.parse(payload.req_ts_utc));
      assert.deepEqual(payload.context, context);
      assert.equal(payload.response, null);
      assert.deepEqual(payload.error, {
        name: 'Unavailable',
        code: 'E_DOWN',
        message: 'the end system is down (run 3)',
      });
      assert.equal(payload.attempts, 3);
      assert.equal(runs.get(key), 3);
      assert.deepEqual(await callbackOf(cid), payload, 'the callback got the payload the error carries');
      const view = await engine.invocations.get(cid);
      assert.equal(view.status, 'failed');
      assert.equal(view.retrySeconds, minutes * 60 + seconds);
    });

    it('a target error declared fatal stops the repeats at once', async () => {
      const engine = get();
      const key = freshKey('fatal');
      const cid = `cid-${key}`;
      const error = await engine
        .invoke('flaky', { key, failures: 99, fatal: true }, { repeats: 5, seconds: 0.01, callback: 'record', cid })
        .catch((e: unknown) => e);
      assert.ok(error instanceof InvokeFailedError);
      assert.equal(error.payload.attempts, 1);
      assert.deepEqual(error.payload.error, {
        name: 'BadRequest',
        code: null,
        message: 'the end system is down (run 1)',
      });
      assert.equal(runs.get(key), 1, 'no repeat');
      assert.equal((await callbackOf(cid)).attempts, 1);
      const attempt = (await engine.invocations.get(cid)).attempts[0]!;
      assert.equal(attempt.error?.fatal, true, 'recorded fatal on the target');
    });

    it('sync-async from outside: a failed first attempt answers pending at once; the rest runs in the background', async () => {
      const engine = get();
      const key = freshKey('sync-async');
      const cid = `cid-${key}`;
      const result = await engine.invoke(
        'flaky',
        { key, failures: 1 },
        { mode: 'sync-async', repeats: 2, seconds: 0.5, callback: 'record', cid },
      );
      assert.deepEqual(result, { status: 'pending', ok: null, cid });
      const now = await engine.invocations.get(cid);
      assert.equal(now.status, 'pending');
      assert.deepEqual(
        now.attempts.map((a) => a.status),
        ['failed'],
        'answered before the second attempt',
      );
      const payload = await callbackOf(cid);
      assert.equal(payload.ok, true);
      assert.equal(payload.attempts, 2);
      assert.deepEqual(payload.response, { key, n: 2 });
      assert.equal(runs.get(key), 2);
    });

    it('sync-async from outside: a first attempt that succeeds answers with its response', async () => {
      const engine = get();
      const key = freshKey('sync-async-ok');
      const cid = `cid-${key}`;
      const result = await engine.invoke(
        'flaky',
        { key, failures: 0 },
        { mode: 'sync-async', seconds: 1, callback: 'record', cid },
      );
      assert.deepEqual(result, { status: 'succeeded', ok: true, cid, response: { key, n: 1 } });
      assert.equal((await callbackOf(cid)).ok, true);
    });

    it('async from outside: resolves at once while the target is still held; the callback follows', async () => {
      const engine = get();
      const key = freshKey('async');
      const result = await engine.invoke('gated', { key }, { mode: 'async', seconds: 1, callback: 'record' });
      assert.equal(result.status, 'pending');
      assert.equal(result.ok, null);
      assert.equal(typeof result.cid, 'string');
      assert.equal((await engine.invocations.get(result.cid)).status, 'pending');
      assert.equal(callbacks.get(result.cid), undefined);
      openGate(key);
      const payload = await callbackOf(result.cid);
      assert.deepEqual(payload.response, { key, released: true });
      assert.equal(payload.source, 'api');
      assert.equal(payload.orig_cid, null);
    });

    it('inside a flow, sync: the invoke step resolves with the result; the targets name the caller; the step names its invocation', async () => {
      const engine = get();
      const key = freshKey('in-sync');
      const h = await engine.run(
        'caller',
        { key, failures: 1, mode: 'sync', repeats: 3, seconds: 0.02 },
        { correlationId: `order-${key}` },
      );
      const out = await h.result({ timeoutMs: 10_000 });
      const cid = `${h.id}.0`;
      assert.deepEqual(out, { status: 'succeeded', ok: true, cid, response: { key, n: 2 } });
      const caller = await engine.executions.get(h.id);
      const step = caller.steps[0]!;
      assert.equal(step.kind, 'invoke');
      assert.equal(step.name, 'flaky');
      assert.equal(step.attemptCount, 1);
      assert.deepEqual(step.invocation, { cid });
      const view = await engine.invocations.get(cid);
      assert.deepEqual(view.invoker, { executionId: h.id, step: 'flaky' });
      assert.equal(view.source, 'caller');
      assert.equal(view.origCid, `order-${key}`);
      for (const attempt of view.attempts) {
        const target = await engine.executions.get(attempt.executionId);
        assert.equal(target.invokedBy?.executionId, h.id);
        assert.equal(target.invokedBy?.step, 'flaky');
        assert.equal(target.invokedBy?.cid, cid);
        assert.equal(target.invokedBy?.attempt, attempt.attempt);
      }
      const payload = await callbackOf(cid);
      assert.equal(payload.source, 'caller');
      assert.equal(payload.orig_cid, `order-${key}`);
      assert.deepEqual(payload.context, { key });
      assert.equal(runs.get(key), 2);
    });

    it("inside a flow, sync failing: INVOKE_FAILED fails the caller, and the caller's retry policy does not repeat it", async () => {
      const engine = get();
      const key = freshKey('in-fail');
      const h = await engine.run('caller', { key, failures: 99, mode: 'sync', repeats: 1, seconds: 0.01 });
      const error = await h.result({ timeoutMs: 10_000 }).catch((e: unknown) => e);
      assert.ok(error instanceof RetraceError && error.code === 'EXECUTION_FAILED');
      const caller = await engine.executions.get(h.id);
      assert.equal(caller.error?.code, 'INVOKE_FAILED');
      assert.equal(caller.error?.step, 'flaky');
      const step = caller.steps[0]!;
      assert.equal(step.status, 'failed');
      assert.equal(step.attemptCount, 1, 'one invocation, though the caller allows 5 attempts');
      assert.equal((step.output as InvocationPayload).attempts, 2);
      await assert.rejects(engine.invocations.get(`${h.id}.0~2`), { code: 'INVOCATION_NOT_FOUND' });
      assert.equal(runs.get(key), 2, 'the invocation made its own two attempts, no more');
      assert.equal((await callbackOf(`${h.id}.0`)).ok, false);
    });

    it('inside a flow declaring INVOKE_FAILED retryable: a fresh invocation, cid ~2', async () => {
      const engine = get();
      const key = freshKey('in-retry');
      const h = await engine.run('retrying-caller', { key, failures: 1 });
      const out = await h.result({ timeoutMs: 10_000 });
      assert.deepEqual(out, { status: 'succeeded', ok: true, cid: `${h.id}.0~2`, response: { key, n: 2 } });
      assert.equal((await engine.invocations.get(`${h.id}.0`)).status, 'failed');
      assert.equal((await engine.invocations.get(`${h.id}.0~2`)).status, 'succeeded');
      assert.equal((await engine.executions.get(h.id)).steps[0]!.attemptCount, 2);
    });

    it('inside a flow, sync-async and async: pending, the rest in the background', async () => {
      const engine = get();
      const key = freshKey('in-bg');
      const sa = await engine.run('caller', { key, failures: 1, mode: 'sync-async', repeats: 1, seconds: 0.3 });
      const cid = `${sa.id}.0`;
      assert.deepEqual(await sa.result({ timeoutMs: 10_000 }), { status: 'pending', ok: null, cid });
      assert.equal((await callbackOf(cid)).attempts, 2);
      const key2 = freshKey('in-async');
      const as = await engine.run('caller', { key: key2, failures: 0, mode: 'async', repeats: 0, seconds: 1 });
      assert.deepEqual(await as.result({ timeoutMs: 10_000 }), { status: 'pending', ok: null, cid: `${as.id}.0` });
      assert.equal((await callbackOf(`${as.id}.0`)).ok, true);
    });

    it('inside a flow, defaults come from its invokes declaration', async () => {
      const engine = get();
      const key = freshKey('declared');
      const h = await engine.run('declaring-caller', { key, failures: 2 });
      const out = (await h.result({ timeoutMs: 10_000 })) as { response: unknown };
      assert.deepEqual(out.response, { key, n: 3 });
      const caller = await engine.executions.get(h.id);
      assert.equal(caller.steps[0]!.name, 'upsert');
      const payload = await callbackOf(`${h.id}.0`);
      assert.equal(payload.retry_repeats, 2);
      assert.equal(payload.retry_seconds, 0.01);
    });

    it('invocations.list filters by status, target and since', async () => {
      const engine = get();
      const start = new Date();
      const okCid = `cid-${freshKey('list-ok')}`;
      const failCid = `cid-${freshKey('list-fail')}`;
      const otherCid = `cid-${freshKey('list-other')}`;
      await engine.invoke('flaky', { key: okCid, failures: 0 }, { seconds: 0, cid: okCid });
      await engine.invoke('flaky', { key: failCid, failures: 9 }, { seconds: 0, cid: failCid }).catch(() => undefined);
      await engine.invoke('other', { x: 1 }, { seconds: 0, cid: otherCid });
      const cids = async (filter: Parameters<E['invocations']['list']>[0]) =>
        (await engine.invocations.list({ since: start, limit: 1000, ...filter })).items.map((i) => i.cid);
      const all = await cids({});
      for (const cid of [okCid, failCid, otherCid]) assert.ok(all.includes(cid), cid);
      assert.deepEqual(await cids({ target: 'other' }), [otherCid]);
      const failed = await cids({ status: 'failed' });
      assert.ok(failed.includes(failCid) && !failed.includes(okCid) && !failed.includes(otherCid));
      const succeeded = await cids({ status: 'succeeded', target: 'flaky' });
      assert.ok(succeeded.includes(okCid) && !succeeded.includes(failCid));
      assert.deepEqual(await cids({ since: new Date(Date.now() + 60_000) }), []);
      const listed = (await engine.invocations.list({ target: 'other', since: start })).items[0]!;
      assert.deepEqual(listed, await engine.invocations.get(otherCid));
      await assert.rejects(engine.invocations.list({ status: 'done' as never }), {
        code: 'INVALID_OPTION',
        field: 'status',
      });
    });

    it('the same cid again is the same invocation', async () => {
      const engine = get();
      const key = freshKey('same-cid');
      const cid = `cid-${key}`;
      const first = await engine.invoke('flaky', { key, failures: 0 }, { seconds: 0, cid });
      const again = await engine.invoke('flaky', { key, failures: 0 }, { seconds: 0, cid });
      assert.deepEqual(again, first);
      assert.equal(runs.get(key), 1);
    });
  });
}

describeCases('sqlite', () => engines.sqlite);
describeCases('postgres', () => engines.postgres);
