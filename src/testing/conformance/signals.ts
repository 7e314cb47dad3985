/**
 * Store conformance, signals (core/store/signals.ts): a mailbox per execution and name. A signal
 * is stored and a waiting execution woken in one write; an unknown or finished execution is
 * refused and nothing is stored; peek gives the oldest unconsumed signal of a name, the list
 * every signal oldest first; a wait step consumes signals in its execution's fenced write (not
 * when the fence fails). Names and senders no store can hold are refused, payloads kept exactly.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type ExecutionId, newExecutionId, newLeaseToken } from '../../core/shared/ids.js';
import type { ExecutionUpdate, NewSignal } from '../../core/store/store.js';
import { type GetStore, newExecution, W1, workerMoves } from './fixtures.js';

const refused = { name: 'StoreWriteRefusedError', code: 'STORE_WRITE_REFUSED' };

export function describeSignalConformance(getStore: GetStore): void {
  const { claimAll, claimOne } = workerMoves(getStore);

  const signal = (executionId: ExecutionId, name: string, extra: Partial<NewSignal> = {}): NewSignal => ({
    executionId,
    name,
    payloadJson: JSON.stringify({ name }),
    sentBy: 'signals-conf',
    ...extra,
  });

  /** Sends and expects it stored: the signal and whether it woke the execution. */
  const sent = async (p: NewSignal) => {
    const result = await getStore().sendSignal(p);
    assert.equal(result.outcome, 'sent', `signal ${p.name} is stored`);
    return result as Extract<typeof result, { outcome: 'sent' }>;
  };

  /** A new execution of `flow`, claimed by W1, and its fenced write. */
  const running = async (flow: string) => {
    await getStore().createExecution(newExecution({ flow }));
    const claim = await claimOne(flow);
    const write = (u: Omit<ExecutionUpdate, 'executionId' | 'leaseToken' | 'workerId'>) =>
      getStore().updateExecution({ executionId: claim.execution.id, leaseToken: claim.leaseToken, workerId: W1, ...u });
    return { id: claim.execution.id, write };
  };

  it('keeps signals sent before the wait: peek gives the oldest unconsumed of a name, the list all, oldest first', async () => {
    const store = getStore();
    const { execution } = await store.createExecution(newExecution({ flow: 'flow-signal-mailbox' }));
    const before = await store.now();
    const first = await sent(signal(execution.id, 'approved', { payloadJson: '{"by":"ann"}', sentBy: 'ann' }));
    assert.equal(first.woke, false, 'a queued execution is not waiting: nothing to wake');
    assert.deepEqual(
      { ...first.signal, id: undefined, sentAt: undefined },
      {
        id: undefined,
        executionId: execution.id,
        name: 'approved',
        payloadJson: '{"by":"ann"}',
        sentBy: 'ann',
        sentAt: undefined,
        consumedAt: null,
        consumedPosition: null,
      },
    );
    assert.ok(first.signal.sentAt >= before, 'sent at the store clock');
    const other = await sent(signal(execution.id, 'rejected', { payloadJson: null, sentBy: null }));
    const second = await sent(signal(execution.id, 'approved', { payloadJson: '{"by":"bob"}' }));
    assert.ok(BigInt(first.signal.id) < BigInt(other.signal.id), 'ids increase in send order');
    assert.ok(BigInt(other.signal.id) < BigInt(second.signal.id));

    assert.deepEqual(await store.peekSignal(execution.id, 'approved'), first.signal, 'the oldest of the name');
    assert.deepEqual(await store.peekSignal(execution.id, 'rejected'), other.signal);
    assert.equal(await store.peekSignal(execution.id, 'nobody'), undefined);
    assert.equal(await store.peekSignal(execution.id, 'Approved'), undefined, 'names are exact');
    assert.deepEqual(await store.listSignals(execution.id), [first.signal, other.signal, second.signal]);
    assert.deepEqual(await store.listSignals(newExecutionId()), []);
    assert.equal(await store.peekSignal(newExecutionId(), 'approved'), undefined, 'mailboxes are per execution');
  });

  it('stores a signal and wakes a waiting execution in one write (woke: true), which is then claimable', async () => {
    const store = getStore();
    const flow = 'flow-signal-wake';
    const r = await running(flow);
    await r.write({ execution: { status: 'waiting', waitReason: 'signal approved', dueAt: null, release: true } });
    assert.deepEqual(await claimAll(W1, flow), [], 'waiting for the signal');
    const result = await sent(signal(r.id, 'approved'));
    assert.equal(result.woke, true);
    const woken = await store.getExecution(r.id);
    assert.equal(woken?.status, 'waiting');
    assert.ok(woken?.dueAt !== null && woken!.dueAt <= (await store.now()), 'due now');
    assert.deepEqual(await store.listSignals(r.id), [result.signal]);
    const [claim] = await claimAll(W1, flow);
    assert.equal(claim?.execution.id, r.id);

    // Sent to a running one: stored for its wait, nothing to wake.
    const again = await sent(signal(r.id, 'approved'));
    assert.equal(again.woke, false);
    assert.equal((await store.getExecution(r.id))?.dueAt, claim?.execution.dueAt, 'a running one is left as it is');
  });

  it('refuses a signal to a finished execution (with its status) or an unknown one, storing nothing', async () => {
    const store = getStore();
    const done = await running('flow-signal-finished');
    await done.write({ execution: { status: 'succeeded', outputJson: '1', finished: true } });
    assert.deepEqual(await store.sendSignal(signal(done.id, 'approved')), { outcome: 'finished', status: 'succeeded' });
    assert.deepEqual(await store.listSignals(done.id), []);

    const { execution } = await store.createExecution(newExecution({ flow: 'flow-signal-finished' }));
    const audit = { actor: 'signals-conf', action: 'cancel', batchId: null, reason: null, detailsJson: null };
    await store.cancelExecution({ id: execution.id, audit });
    assert.deepEqual(await store.sendSignal(signal(execution.id, 'approved')), {
      outcome: 'finished',
      status: 'cancelled',
    });
    assert.deepEqual(await store.listSignals(execution.id), []);

    const unknown = newExecutionId();
    assert.deepEqual(await store.sendSignal(signal(unknown, 'approved')), { outcome: 'not-found' });
    assert.deepEqual(await store.listSignals(unknown), []);
    assert.deepEqual(await store.sendSignal(signal('no\u0000such' as ExecutionId, 'approved')), {
      outcome: 'not-found',
    });
  });

  it('consumes signals in the fenced write of the wait step; a write whose lease was lost consumes nothing', async () => {
    const store = getStore();
    const r = await running('flow-signal-consume');
    const a1 = await sent(signal(r.id, 'approved', { payloadJson: '1' }));
    const a2 = await sent(signal(r.id, 'approved', { payloadJson: '2' }));
    const elsewhere = (await store.createExecution(newExecution({ flow: 'flow-signal-elsewhere' }))).execution;
    const foreign = await sent(signal(elsewhere.id, 'approved'));
    const step = { position: 3, name: 'approved', kind: 'wait' as const, attempts: 0, repeatable: true };

    await assert.rejects(
      store.updateExecution({
        executionId: r.id,
        leaseToken: newLeaseToken(),
        workerId: W1,
        steps: [{ ...step, status: 'succeeded', outputJson: '1', finished: true }],
        consumeSignals: [{ id: a1.signal.id, position: 3 }],
      }),
      { name: 'LeaseLostError' },
    );
    assert.deepEqual(await store.peekSignal(r.id, 'approved'), a1.signal, 'nothing consumed by a lease-lost write');

    const before = await store.now();
    await r.write({
      steps: [{ ...step, status: 'succeeded', outputJson: '1', finished: true }],
      // Another execution's signal and ids no store gives out are passed over.
      consumeSignals: [
        { id: a1.signal.id, position: 3 },
        { id: foreign.signal.id, position: 3 },
        { id: 'not-an-id', position: 3 },
        { id: '0', position: 3 },
      ],
    });
    const [consumed, next] = await store.listSignals(r.id);
    assert.equal(consumed?.id, a1.signal.id);
    assert.equal(consumed?.consumedPosition, 3);
    assert.ok(consumed?.consumedAt !== null && consumed!.consumedAt >= before, 'consumed at the store clock');
    assert.deepEqual(next, a2.signal, 'the next one is untouched');
    assert.deepEqual(await store.peekSignal(r.id, 'approved'), a2.signal, 'peek now gives the next one');
    assert.equal((await store.getExecutionDetail(r.id))?.steps[0]?.outputJson, '1', 'with the step, in one write');
    assert.deepEqual(await store.peekSignal(elsewhere.id, 'approved'), foreign.signal, "another execution's stays");

    // Consuming again (a write sent twice) changes nothing: consumed once, when it first was.
    await r.write({ consumeSignals: [{ id: a1.signal.id, position: 4 }] });
    assert.deepEqual((await store.listSignals(r.id))[0], consumed);
  });

  it('text: a signal name or sender no store can hold is refused, payload JSON kept exactly, lookups find nothing', async () => {
    const store = getStore();
    const { execution } = await store.createExecution(newExecution({ flow: 'flow-signal-text' }));
    for (const bad of ['a\u0000b', 'x\ud800y', '\udc00z']) {
      await assert.rejects(store.sendSignal(signal(execution.id, bad)), refused, 'name');
      await assert.rejects(store.sendSignal(signal(execution.id, 'ok', { sentBy: bad })), refused, 'sender');
      // Not what JSON.stringify writes: the raw character, not its escape.
      await assert.rejects(
        store.sendSignal(signal(execution.id, 'ok', { payloadJson: `"${bad}"` })),
        refused,
        'payload',
      );
      assert.equal(await store.peekSignal(execution.id, bad), undefined);
    }
    assert.deepEqual(await store.listSignals(execution.id), [], 'nothing of a refused signal was written');
    const payloadJson = JSON.stringify({ nul: 'a\u0000b', lone: 'x\ud800y' });
    const kept = await sent(signal(execution.id, 'ok', { payloadJson }));
    assert.equal((await store.peekSignal(execution.id, 'ok'))?.payloadJson, payloadJson);
    assert.equal(kept.signal.payloadJson, payloadJson);
  });
}
