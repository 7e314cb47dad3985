/**
 * WorkerStore on PostgreSQL: register, heartbeat (both ahead of the gate's queue: a burst of
 * other work must not cost a worker its lease), list, declare dead, remove.
 */
import type { WorkerId } from '../../core/shared/ids.js';
import type { RegisterWorkerParams, WorkerRecord, WorkerStore } from '../../core/store/store.js';
import { toWorker } from '../rows.js';
import { storableWorker } from '../text-guard.js';
import type { PostgresConnection } from './connection.js';
import * as q from './worker-queries.js';

export class PostgresWorkers implements WorkerStore {
  readonly #conn: PostgresConnection;

  constructor(conn: PostgresConnection) {
    this.#conn = conn;
  }

  async registerWorker(params: RegisterWorkerParams): Promise<void> {
    const p = storableWorker(params);
    await this.#conn.query(q.UPSERT_WORKER, [p.workerId, p.host, p.pid, Math.round(p.leaseMs)], true, 'high');
  }

  async heartbeatWorker(p: { workerId: WorkerId; leaseMs: number }): Promise<boolean> {
    const r = await this.#conn.query(q.HEARTBEAT_WORKER, [p.workerId, Math.round(p.leaseMs)], true, 'high');
    return r.rowCount === 1;
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (await this.#conn.query(q.LIST_WORKERS, [])).rows.map(toWorker);
  }

  async expireWorkers(p: { workerIds: WorkerId[] }): Promise<void> {
    if (p.workerIds.length === 0) return;
    const r = await this.#conn.query(q.EXPIRE_WORKERS, [p.workerIds]);
    if ((r.rowCount ?? 0) > 0) this.#conn.wake();
  }

  async removeWorker(p: { workerId: WorkerId }): Promise<void> {
    const { rows } = await this.#conn.query(q.REMOVE_WORKER, [p.workerId]);
    if (Number(rows[0]?.released) > 0) this.#conn.wake();
  }
}
