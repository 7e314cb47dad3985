/**
 * Stores of both kinds, for test files whose cases start and restart engines of their own on
 * one store. Call `storeKinds()` once at the top of the file (it registers the clean-up), then
 * `await stores.url(kind)` in a case: SQLite, a fresh file; PostgreSQL, a throwaway schema
 * (dropped after the file). Engines opened from one URL share one store, as processes would.
 * A missing PostgreSQL server fails the case with how to start it (never a skip).
 */
import { after } from 'node:test';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import { storeUrl, tempDir } from './temp-engine.js';

export const STORE_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export function storeKinds(): { url(kind: StoreKind): Promise<string> } {
  const dir = tempDir();
  const schemas: string[] = [];
  after(() => dropSchemas(schemas));
  return {
    async url(kind) {
      if (kind === 'sqlite') return storeUrl(dir);
      await assertReachable();
      const schema = randomSchema();
      schemas.push(schema);
      const url = new URL(DATABASE_URL);
      url.searchParams.set('schema', schema);
      return url.toString();
    },
  };
}
