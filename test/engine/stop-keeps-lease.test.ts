/**
 * Graceful stop must not let another worker run a non-repeatable step again while its call is
 * still in flight, and recovery's `recoverDelay` counts from when the attempt was abandoned.
 * Two engines on one SQLite file; the PostgreSQL twin is test/store/postgres-stop-lease.test.ts.
 */
import { describe, it } from 'node:test';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import {
  recoverDelayCountsFromAbandonment,
  stopWhileStepInFlight,
  stopWhileValidateInFlight,
} from '../support/stop-scenarios.js';
import { storeUrl, tempDir } from '../support/temp-engine.js';

const dir = tempDir();
const fileStore = () => {
  const path = storeUrl(dir).slice('sqlite:'.length);
  return () => new SqliteStore({ path });
};

describe('graceful stop with a step in flight (SQLite)', () => {
  it('keeps the lease until the step returns: another engine does not run it again', async () => {
    await stopWhileStepInFlight(fileStore());
  });

  it('starts no new attempt when a validate in flight at the stop answers retry', async () => {
    await stopWhileValidateInFlight(fileStore());
  });

  it('counts recoverDelay from the release of the execution, not from the attempt start', async () => {
    await recoverDelayCountsFromAbandonment(fileStore(), 'release');
  });

  it("counts recoverDelay from the expiry of the dead worker's lease", async () => {
    await recoverDelayCountsFromAbandonment(fileStore(), 'lease expiry');
  });
});
