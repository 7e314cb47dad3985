/**
 * The store conformance suite: the behaviour every Store adapter must have, written once
 * against the port (core/store/store.ts), one module per port slice in conformance/. Each
 * adapter's test file calls `describeStoreConformance` with a factory that makes a fresh, empty
 * store; every module's checks then run on that one store, in the order below.
 */
import { after, before, describe } from 'node:test';
import type { Store } from '../core/store/store.js';
import { describeApiKeyConformance } from './conformance/api-keys.js';
import { describeAuditConformance } from './conformance/audit.js';
import { describeBatchConformance } from './conformance/batches.js';
import { describeExecutionListingConformance } from './conformance/execution-listing.js';
import { describeExecutionConformance } from './conformance/executions.js';
import { W1, W2 } from './conformance/fixtures.js';
import { describeInstanceConformance } from './conformance/instances.js';
import { describeLeaseAndWorkerConformance } from './conformance/leases-and-workers.js';
import { describeParkedConformance } from './conformance/parked-executions.js';
import { describeReplayConformance } from './conformance/replays.js';
import { describeScheduleConformance } from './conformance/schedules.js';
import { describeSignalConformance } from './conformance/signals.js';
import { describeStepConformance } from './conformance/steps.js';
import { describeSystemConformance } from './conformance/systems.js';
import { describeTextConformance } from './conformance/text.js';
import { describeWaitConformance } from './conformance/waits.js';
import { describeWebhookDeliveryConformance } from './conformance/webhook-deliveries.js';

export { newExecution } from './conformance/fixtures.js';

export interface ConformanceTarget {
  /** A fresh, empty, not yet initialised store. */
  make(): Promise<Store>;
  /** Drops whatever `make` created (files, schemas). */
  destroy?(store: Store): Promise<void>;
  /**
   * A second store over the same data as `store`, as another process would open it (not yet
   * initialised; the check closes it). With it, the checks of races between stores run too
   * (two probe claimers, a park racing a close).
   */
  sibling?(store: Store): Promise<Store>;
}

export function describeStoreConformance(name: string, target: ConformanceTarget): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await target.make();
      await store.init();
      await store.init(); // idempotent
      await store.registerWorker({ workerId: W1, host: 'h', pid: 1, leaseMs: 60_000 });
      await store.registerWorker({ workerId: W2, host: 'h', pid: 2, leaseMs: 60_000 });
    });
    after(async () => {
      await store.close();
      await target.destroy?.(store);
    });
    const getStore = () => store;

    describeExecutionConformance(getStore);
    describeStepConformance(getStore);
    describeLeaseAndWorkerConformance(getStore);
    describeReplayConformance(getStore);
    describeBatchConformance(getStore);
    describeInstanceConformance(getStore);
    describeScheduleConformance(getStore);
    describeApiKeyConformance(getStore);
    describeWebhookDeliveryConformance(getStore);
    describeAuditConformance(getStore);
    describeWaitConformance(getStore);
    describeSignalConformance(getStore);
    describeSystemConformance(getStore);
    describeParkedConformance(getStore, target.sibling ? (s) => target.sibling!(s) : undefined);
    // After those: some of them read a whole table (batches, due schedules, deliveries), and
    // the text checks write rows into every table.
    describeTextConformance(getStore);
    describeExecutionListingConformance(getStore);
  });
}
