/**
 * For the outage-mode engine tests: a fake end system that is up or down at the test's word and
 * remembers every call, and an engine on a real store whose clock the test can move forward: a
 * fresh SQLite file with an OffsetClock, or a throwaway PostgreSQL schema whose database clock
 * is moved with setPostgresClockOffset (and the engine's OffsetClock with it).
 */
import { after } from 'node:test';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { type CreateEngineOptions, createEngine, type Engine, PostgresStore } from '../../src/index.js';
import { setPostgresClockOffset } from '../../src/testing/postgres-clock.js';
import { OffsetClock } from '../../src/testing/test-clock.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import { FAST, storeUrl, tempDir, waitFor } from '../support/temp-engine.js';

export type StoreKind = 'sqlite' | 'postgres';

/** An end system: `down` makes every call throw a retryable error; ids in `refuses` are refused for good. */
export class FakeSystem {
  down = false;
  /** Every call, in order, as `<id>` (while down too). */
  readonly calls: string[] = [];
  /** What it accepted, in order, and when (Date.now()). */
  readonly accepted: string[] = [];
  readonly acceptedAt: number[] = [];
  readonly refuses = new Set<string>();

  call(id: string): { ref: string } {
    this.calls.push(id);
    if (this.down) throw new Error(`ECONNREFUSED: the system is down (call for ${id})`);
    if (this.refuses.has(id)) {
      const err = new Error(`refused ${id} for good`);
      err.name = 'FatalError';
      throw err;
    }
    this.accepted.push(id);
    this.acceptedAt.push(Date.now());
    return { ref: `ref-${id}` };
  }
}

export interface OutageWorld<F extends AnyFlow> {
  engine: Engine<F>;
  kind: StoreKind;
  /** Moves the engine's and the store's clocks forward together. */
  advance(ms: number): Promise<void>;
}

/** A started engine on a fresh store of `kind`, stopped (and its store dropped) after the test file. */
export async function outageWorld<const F extends AnyFlow>(
  kind: StoreKind,
  options: Omit<CreateEngineOptions<F>, 'store' | 'clock'>,
): Promise<OutageWorld<F>> {
  const clock = new OffsetClock();
  let offset = 0;
  if (kind === 'sqlite') {
    const engine = createEngine({ ...FAST, ...options, store: storeUrl(tempDir()), clock });
    await engine.start();
    after(() => engine.stop());
    return {
      engine,
      kind,
      advance: async (ms) => {
        clock.advance(ms);
      },
    };
  }
  await assertReachable();
  const schema = randomSchema();
  const store = new PostgresStore({ connectionString: DATABASE_URL, schema });
  const engine = createEngine({ ...FAST, ...options, store, clock });
  await engine.start();
  after(async () => {
    await engine.stop();
    await store.close();
    await dropSchemas([schema]);
  });
  return {
    engine,
    kind,
    advance: async (ms) => {
      offset += ms;
      clock.advance(ms);
      await setPostgresClockOffset({ connectionString: DATABASE_URL, schema }, offset);
    },
  };
}

/** Waits until `engine.systems.get(system)` satisfies `predicate`. */
export async function waitForSystem(
  engine: Engine<AnyFlow>,
  system: string,
  predicate: (s: Awaited<ReturnType<Engine['systems']['get']>>) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(async () => predicate(await engine.systems.get(system)), timeoutMs, what);
}

/** Waits until execution `id` has `status`. */
export async function waitForStatus(
  engine: Engine<AnyFlow>,
  id: string,
  status: string,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    async () => (await engine.executions.get(id)).status === status,
    timeoutMs,
    `execution ${id} ${status}`,
  );
}
