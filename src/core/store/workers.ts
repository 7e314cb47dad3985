/**
 * Store port slice: Workers and their leases: a worker registers, heartbeats and is declared dead or removed; its executions are claimable by others once it is.
 */
import type { WorkerId } from '../shared/ids.js';

export interface WorkerStore {
  registerWorker(params: RegisterWorkerParams): Promise<void>;
  /** Extends the worker's lease. Returns false when the worker row is gone or had expired
   *  (its executions may have been taken over; fencing protects them). */
  heartbeatWorker(params: { workerId: WorkerId; leaseMs: number }): Promise<boolean>;
  listWorkers(): Promise<WorkerRecord[]>;
  /** Declares workers dead now (e.g. their process is known to be gone), so that their
   *  executions can be claimed without waiting for their leases to run out (abandoned now). */
  expireWorkers(params: { workerIds: WorkerId[] }): Promise<void>;
  /** Removes a worker and releases its executions for others to claim at once (abandoned now). */
  removeWorker(params: { workerId: WorkerId }): Promise<void>;
}

export interface RegisterWorkerParams {
  workerId: WorkerId;
  host: string;
  pid: number;
  leaseMs: number;
}

export interface WorkerRecord {
  workerId: WorkerId;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  expiresAt: number;
}
