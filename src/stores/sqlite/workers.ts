/**
 * The SQLite store's WorkerStore slice: workers register, heartbeat, and are declared dead or
 * removed; what they held becomes claimable by others.
 */
import type { WorkerId } from '../../core/shared/ids.js';
import type { RegisterWorkerParams, WorkerRecord, WorkerStore } from '../../core/store/store.js';
import { toWorker } from '../rows.js';
import { storableWorker } from '../text-guard.js';
import type { SqliteConnection } from './connection.js';
import * as wq from './worker-queries.js';

/** How long a dead worker's row is kept (for listings) before registration prunes it. */
const DEAD_WORKER_RETENTION_MS = 86_400_000;

export class SqliteWorkers implements WorkerStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async registerWorker(params: RegisterWorkerParams): Promise<void> {
    const p = storableWorker(params);
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      c.stmt(wq.UPSERT_WORKER).run({
        workerId: p.workerId,
        host: p.host,
        pid: p.pid,
        now,
        expiresAt: now + p.leaseMs,
      });
      c.stmt(wq.PRUNE_DEAD_WORKERS).run({ before: now - DEAD_WORKER_RETENTION_MS });
    });
  }

  heartbeatWorker(p: { workerId: WorkerId; leaseMs: number }): Promise<boolean> {
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      return c.stmt(wq.HEARTBEAT_WORKER).run({ workerId: p.workerId, now, expiresAt: now + p.leaseMs }).changes === 1;
    });
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (this.#c.stmt(wq.LIST_WORKERS).all() as Record<string, unknown>[]).map(toWorker);
  }

  expireWorkers(p: { workerIds: WorkerId[] }): Promise<void> {
    const c = this.#c;
    return c.write(() => {
      const now = c.clock.now();
      for (const workerId of p.workerIds) {
        c.stmt(wq.EXPIRE_WORKER).run({ workerId });
        c.stmt(wq.ABANDON_WORKER_EXECUTIONS).run({ workerId, now });
      }
    });
  }

  removeWorker(p: { workerId: WorkerId }): Promise<void> {
    const c = this.#c;
    return c.write(() => {
      c.stmt(wq.RELEASE_WORKER_EXECUTIONS).run({ workerId: p.workerId, now: c.clock.now() });
      c.stmt(wq.RELEASE_WORKER_BATCHES).run({ workerId: p.workerId });
      c.stmt(wq.DELETE_WORKER).run({ workerId: p.workerId });
    });
  }
}
