/** Retrace's test kit: for testing flows and for holding store adapters to the port's contract. */

export { setPostgresClockOffset } from './postgres-clock.js';
export type { ConformanceTarget } from './store-conformance.js';
export { describeStoreConformance, newExecution } from './store-conformance.js';
export { OffsetClock } from './test-clock.js';
