/**
 * PostgreSQL stores on fresh schemas for the postgres-store-*.test.ts files: made by makeStore,
 * closed and their schemas dropped after the file (useFreshSchemaStores registers that).
 */
import { after, before } from 'node:test';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from './postgres-support.js';

export const schemas: string[] = [];
const open: PostgresStore[] = [];

/** A store on a fresh schema, closed and dropped after the file. */
export function makeStore(
  options: { schema?: string; url?: string; poolSize?: number; applicationName?: string } = {},
) {
  const schema = options.schema ?? randomSchema();
  if (!schemas.includes(schema)) schemas.push(schema);
  const store = new PostgresStore({
    connectionString: options.url ?? DATABASE_URL,
    schema,
    poolSize: options.poolSize ?? 4,
    ...(options.applicationName ? { applicationName: options.applicationName } : {}),
  });
  open.push(store);
  return store;
}

export const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Checks the server is reachable before the file's tests, and closes and drops what they made after them. */
export function useFreshSchemaStores(): void {
  before(assertReachable);
  after(async () => {
    for (const store of open.splice(0)) await store.close();
    await dropSchemas(schemas);
  });
}
