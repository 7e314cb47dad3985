/**
 * Store conformance, reading the audit log (core/store/audit.ts): every filter, alone and
 * together, and keyset paging that neither skips nor repeats an entry while entries are added.
 * The store is shared with other checks, so every entry here carries this check's own actor or
 * batch.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type ExecutionId, newExecutionId } from '../../core/shared/ids.js';
import type { AuditRecord, AuditWrite, Store } from '../../core/store/store.js';
import type { GetStore } from './fixtures.js';

export function describeAuditConformance(getStore: GetStore): void {
  it('lists the audit log by execution, batch, actor, actions and time, newest first, in keyset pages', async () => {
    const store = getStore();
    const e1 = newExecutionId();
    const e2 = newExecutionId();
    const r1 = newExecutionId();
    const batch = `ab-${e1}`;
    const entry = (over: Partial<AuditWrite>): AuditWrite => ({
      actor: 'audit-conf-a',
      action: 'replay',
      executionId: null,
      resultExecutionId: null,
      batchId: null,
      reason: null,
      detailsJson: null,
      ...over,
    });
    const writes: AuditWrite[] = [
      entry({ executionId: e1, resultExecutionId: r1, reason: 'first' }),
      entry({ action: 'cancel', executionId: e2 }),
      entry({ actor: 'audit-conf-b', action: 'batch.pause', batchId: batch }),
      entry({ actor: 'audit-conf-b', executionId: e2, batchId: batch, detailsJson: '{"n":1}' }),
      entry({ action: 'run', executionId: r1 }),
    ];
    for (const w of writes) await store.appendAudit(w);

    const mine = (f: Parameters<Store['listAudit']>[0] = {}) =>
      store.listAudit({ ...f }).then((rows) => rows.filter((r) => r.actor.startsWith('audit-conf-')));
    const shape = (rows: AuditRecord[]) => rows.map((r) => [r.actor, r.action, r.executionId, r.batchId]);

    const all = [
      ...(await store.listAudit({ actor: 'audit-conf-a' })),
      ...(await store.listAudit({ actor: 'audit-conf-b' })),
    ].sort((a, b) => b.id - a.id);
    assert.equal(all.length, 5, 'actor filters partition the entries');
    assert.deepEqual(
      shape(all),
      [...writes].reverse().map((w) => [w.actor, w.action, w.executionId, w.batchId]),
      'newest first',
    );
    assert.ok(
      all.every((r, i) => i === 0 || r.id < all[i - 1]!.id),
      'ids strictly decrease',
    );

    // executionId matches the subject or the result.
    assert.deepEqual(
      (await store.listAudit({ executionId: r1 })).map((r) => r.action),
      ['run', 'replay'],
    );
    assert.deepEqual(shape(await store.listAudit({ batchId: batch })), shape(all.filter((r) => r.batchId === batch)));
    assert.deepEqual(
      (await store.listAudit({ actor: 'audit-conf-a', actions: ['cancel', 'run'] })).map((r) => r.action),
      ['run', 'cancel'],
    );
    assert.deepEqual(await store.listAudit({ actor: 'audit-conf-a', actions: [] }), [], 'no action matches none');
    assert.deepEqual(
      shape(await store.listAudit({ executionId: e2, actor: 'audit-conf-b', batchId: batch, actions: ['replay'] })),
      [['audit-conf-b', 'replay', e2, batch]],
      'filters combine with AND',
    );
    assert.deepEqual(await store.listAudit({ actor: 'nobody-audit-conf' }), []);
    assert.deepEqual(await store.listAudit({ executionId: newExecutionId() as ExecutionId }), []);

    // Time bounds are inclusive, on the entries' own timestamps (the store's clock).
    const oldest = all.at(-1)!;
    const newest = all[0]!;
    assert.equal((await mine({ since: oldest.at, until: newest.at })).length, 5);
    assert.deepEqual(await mine({ since: newest.at + 1 }), []);
    assert.deepEqual(await mine({ until: oldest.at - 1 }), []);

    // Keyset pages of 2: every entry once, in order, whatever is appended meanwhile.
    const seen: AuditRecord[] = [];
    let beforeId: number | undefined;
    for (let page = 0; page < 10; page++) {
      const rows = await store.listAudit({ actor: 'audit-conf-a', limit: 2, ...(beforeId ? { beforeId } : {}) });
      if (page === 0) await store.appendAudit(entry({ action: 'run', reason: 'added while paging' }));
      seen.push(...rows);
      if (rows.length < 2) break;
      beforeId = rows.at(-1)!.id;
    }
    assert.deepEqual(
      seen.map((r) => r.id),
      all.filter((r) => r.actor === 'audit-conf-a').map((r) => r.id),
      'pages neither skip nor repeat, and an entry added meanwhile does not shift them',
    );
    assert.equal((await store.listAudit({ actor: 'audit-conf-a' }))[0]?.reason, 'added while paging');
    assert.equal((await store.listAudit({ limit: 1 })).length, 1);
    assert.equal(
      (await store.listAudit({ actor: 'audit-conf-a', limit: 5000 })).length,
      4,
      'limit capped (1001), not refused',
    );
  });
}
