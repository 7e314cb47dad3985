/**
 * Store port slice: The audit log of operator actions.
 */
import type { ExecutionId } from '../shared/ids.js';

export interface AuditStore {
  appendAudit(entry: AuditWrite): Promise<void>;
  /** Audit entries matching the filter, newest (highest id) first. */
  listAudit(filter: AuditFilter): Promise<AuditRecord[]>;
}

export interface AuditWrite {
  actor: string;
  action: string;
  executionId: ExecutionId | null;
  resultExecutionId: ExecutionId | null;
  batchId: string | null;
  reason: string | null;
  detailsJson: string | null;
}

/**
 * Every field given must match: `executionId` as the entry's subject or result (the replay it
 * made), any of `actions`, `at` within `since`..`until` (epoch ms, inclusive). Keyset paging:
 * `beforeId` keeps entries with a lower id (ids only grow). `limit` 1 to 1001 (default 100).
 */
export interface AuditFilter {
  executionId?: ExecutionId;
  batchId?: string;
  actor?: string;
  actions?: string[];
  since?: number;
  until?: number;
  beforeId?: number;
  limit?: number;
}

export interface AuditRecord extends AuditWrite {
  id: number;
  at: number;
}
