/** The graceful-stop and recoverDelay scenarios of test/engine/stop-keeps-lease.test.ts, on PostgreSQL. */
import { after, before, describe, it } from 'node:test';
import { PostgresStore } from '../../src/index.js';
import {
  recoverDelayCountsFromAbandonment,
  stopWhileStepInFlight,
  stopWhileValidateInFlight,
} from '../support/stop-scenarios.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const schemas: string[] = [];
/** Closed after the file: the scenarios' engines leave a store given as an object open. */
const opened: PostgresStore[] = [];
const schemaStore = () => {
  const schema = randomSchema();
  schemas.push(schema);
  return () => {
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 3 });
    opened.push(store);
    return store;
  };
};

describe('graceful stop with a step in flight (PostgreSQL)', () => {
  before(assertReachable);
  after(async () => {
    await Promise.all(opened.map((store) => store.close()));
    await dropSchemas(schemas);
  });

  it('keeps the lease until the step returns: another engine does not run it again', async () => {
    await stopWhileStepInFlight(schemaStore());
  });

  it('starts no new attempt when a validate in flight at the stop answers retry', async () => {
    await stopWhileValidateInFlight(schemaStore());
  });

  it('counts recoverDelay from the release of the execution, not from the attempt start', async () => {
    await recoverDelayCountsFromAbandonment(schemaStore(), 'release');
  });

  it("counts recoverDelay from the expiry of the dead worker's lease", async () => {
    await recoverDelayCountsFromAbandonment(schemaStore(), 'lease expiry');
  });
});
