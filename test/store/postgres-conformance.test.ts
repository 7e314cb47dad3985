import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { describeStoreConformance } from '../../src/testing/index.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

const schemas: string[] = [];

describeStoreConformance('postgres (own schema per run)', {
  async make() {
    await assertReachable();
    const schema = randomSchema();
    schemas.push(schema);
    return new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 4 });
  },
  async sibling(store) {
    return new PostgresStore({ connectionString: DATABASE_URL, schema: (store as PostgresStore).schema, poolSize: 4 });
  },
  async destroy() {
    await dropSchemas(schemas);
  },
});
