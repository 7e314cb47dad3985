/**
 * PostgreSQL's passing conditions and refusals, for real: a read-only session (what a failover
 * to a replica gives, SQLSTATE 25006) is STORE_BUSY, a value PostgreSQL cannot hold is
 * STORE_WRITE_REFUSED; neither comes back as the raw driver error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newExecutionId } from '../../src/core/shared/ids.js';
import { PostgresStore, StoreBusyError } from '../../src/index.js';
import { newExecution } from '../../src/testing/store-conformance.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const schema = randomSchema();

describe('PostgreSQL store conditions', () => {
  before(assertReachable);
  after(() => dropSchemas([schema]));

  it('answers a write in a read-only session with STORE_BUSY (25006), and reads still work', async () => {
    const writable = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 1 });
    await writable.init();
    await writable.close();
    const url = new URL(DATABASE_URL);
    url.searchParams.set('options', '-c default_transaction_read_only=on');
    const readOnly = new PostgresStore({ connectionString: url.toString(), schema, poolSize: 1, migrate: false });
    await readOnly.init();
    try {
      await assert.rejects(readOnly.createExecution(newExecution()), (err: unknown) => {
        assert.ok(err instanceof StoreBusyError, String(err));
        assert.equal(err.code, 'STORE_BUSY');
        assert.equal(err.reason, '25006');
        return true;
      });
      assert.equal(await readOnly.getExecution(newExecutionId()), undefined);
    } finally {
      await readOnly.close();
    }
  });
});
