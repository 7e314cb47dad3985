/**
 * Store conformance, what waiting steps and invocations store on executions and steps
 * (core/store/executions.ts, steps.ts): `invokedBy` as written; a wait reason set by an update
 * and cleared by the next claim; due times absolute or none (due only when woken); wake-ups,
 * alone (`wakeExecution`) or in a fenced write (`wake`: nothing when the fence fails); the
 * `waiting` step status and its absolute end time; cancel settling waiting steps; `fatal` on a
 * stored error; listing by correlation id; and the text those fields may hold.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { storableText } from '../../core/shared/error-info.js';
import type { ErrorInfo } from '../../core/shared/errors.js';
import { type ExecutionId, newExecutionId, newLeaseToken } from '../../core/shared/ids.js';
import type { ExecutionUpdate, InvokedBy, StepWrite } from '../../core/store/store.js';
import { type GetStore, newExecution, W1, workerMoves } from './fixtures.js';

const refused = { name: 'StoreWriteRefusedError', code: 'STORE_WRITE_REFUSED' };
const cancelAudit = { actor: 'waits-conf', action: 'cancel', batchId: null, reason: null, detailsJson: null };

export function describeWaitConformance(getStore: GetStore): void {
  const { claimAll, claimOne } = workerMoves(getStore);

  /** A new execution of `flow`, claimed by W1: what a worker holds when it writes. */
  const running = async (flow: string, extra: Parameters<typeof newExecution>[0] = {}) => {
    await getStore().createExecution(newExecution({ flow, ...extra }));
    const claim = await claimOne(flow);
    const write = (u: Omit<ExecutionUpdate, 'executionId' | 'leaseToken' | 'workerId'>) =>
      getStore().updateExecution({ executionId: claim.execution.id, leaseToken: claim.leaseToken, workerId: W1, ...u });
    return { id: claim.execution.id, leaseToken: claim.leaseToken, write };
  };

  /** A new execution of `flow`, released `waiting` with no due time: only a wake makes it due. */
  const waitingForWake = async (flow: string, reason = 'signal approved') => {
    const r = await running(flow);
    await r.write({ execution: { status: 'waiting', waitReason: reason, dueAt: null, release: true } });
    return r.id;
  };

  const waitStep = (extra: Partial<StepWrite> = {}): StepWrite => ({
    position: 0,
    name: 'approved',
    kind: 'wait',
    status: 'waiting',
    attempts: 0,
    repeatable: true,
    ...extra,
  });

  it('stores invokedBy as written and reads it back (get, list, claim, detail); null when not given', async () => {
    const store = getStore();
    const flow = 'flow-wait-invoked';
    const invokedBy: InvokedBy = {
      role: 'attempt',
      executionId: newExecutionId(),
      step: 'call crm',
      cid: 'cid-conformance-1',
      invocationId: newExecutionId(),
      attempt: 2,
      waiter: newExecutionId(),
    };
    const { execution, created } = await store.createExecution(newExecution({ flow, invokedBy }));
    assert.equal(created, true);
    assert.deepEqual(execution.invokedBy, invokedBy, 'the insert returns it');
    assert.deepEqual((await store.getExecution(execution.id))?.invokedBy, invokedBy);
    assert.deepEqual((await store.listExecutions({ flow })).items[0]?.invokedBy, invokedBy);
    const [claim] = await claimAll(W1, flow);
    assert.deepEqual(claim?.execution.invokedBy, invokedBy, 'a claim returns it');
    assert.deepEqual((await store.getExecutionDetail(execution.id))?.execution.invokedBy, invokedBy);

    // From outside a flow: no invoking execution or step; and pre-claimed inserts keep it too.
    const outside: InvokedBy = { ...invokedBy, role: 'invocation', executionId: null, step: null, invocationId: null };
    const leaseToken = newLeaseToken();
    const pre = await store.createExecution(
      newExecution({ flow, invokedBy: outside, claim: { workerId: W1, leaseToken } }),
    );
    assert.deepEqual((await store.getExecution(pre.execution.id))?.invokedBy, outside);

    // A replay's insert carries it the same way.
    const original = (await store.createExecution(newExecution({ flow }))).execution;
    const replay = newExecution({ flow, replayOf: original.id, rootId: original.id, invokedBy: outside });
    await store.createReplay({
      execution: replay,
      reusedSteps: [],
      reuseInFlight: false,
      audit: {
        actor: 'waits-conf',
        action: 'replay',
        executionId: original.id,
        batchId: null,
        reason: null,
        detailsJson: null,
      },
    });
    assert.deepEqual((await store.getExecution(replay.id))?.invokedBy, outside);

    assert.equal(original.invokedBy, null, 'an execution no invocation started has none');
    assert.equal((await store.getExecution(original.id))?.invokedBy, null);
  });

  it('records a wait reason with an update, clears it with null or at the next claim', async () => {
    const store = getStore();
    const flow = 'flow-wait-reason';
    const r = await running(flow);
    assert.equal((await store.getExecution(r.id))?.waitReason, null, 'none before it waits');
    await r.write({ execution: { status: 'waiting', waitReason: 'sleep until 2026-12-04T10:00:00.000Z' } });
    assert.equal((await store.getExecution(r.id))?.waitReason, 'sleep until 2026-12-04T10:00:00.000Z');
    assert.equal((await store.listExecutions({ flow })).items[0]?.waitReason, 'sleep until 2026-12-04T10:00:00.000Z');
    await r.write({ execution: { waitReason: null } });
    assert.equal((await store.getExecution(r.id))?.waitReason, null, 'null clears it');
    await r.write({ execution: { waitReason: 'invocation cid-9' } });
    await r.write({ steps: [waitStep({ status: 'running' })] });
    assert.equal((await store.getExecution(r.id))?.waitReason, 'invocation cid-9', 'kept by a write that does not say');

    await r.write({ execution: { status: 'waiting', dueInMs: 0, release: true } });
    const [claim] = await claimAll(W1, flow);
    assert.equal(claim?.execution.id, r.id);
    assert.equal(claim?.execution.waitReason, null, 'the claim returns it cleared');
    assert.equal(claim?.execution.status, 'running');
    assert.equal((await store.getExecution(r.id))?.waitReason, null);
  });

  it('takes an absolute due time (store clock): claimable once it has come, and read back exactly', async () => {
    const store = getStore();
    const flow = 'flow-wait-due-at';
    const later = await running(flow);
    const now = await store.now();
    await later.write({ execution: { status: 'waiting', dueAt: now + 3_600_000, release: true } });
    assert.equal((await store.getExecution(later.id))?.dueAt, now + 3_600_000);
    assert.deepEqual(await claimAll(W1, flow), [], 'not due for an hour');

    const past = await running(flow);
    await past.write({ execution: { status: 'waiting', dueAt: now - 1_000, release: true } });
    assert.equal((await store.getExecution(past.id))?.dueAt, now - 1_000);
    assert.deepEqual(
      (await claimAll(W1, flow)).map((c) => c.execution.id),
      [past.id],
      'a due time already past is due now; the other still is not',
    );

    // An absolute due time wins over a relative one given with it; finishing clears either.
    const both = await running(flow);
    await both.write({ execution: { status: 'waiting', dueAt: now + 7_200_000, dueInMs: 0, release: true } });
    assert.equal((await store.getExecution(both.id))?.dueAt, now + 7_200_000);
  });

  it('never claims a waiting execution with no due time until woken; wakeExecution is true only for a waiting one', async () => {
    const store = getStore();
    const flow = 'flow-wait-wake';
    const id = await waitingForWake(flow);
    const before = await store.getExecution(id);
    assert.equal(before?.status, 'waiting');
    assert.equal(before?.dueAt, null, 'no due time: only a wake makes it due');
    assert.equal(before?.leaseOwner, null);
    assert.deepEqual(await claimAll(W1, flow), [], 'not claimable');

    assert.equal(await store.wakeExecution(id), true);
    const woken = await store.getExecution(id);
    assert.equal(woken?.status, 'waiting', 'a wake changes only when it is due');
    assert.ok(woken?.dueAt !== null && woken!.dueAt <= (await store.now()), 'due now by the store clock');
    assert.equal(await store.wakeExecution(id), true, 'a wake is idempotent');
    const [claim] = await claimAll(W1, flow);
    assert.equal(claim?.execution.id, id, 'claimable once woken');

    // Running (claimed), finished or unknown: false, and nothing changes.
    const runningNow = await store.getExecution(id);
    assert.equal(await store.wakeExecution(id), false, 'a running execution is not woken');
    assert.deepEqual(await store.getExecution(id), runningNow, 'nothing changed');
    await store.updateExecution({
      executionId: id,
      leaseToken: claim!.leaseToken,
      workerId: W1,
      execution: { status: 'succeeded', outputJson: '1', finished: true },
    });
    const finished = await store.getExecution(id);
    assert.equal(await store.wakeExecution(id), false, 'a finished execution is not woken');
    assert.deepEqual(await store.getExecution(id), finished, 'nothing changed');
    assert.equal(await store.wakeExecution(newExecutionId()), false, 'an unknown one neither');
    assert.equal(await store.wakeExecution('no\u0000such' as ExecutionId), false, 'nor an id no store holds');

    // A queued or retrying execution is not waiting either: its due time stays.
    const r = await running(flow);
    await r.write({ execution: { status: 'retrying', dueInMs: 3_600_000, release: true } });
    const retrying = await store.getExecution(r.id);
    assert.equal(await store.wakeExecution(r.id), false);
    assert.equal((await store.getExecution(r.id))?.dueAt, retrying?.dueAt);
  });

  it('keeps a wake-up that finds its execution running: the write that records its wait makes it due at once; a claim forgets it', async () => {
    const store = getStore();
    const flow = 'flow-wait-woken-running';
    const dueNow = async (id: string) => {
      const e = await store.getExecution(id as ExecutionId);
      return e?.dueAt !== null && e!.dueAt !== undefined && e!.dueAt <= (await store.now());
    };
    // Alone: woken while running (between a wait's look and its write), then the wait is recorded.
    const a = await running(`${flow}-a`);
    assert.equal(await store.wakeExecution(a.id), false, 'not waiting: false');
    await a.write({ execution: { status: 'waiting', waitReason: 'signal s', dueAt: null, release: true } });
    assert.ok(await dueNow(a.id), 'the kept wake-up makes the recorded wait due now');
    // By a signal, and by another execution's write: the same.
    const b = await running(`${flow}-b`);
    const sent = await store.sendSignal({ executionId: b.id, name: 's', payloadJson: '1', sentBy: null });
    assert.equal(sent.outcome === 'sent' && sent.woke, false, 'running: not woken');
    await b.write({ execution: { status: 'waiting', waitReason: 'signal s', dueInMs: 3_600_000, release: true } });
    assert.ok(await dueNow(b.id), 'a signal that came while it ran makes its wait due now');
    const c = await running(`${flow}-c`);
    const writer = await running('flow-wait-woken-writer');
    await writer.write({ wake: [c.id], execution: { status: 'succeeded', outputJson: '1', finished: true } });
    await c.write({ execution: { status: 'waiting', waitReason: 'invocation x', dueAt: null, release: true } });
    assert.ok(await dueNow(c.id), "another execution's wake in its write is kept the same way");
    // Used once: after the claim that follows, a new wait waits for a new wake-up.
    for (const [x, f] of [
      [b, 'b'],
      [c, 'c'],
    ] as const)
      assert.equal((await claimAll(W1, `${flow}-${f}`))[0]?.execution.id, x.id, `${f} claimable at once`);
    const [again] = await claimAll(W1, `${flow}-a`);
    assert.equal(again?.execution.id, a.id, 'a claimable at once');
    await store.updateExecution({
      executionId: a.id,
      leaseToken: again!.leaseToken,
      workerId: W1,
      execution: { status: 'waiting', waitReason: 'signal s', dueAt: null, release: true },
    });
    assert.equal((await store.getExecution(a.id))?.dueAt, null, 'the claim forgot the wake-up');
    // A wake-up marked before a claim is forgotten by that claim.
    const d = await running(`${flow}-d`);
    await store.wakeExecution(d.id);
    await d.write({ execution: { status: 'retrying', dueInMs: 0, release: true } });
    const [reclaimed] = await claimAll(W1, `${flow}-d`);
    assert.equal(reclaimed?.execution.id, d.id);
    await store.updateExecution({
      executionId: d.id,
      leaseToken: reclaimed!.leaseToken,
      workerId: W1,
      execution: { status: 'waiting', waitReason: 'signal s', dueAt: null, release: true },
    });
    assert.equal((await store.getExecution(d.id))?.dueAt, null, 'the claim in between forgot it');
  });

  it('wakes the executions named in a fenced write, in that write; a write whose lease was lost wakes nothing', async () => {
    const store = getStore();
    const flow = 'flow-wait-wake-in-write';
    const waiterFlow = 'flow-wait-waiter';
    const a = await waitingForWake(waiterFlow, 'invocation cid-a');
    const b = await waitingForWake(waiterFlow, 'invocation cid-b');
    const writer = await running(flow);

    // A stale token: refused, and b stays asleep.
    await assert.rejects(
      store.updateExecution({
        executionId: writer.id,
        leaseToken: newLeaseToken(),
        workerId: W1,
        wake: [b],
        execution: { status: 'succeeded', outputJson: '1', finished: true },
      }),
      { name: 'LeaseLostError' },
    );
    assert.equal((await store.getExecution(b))?.dueAt, null, 'a lease-lost write wakes nothing');

    // The writer's finishing write wakes a (named twice, with itself and an unknown id: harmless).
    await writer.write({
      wake: [a, a, writer.id, newExecutionId()],
      execution: { status: 'succeeded', outputJson: '1', finished: true },
    });
    const woken = await store.getExecution(a);
    assert.ok(woken?.dueAt !== null && woken!.dueAt <= (await store.now()), 'a is due now');
    assert.equal(woken?.status, 'waiting');
    assert.equal((await store.getExecution(b))?.dueAt, null, 'b was not named');
    const writerAfter = await store.getExecution(writer.id);
    assert.equal(writerAfter?.status, 'succeeded');
    assert.equal(writerAfter?.dueAt, null, 'naming itself does not make it due');
    assert.deepEqual(
      (await claimAll(W1, waiterFlow)).map((c) => c.execution.id),
      [a],
    );

    // A running execution named in a wake is not changed by it.
    const other = await running(flow);
    const otherBefore = await store.getExecution(other.id);
    const third = await running(flow);
    await third.write({ wake: [other.id] });
    assert.deepEqual(await store.getExecution(other.id), otherBefore, 'a running execution is not woken');
  });

  it("records `waiting` steps with an absolute end time, and a step's `null` end time clears it", async () => {
    const store = getStore();
    const flow = 'flow-wait-steps';
    const r = await running(flow);
    const now = await store.now();
    const wakeAt = now + 86_400_000;
    await r.write({
      steps: [waitStep({ name: 'cool-off', kind: 'sleep', nextAttemptAt: wakeAt })],
      execution: { status: 'waiting', dueAt: wakeAt, waitReason: `sleep until ${new Date(wakeAt).toISOString()}` },
    });
    let [step] = (await store.getExecutionDetail(r.id))!.steps;
    assert.equal(step?.status, 'waiting');
    assert.equal(step?.kind, 'sleep');
    assert.equal(step?.nextAttemptAt, wakeAt, 'exactly the time given');
    assert.equal(step?.finishedAt, null);

    // An absolute time wins over a relative one given with it.
    await r.write({
      steps: [waitStep({ name: 'cool-off', kind: 'sleep', nextAttemptAt: wakeAt, nextAttemptInMs: 5 })],
    });
    [step] = (await store.getExecutionDetail(r.id))!.steps;
    assert.equal(step?.nextAttemptAt, wakeAt);

    // A relative one still works as for retries; null clears.
    await r.write({ steps: [waitStep({ name: 'cool-off', kind: 'sleep', nextAttemptInMs: 60_000 })] });
    [step] = (await store.getExecutionDetail(r.id))!.steps;
    assert.ok(step!.nextAttemptAt! >= now + 60_000 && step!.nextAttemptAt! < now + 3_600_000);
    await r.write({
      steps: [waitStep({ name: 'cool-off', kind: 'sleep', nextAttemptAt: null, nextAttemptInMs: 60_000 })],
    });
    [step] = (await store.getExecutionDetail(r.id))!.steps;
    assert.equal(step?.nextAttemptAt, null, 'null clears it, whatever else is given');

    // Done: succeeded with its output, the wait's end time cleared.
    await r.write({
      steps: [waitStep({ name: 'cool-off', kind: 'sleep', status: 'succeeded', outputJson: 'null', finished: true })],
    });
    [step] = (await store.getExecutionDetail(r.id))!.steps;
    assert.deepEqual(
      [step?.status, step?.kind, step?.outputJson, step?.nextAttemptAt],
      ['succeeded', 'sleep', 'null', null],
    );
    assert.ok(step?.finishedAt);
  });

  it('settles waiting steps on cancel like running and retrying ones (failed, STEP_ABANDONED)', async () => {
    const store = getStore();
    const flow = 'flow-wait-cancel';
    const r = await running(flow);
    const now = await store.now();
    await r.write({
      steps: [
        {
          position: 0,
          name: 'fetch',
          status: 'succeeded',
          attempts: 1,
          repeatable: true,
          outputJson: '1',
          finished: true,
        },
        waitStep({ position: 1, name: 'approved', nextAttemptAt: now + 3_600_000 }),
        waitStep({ position: 2, name: 'crm', kind: 'invoke' }),
      ],
      execution: { status: 'waiting', dueAt: now + 3_600_000, waitReason: 'signal approved', release: true },
    });
    const result = await store.cancelExecution({ id: r.id, audit: cancelAudit });
    assert.equal(result?.cancelled, true);
    assert.equal(result?.execution.status, 'cancelled');
    const steps = (await store.getExecutionDetail(r.id))!.steps;
    assert.deepEqual(
      steps.map((s) => [s.name, s.kind, s.status, s.error?.code ?? null, s.nextAttemptAt]),
      [
        ['fetch', 'run', 'succeeded', null, null],
        ['approved', 'wait', 'failed', 'STEP_ABANDONED', null],
        ['crm', 'invoke', 'failed', 'STEP_ABANDONED', null],
      ],
    );
    for (const s of steps.slice(1)) assert.ok(s.finishedAt, 'settled steps are finished');
    assert.equal(await store.wakeExecution(r.id), false, 'a cancelled execution is not woken');
  });

  it('keeps `fatal` on stored errors (execution, step, attempt); absent stays absent', async () => {
    const store = getStore();
    const flow = 'flow-wait-fatal';
    const r = await running(flow);
    const fatal: ErrorInfo = {
      name: 'AcmeRefused',
      message: 'no such account',
      code: 'E404',
      step: 'push',
      fatal: true,
    };
    const notFatal: ErrorInfo = { name: 'Timeout', message: 'slow', fatal: false };
    const plain: ErrorInfo = { name: 'Down', message: 'down' };
    await r.write({
      steps: [
        { position: 0, name: 'push', status: 'failed', attempts: 2, repeatable: true, error: fatal, finished: true },
        { position: 1, name: 'other', status: 'failed', attempts: 1, repeatable: true, error: plain, finished: true },
      ],
      attempts: [
        { position: 0, attempt: 1, status: 'failed', error: notFatal },
        { position: 0, attempt: 2, status: 'failed', error: fatal },
      ],
      execution: { status: 'failed', error: fatal, errorFingerprint: 'fp-fatal', finished: true },
    });
    const d = (await store.getExecutionDetail(r.id))!;
    assert.deepEqual(d.execution.error, fatal);
    assert.deepEqual((await store.getExecution(r.id))?.error, fatal);
    assert.deepEqual(d.steps[0]?.error, fatal);
    assert.deepEqual(d.steps[1]?.error, plain);
    assert.equal('fatal' in d.steps[1]!.error!, false, 'no fatal key when none was written');
    assert.deepEqual(
      d.attempts.map((a) => a.error),
      [notFatal, fatal],
    );
  });

  it('lists executions by correlation id (with other filters and a total)', async () => {
    const store = getStore();
    const cid = `cid-${newExecutionId()}`;
    const mine = [
      (await store.createExecution(newExecution({ flow: 'flow-wait-cid-a', correlationId: cid }))).execution.id,
      (await store.createExecution(newExecution({ flow: 'flow-wait-cid-b', correlationId: cid }))).execution.id,
    ];
    await store.createExecution(newExecution({ flow: 'flow-wait-cid-a', correlationId: `${cid}-other` }));
    await store.createExecution(newExecution({ flow: 'flow-wait-cid-a' }));
    const page = await store.listExecutions({ correlationId: cid, order: 'asc', includeTotal: true });
    assert.deepEqual(
      page.items.map((e) => e.id),
      mine,
    );
    assert.equal(page.totalCount, 2);
    assert.deepEqual(
      (await store.listExecutions({ correlationId: cid, flow: 'flow-wait-cid-b' })).items.map((e) => e.id),
      [mine[1]],
    );
    assert.deepEqual((await store.listExecutions({ correlationId: 'cid-nobody' })).items, []);
    assert.deepEqual((await store.listExecutions({ correlationId: 'c\u0000id' })).items, [], 'a cid no store holds');
  });

  it('text: an invokedBy id or cid no store can hold is refused; a wait reason is stored with U+FFFD', async () => {
    const store = getStore();
    const flow = 'flow-wait-text';
    const by: InvokedBy = {
      role: 'callback',
      executionId: null,
      step: null,
      cid: 'ok',
      invocationId: newExecutionId(),
      attempt: null,
      waiter: null,
    };
    for (const bad of ['a\u0000b', 'x\ud800y', '\udc00z']) {
      for (const field of ['cid', 'step', 'executionId', 'invocationId', 'waiter'] as const) {
        const e = newExecution({ flow, invokedBy: { ...by, [field]: bad } });
        await assert.rejects(store.createExecution(e), refused, `invokedBy.${field}`);
        assert.equal(await store.getExecution(e.id), undefined, 'nothing was written');
      }
    }
    const ok = newExecution({ flow, invokedBy: by });
    await store.createExecution(ok);
    assert.deepEqual((await store.getExecution(ok.id))?.invokedBy, by);
    await claimAll(W1, flow);

    const r = await running(flow);
    const reason = 'signal a\u0000b x\ud800y';
    await r.write({ execution: { status: 'waiting', waitReason: reason } });
    assert.equal((await store.getExecution(r.id))?.waitReason, storableText(reason));
  });
}
