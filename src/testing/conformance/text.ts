/**
 * Store conformance, text on an execution's own rows: every adapter accepts and refuses the
 * same strings. A NUL or a lone surrogate in a name, a log message or an execution's text field
 * is refused with StoreWriteRefusedError before anything is written (PostgreSQL cannot hold
 * them; SQLite would keep or alter them); inside JSON payloads they are escapes, kept exactly.
 * The other tables' text rules are in text-writes.ts.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ErrorInfo } from '../../core/shared/errors.js';
import { newLeaseToken, type WorkerId } from '../../core/shared/ids.js';
import { type GetStore, newExecution } from './fixtures.js';
import { describeTextWriteConformance } from './text-writes.js';

export function describeTextConformance(getStore: GetStore): void {
  const refused = { name: 'StoreWriteRefusedError', code: 'STORE_WRITE_REFUSED' };
  describeTextWriteConformance(getStore);

  it('refuses a NUL or a lone surrogate in a step name or log message, writing nothing of the update', async () => {
    const store = getStore();
    const workerId = 'w-text' as WorkerId;
    await store.registerWorker({ workerId, host: 'h-text', pid: 1, leaseMs: 60_000 });
    const leaseToken = newLeaseToken();
    const { execution } = await store.createExecution(
      newExecution({ flow: 'flow-text', claim: { workerId, leaseToken } }),
    );
    const base = { executionId: execution.id, leaseToken, workerId };
    const step = { position: 0, name: 'ok', status: 'running' as const, attempts: 1, repeatable: true };
    const log = { position: null, at: 1, level: 'info' as const, message: 'fine', dataJson: null };
    for (const bad of ['a\u0000b', 'x\ud800y', '\udc00']) {
      await assert.rejects(store.updateExecution({ ...base, steps: [{ ...step, name: bad }] }), refused);
      await assert.rejects(
        store.updateExecution({ ...base, steps: [step], logs: [{ ...log, message: bad }] }),
        refused,
      );
    }
    const detail = await store.getExecutionDetail(execution.id);
    assert.deepEqual(detail?.steps, [], 'nothing of a refused update was written');
    assert.deepEqual(detail?.logs, []);
    // The same text inside a JSON payload is an escape: kept exactly.
    const outputJson = JSON.stringify({ nul: 'a\u0000b', lone: 'x\ud800y' });
    await store.updateExecution({ ...base, steps: [{ ...step, status: 'succeeded', outputJson, finished: true }] });
    const kept = await store.getExecutionDetail(execution.id);
    assert.equal(kept?.steps[0]?.outputJson, outputJson);
    assert.deepEqual(JSON.parse(kept!.steps[0]!.outputJson!), { nul: 'a\u0000b', lone: 'x\ud800y' });
  });

  it("refuses a NUL or a lone surrogate in an execution's idempotency key, instance or tags", async () => {
    const store = getStore();
    await assert.rejects(
      store.createExecution(newExecution({ flow: 'flow-text', idempotencyKey: 'k\u0000' })),
      refused,
    );
    await assert.rejects(store.createExecution(newExecution({ flow: 'flow-text', instance: 'i\ud800' })), refused);
    await assert.rejects(store.createExecution(newExecution({ flow: 'flow-text', tags: ['ok', '\u0000'] })), refused);
  });

  it('reads back a stored error whose name or message is not a string (written by an older version) as strings', async () => {
    const store = getStore();
    const workerId = 'w-text-2' as WorkerId;
    await store.registerWorker({ workerId, host: 'h-text', pid: 2, leaseMs: 60_000 });
    const leaseToken = newLeaseToken();
    const { execution } = await store.createExecution(
      newExecution({ flow: 'flow-text-2', claim: { workerId, leaseToken } }),
    );
    const odd = { name: 404, message: { detail: 'no stock' }, stack: null } as unknown as ErrorInfo;
    await store.updateExecution({
      executionId: execution.id,
      leaseToken,
      workerId,
      execution: { status: 'failed', error: odd, finished: true, errorFingerprint: 'f' },
    });
    const read = await store.getExecution(execution.id);
    assert.deepEqual(read?.error, { name: '404', message: '{"detail":"no stock"}' });
  });
}
