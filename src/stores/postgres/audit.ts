/** AuditStore on PostgreSQL: the audit log of operator actions, appended and read newest first. */
import type { AuditFilter, AuditRecord, AuditStore, AuditWrite } from '../../core/store/store.js';
import { auditLimit, toAudit } from '../rows.js';
import { matchesNothing, storableAudit } from '../text-guard.js';
import * as aq from './audit-queries.js';
import type { PostgresConnection } from './connection.js';

export class PostgresAudit implements AuditStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async appendAudit(write: AuditWrite): Promise<void> {
    const entry = storableAudit(write);
    await this.#conn.query(aq.INSERT_AUDIT, [
      entry.actor,
      entry.action,
      entry.executionId,
      entry.resultExecutionId,
      entry.batchId,
      entry.reason,
      entry.detailsJson,
    ]);
  }

  async listAudit(f: AuditFilter): Promise<AuditRecord[]> {
    if (matchesNothing(f)) return [];
    const { rows } = await this.#conn.query(aq.SELECT_AUDIT, [
      f.executionId ?? null,
      f.batchId ?? null,
      auditLimit(f.limit),
      f.actor ?? null,
      f.actions ?? null,
      f.since ?? null,
      f.until ?? null,
      f.beforeId ?? null,
    ]);
    return rows.map(toAudit);
  }
}
