/**
 * The SQLite store's AuditStore slice: the audit log of operator actions. `insertAudit` is also
 * how a cancel or a replay writes its entry inside its own write.
 */
import type { AuditFilter, AuditRecord, AuditStore, AuditWrite } from '../../core/store/store.js';
import { auditLimit, toAudit } from '../rows.js';
import { matchesNothing, storableAudit } from '../text-guard.js';
import * as aq from './audit-queries.js';
import type { SqliteConnection } from './connection.js';

export class SqliteAudit implements AuditStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async appendAudit(write: AuditWrite): Promise<void> {
    const entry = storableAudit(write);
    const c = this.#c;
    return c.write(() => insertAudit(c, entry, c.clock.now()));
  }

  async listAudit(f: AuditFilter): Promise<AuditRecord[]> {
    if (matchesNothing(f)) return [];
    return (
      this.#c.stmt(aq.SELECT_AUDIT).all({
        executionId: f.executionId ?? null,
        batchId: f.batchId ?? null,
        actor: f.actor ?? null,
        actions: f.actions ? JSON.stringify(f.actions) : null,
        since: f.since ?? null,
        until: f.until ?? null,
        beforeId: f.beforeId ?? null,
        limit: auditLimit(f.limit),
      }) as Record<string, unknown>[]
    ).map(toAudit);
  }
}

/** Appends an entry at `now`; only inside a write (the caller checked its text). */
export function insertAudit(c: SqliteConnection, entry: AuditWrite, now: number): void {
  c.stmt(aq.INSERT_AUDIT).run({
    at: now,
    actor: entry.actor,
    action: entry.action,
    executionId: entry.executionId,
    resultExecutionId: entry.resultExecutionId,
    batchId: entry.batchId,
    reason: entry.reason,
    details: entry.detailsJson,
  });
}
