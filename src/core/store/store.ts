/**
 * The store port (src/core/store/): one interface per capability (workers, executions, steps,
 * replays, instances, schedules, signals, systems, API keys, webhook deliveries, audit) and the records they
 * carry; this file is their sum. It says what must be stored and read, never how: the adapters
 * in src/stores/ implement it, and src/testing/conformance/ holds them all to one behaviour.
 */
/**
 * The store port: everything the engine needs from persistence, and nothing about how. It is
 * the sum of one slice per capability (beside this file); a component that needs one slice
 * takes that slice's type, so what it may touch is visible in its signature.
 * Adapters (stores/sqlite, stores/postgres) implement it; one conformance suite
 * (testing/store-conformance.ts) holds every adapter to the same behaviour.
 *
 * Rules every adapter keeps:
 * - Each method is atomic: it commits all of its effects or none.
 * - "Now" is the store's clock. Methods that take a delay (`dueInMs`) add it to the store's
 *   now, so due times and lease expiry never compare two machines' clocks.
 * - `updateExecution` is fenced: it applies only while the execution's lease token equals the
 *   one given, and otherwise rejects with LeaseLostError and changes nothing.
 * - Payloads are JSON text, stored whole; the adapter never parses or trims them.
 * - Timestamps are epoch milliseconds.
 */
import type { ApiKeyStore } from './api-keys.js';
import type { AuditStore } from './audit.js';
import type { ExecutionStore } from './executions.js';
import type { InstanceStore } from './instances.js';
import type { ReplayStore } from './replays.js';
import type { ScheduleStore } from './schedules.js';
import type { SignalStore } from './signals.js';
import type { StepStore } from './steps.js';
import type { SystemStore } from './systems.js';
import type { WebhookDeliveryStore } from './webhook-deliveries.js';
import type { WorkerStore } from './workers.js';

export type * from './api-keys.js';
export type * from './audit.js';
export type * from './executions.js';
export type * from './instances.js';
export { defaultInstanceId } from './instances.js';
export type * from './replays.js';
export type * from './schedules.js';
export type * from './signals.js';
export type * from './steps.js';
export type * from './systems.js';
export type * from './webhook-deliveries.js';
export type * from './workers.js';

/** Opening, closing and the store's clock: what every adapter has whatever it stores. */
export interface StoreLifecycle {
  /** A short name for messages and metrics, e.g. `sqlite`. */
  readonly kind: string;
  /** Opens connections and applies migrations. Idempotent. */
  init(): Promise<void>;
  close(): Promise<void>;
  /** The store's clock, in epoch ms. */
  now(): Promise<number>;
  /**
   * Optional capability: calls `listener` when another process may have made work due (e.g.
   * PostgreSQL LISTEN/NOTIFY), so idle workers need not wait for their next poll. Only ever a
   * latency hint: notifications can be lost, and polling stays what guarantees progress.
   */
  onWork?(listener: () => void): () => void;
}

export interface Store
  extends StoreLifecycle,
    WorkerStore,
    ExecutionStore,
    StepStore,
    ReplayStore,
    InstanceStore,
    ScheduleStore,
    SignalStore,
    SystemStore,
    ApiKeyStore,
    WebhookDeliveryStore,
    AuditStore {}
