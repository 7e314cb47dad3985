/** The awkward-text cases of test/engine/storable-text.test.ts on PostgreSQL: they must end the same way. */
import { after, before, describe, it } from 'node:test';
import { PostgresStore } from '../../src/index.js';
import { awkwardTextOutcome } from '../support/text-scenarios.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const schema = randomSchema();

describe('text every store can hold (PostgreSQL)', () => {
  before(assertReachable);
  after(() => dropSchemas([schema]));

  it('stores, replaces or refuses NULs and lone surrogates as SQLite does', async () => {
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 3 });
    try {
      await awkwardTextOutcome(store);
    } finally {
      await store.close(); // the engine leaves a store given as an object open
    }
  });
});
