/**
 * One started engine per store kind (a fresh SQLite file, a throwaway PostgreSQL schema) for test
 * files whose cases must hold on both: `const engines = enginesOnEachStore([flow])`, then
 * `describeCases('sqlite', () => engines.sqlite)` and the same for `postgres`. Stopped, and the
 * schema dropped, after the file.
 */
import { after, before } from 'node:test';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { createEngine, type Engine, PostgresStore } from '../../src/index.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import { FAST, storeUrl, tempDir } from './temp-engine.js';

export function enginesOnEachStore<const F extends AnyFlow>(flows: F[]): { sqlite: Engine<F>; postgres: Engine<F> } {
  const engines = {} as { sqlite: Engine<F>; postgres: Engine<F> };
  const schema = randomSchema();
  const dir = tempDir();
  // A store given as an object is the caller's to close (engine.stop leaves it open): left open,
  // its pool keeps the test process alive until its idle connections time out.
  let postgresStore: PostgresStore | undefined;
  before(async () => {
    engines.sqlite = createEngine({ ...FAST, flows, store: storeUrl(dir) });
    await engines.sqlite.start();
    await assertReachable();
    postgresStore = new PostgresStore({ connectionString: DATABASE_URL, schema });
    engines.postgres = createEngine({ ...FAST, flows, store: postgresStore });
    await engines.postgres.start();
  });
  after(async () => {
    await engines.sqlite?.stop();
    await engines.postgres?.stop();
    await postgresStore?.close();
    await dropSchemas([schema]);
  });
  return engines;
}
