/**
 * Store conformance, text in every write method of the port beyond an execution's own rows:
 * each adapter refuses, alters or keeps the same strings (docs/durability.md, "Text every store
 * can hold"). Identifiers and names carrying a NUL or a lone surrogate are refused with
 * StoreWriteRefusedError and nothing is written; free text (an audit or batch reason, a skip
 * note, a worker's host) is stored with U+FFFD in their place; JSON (details, labels, config,
 * input, headers) keeps them as escapes, exactly; a lookup by such a key finds nothing.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { storableText } from '../../core/shared/error-info.js';
import { type ExecutionId, newExecutionId, type WorkerId } from '../../core/shared/ids.js';
import type { AuditWrite } from '../../core/store/audit.js';
import type { NewInstance, NewSchedule, NewWebhookDelivery } from '../../core/store/store.js';
import { type GetStore, newExecution } from './fixtures.js';

const BAD = ['a\u0000b', 'x\ud800y', '\udc00z'];
const refused = { name: 'StoreWriteRefusedError', code: 'STORE_WRITE_REFUSED' };

export function describeTextWriteConformance(getStore: GetStore): void {
  const audit = (extra: Partial<AuditWrite> = {}): AuditWrite => ({
    actor: 'text-conf',
    action: 'replay',
    executionId: null,
    resultExecutionId: null,
    batchId: null,
    reason: null,
    detailsJson: null,
    ...extra,
  });

  it('workers: an id with a NUL or a lone surrogate is refused, a host is stored with U+FFFD', async () => {
    const store = getStore();
    for (const [i, bad] of BAD.entries()) {
      await assert.rejects(
        store.registerWorker({ workerId: `w-${bad}` as WorkerId, host: 'h', pid: 1, leaseMs: 60_000 }),
        refused,
      );
      const workerId = `w-text-host-${i}` as WorkerId;
      await store.registerWorker({ workerId, host: bad, pid: 1, leaseMs: 60_000 });
      const read = (await store.listWorkers()).find((w) => w.workerId === workerId);
      assert.equal(read?.host, storableText(bad));
    }
    const refusedIds = new Set(BAD.map((bad) => storableText(`w-${bad}`)));
    assert.deepEqual(
      (await store.listWorkers()).filter((w) => refusedIds.has(storableText(w.workerId))),
      [],
      'no refused worker was written',
    );
  });

  it("audit entries: an actor or action is refused, a reason altered, details JSON kept exactly; a cancel's too", async () => {
    const store = getStore();
    const detailsJson = JSON.stringify({ note: BAD });
    for (const bad of BAD) {
      await assert.rejects(store.appendAudit(audit({ actor: bad })), refused);
      await assert.rejects(store.appendAudit(audit({ action: bad })), refused);
      await store.appendAudit(audit({ actor: 'text-conf-reason', reason: bad, detailsJson }));
    }
    const rows = await store.listAudit({ actor: 'text-conf-reason' });
    assert.deepEqual(rows.map((r) => r.reason).sort(), BAD.map(storableText).sort());
    for (const r of rows) assert.equal(r.detailsJson, detailsJson);
    assert.deepEqual(await store.listAudit({ actor: 'text-conf' }), [], 'nothing of a refused entry was written');

    const { execution } = await store.createExecution(newExecution({ flow: 'flow-text-cancel' }));
    const { executionId: _, resultExecutionId: __, ...cancelAudit } = audit({ action: 'cancel' });
    await assert.rejects(
      store.cancelExecution({ id: execution.id, audit: { ...cancelAudit, actor: BAD[0]! } }),
      refused,
    );
    assert.equal((await store.getExecution(execution.id))?.status, 'queued', 'a refused cancel changes nothing');
    assert.equal(
      (await store.cancelExecution({ id: execution.id, audit: { ...cancelAudit, reason: BAD[1]! } }))?.cancelled,
      true,
    );
    const [entry] = await store.listAudit({ executionId: execution.id });
    assert.equal(entry?.reason, storableText(BAD[1]!));
  });

  it('replays and batches: an actor is refused, a reason or skip note altered, filter and options JSON kept', async () => {
    const store = getStore();
    const { execution: original } = await store.createExecution(newExecution({ flow: 'flow-text-replay' }));
    const replay = (extra: Partial<AuditWrite>) => {
      const id = newExecutionId();
      return {
        execution: newExecution({ id, rootId: original.id, replayOf: original.id, flow: 'flow-text-replay' }),
        reusedSteps: [],
        reuseInFlight: false,
        audit: { ...audit({ executionId: original.id }), ...extra },
      };
    };
    await assert.rejects(store.createReplay(replay({ actor: BAD[2]! })), refused);
    assert.deepEqual(await store.listReplaysOf(original.id), [], 'a refused replay writes nothing');
    await store.createReplay(replay({ reason: BAD[0]! }));
    assert.equal((await store.listAudit({ executionId: original.id }))[0]?.reason, storableText(BAD[0]!));

    const filterJson = JSON.stringify({ flow: BAD[1] });
    const optionsJson = JSON.stringify({ reason: BAD[0] });
    const items = [{ executionId: original.id as ExecutionId, skipNote: BAD[1]! }];
    const batch = { id: 'b-text-1', filterJson, optionsJson, actor: 'text-conf', reason: BAD[2]!, items };
    await assert.rejects(store.createBatch({ ...batch, id: 'b-text-0', actor: BAD[0]! }), refused);
    assert.equal(await store.getBatch('b-text-0'), undefined);
    const created = await store.createBatch(batch);
    assert.deepEqual(
      [created.filterJson, created.optionsJson, created.reason],
      [filterJson, optionsJson, storableText(BAD[2]!)],
    );
    const [item] = await store.listBatchItems({ batchId: batch.id });
    assert.equal(item?.note, storableText(BAD[1]!));
    await store.createBatch({ ...batch, id: 'b-text-2', items: [{ executionId: original.id, skipNote: null }] });
    await store.skipBatchItem({ batchId: 'b-text-2', position: 0, note: BAD[0]! });
    assert.equal((await store.listBatchItems({ batchId: 'b-text-2' }))[0]?.note, storableText(BAD[0]!));
  });

  it('instances: an id, flow or name is refused; labels, config and secrets JSON kept exactly', async () => {
    const store = getStore();
    const instance: NewInstance = {
      id: 'flow-text-i.eu',
      flow: 'flow-text-i',
      name: 'eu',
      labels: { [BAD[0]!]: BAD[1]!, region: BAD[2]! },
      enabled: true,
      configJson: JSON.stringify({ url: BAD[0] }),
      secretsJson: JSON.stringify({ token: BAD[1] }),
    };
    for (const bad of BAD) {
      await assert.rejects(store.ensureDefaultInstances({ flows: ['flow-text-ok', bad] }), refused);
      for (const field of ['id', 'flow', 'name'] as const) {
        await assert.rejects(store.createInstance({ ...instance, [field]: bad }), refused, field);
      }
    }
    assert.deepEqual(
      (await store.listInstances({})).filter((i) => i.flow.startsWith('flow-text')),
      [],
      'nothing refused was written',
    );
    assert.equal(await store.createInstance(instance), true);
    const read = await store.getInstance(instance.id);
    assert.deepEqual(
      [read?.labels, read?.configJson, read?.secretsJson],
      [instance.labels, instance.configJson, instance.secretsJson],
    );
    await assert.rejects(store.updateInstance({ ...instance, name: BAD[1]! }), refused);
    assert.equal((await store.getInstance(instance.id))?.name, 'eu');
  });

  it('schedules: an id, cron or timezone is refused, input JSON kept; a fire with a refused execution advances nothing', async () => {
    const store = getStore();
    await store.ensureDefaultInstances({ flows: ['flow-text-s'] });
    const now = await store.now();
    const schedule: NewSchedule = {
      id: 'sc-text-1',
      instanceId: 'flow-text-s.default',
      flow: 'flow-text-s',
      cron: '* * * * *',
      timezone: 'UTC',
      inputJson: JSON.stringify({ a: BAD }),
      missedPolicy: 'skip',
      enabled: true,
      nextFireAt: now - 1,
    };
    for (const bad of BAD) {
      for (const field of ['id', 'cron', 'timezone'] as const) {
        await assert.rejects(store.createSchedule({ ...schedule, [field]: bad }), refused, field);
      }
    }
    assert.deepEqual(await store.listSchedules({ instanceId: 'flow-text-s.default' }), []);
    await store.createSchedule(schedule);
    assert.equal((await store.getSchedule(schedule.id))?.inputJson, schedule.inputJson);
    await assert.rejects(store.updateSchedule({ ...schedule, timezone: BAD[0]! }), refused);
    await assert.rejects(
      store.fireSchedule({
        scheduleId: schedule.id,
        dueAt: schedule.nextFireAt,
        nextFireAt: now + 60_000,
        execution: newExecution({ flow: 'flow-text-s', idempotencyKey: BAD[1]! }),
      }),
      refused,
    );
    const after = await store.getSchedule(schedule.id);
    assert.deepEqual([after?.timezone, after?.nextFireAt, after?.lastFiredAt], ['UTC', schedule.nextFireAt, null]);
  });

  it('API keys and webhook deliveries: names and keys refused, headers and error JSON kept exactly', async () => {
    const store = getStore();
    const key = { id: 'ak-text-1', name: 'text', prefix: 'p-text', secretHash: 't'.repeat(64), scopes: ['read'] };
    for (const bad of BAD) {
      for (const field of ['id', 'name', 'prefix', 'secretHash'] as const) {
        await assert.rejects(store.createApiKey({ ...key, [field]: bad }), refused, field);
      }
      await assert.rejects(store.createApiKey({ ...key, scopes: ['read', bad] }), refused);
    }
    assert.equal(await store.getApiKey('text'), undefined, 'nothing refused was written');

    const delivery: NewWebhookDelivery = {
      id: 'wd-text-1',
      instanceId: 'flow-text-w.default',
      flow: 'flow-text-w',
      headers: { 'x-odd': BAD[1]!, [BAD[0]!]: BAD[2]! },
      body: Buffer.from([0x00, 0xd8, 0x00]),
      bodyBytes: 3,
      idempotencyKey: 'k-text',
      outcome: 'received',
      executionId: null,
      errorJson: null,
      redeliveryOf: null,
      actor: null,
    };
    for (const bad of BAD) {
      for (const field of ['id', 'instanceId', 'idempotencyKey', 'actor'] as const) {
        await assert.rejects(store.recordWebhookDelivery({ ...delivery, [field]: bad }), refused, field);
      }
    }
    assert.deepEqual((await store.listWebhookDeliveries({ instanceId: 'flow-text-w.default' })).items, []);
    await store.recordWebhookDelivery(delivery);
    const errorJson = JSON.stringify({ name: 'E', message: BAD[0] });
    assert.equal(
      await store.settleWebhookDelivery({ id: delivery.id, outcome: 'rejected', executionId: null, errorJson }),
      true,
    );
    const read = await store.getWebhookDelivery(delivery.id);
    assert.deepEqual(read?.headers, delivery.headers);
    assert.deepEqual(Buffer.from(read?.body ?? []), Buffer.from([0x00, 0xd8, 0x00]));
    assert.equal(read?.errorJson, errorJson);
  });

  it('finds nothing (and changes nothing) by a key with a NUL or a lone surrogate', async () => {
    const store = getStore();
    for (const bad of BAD) {
      assert.equal(await store.getExecution(bad as ExecutionId), undefined);
      assert.equal(await store.getInstance(bad), undefined);
      assert.equal(await store.deleteInstance(bad), false);
      assert.equal(await store.getSchedule(bad), undefined);
      assert.equal(await store.deleteSchedule(bad), false);
      assert.equal(await store.getApiKey(bad), undefined);
      assert.equal(await store.revokeApiKey({ id: bad }), false);
      assert.equal(await store.getWebhookDelivery(bad), undefined);
      assert.equal(await store.getBatch(bad), undefined);
      assert.deepEqual((await store.listExecutions({ flow: bad })).items, []);
      assert.deepEqual(await store.listAudit({ actor: bad }), []);
    }
  });
}
