/**
 * Driving an outage from a test: the engine's API read in the ways the tests need (parked
 * executions in park order, waiting for a quiet moment or for everything to end, bringing the
 * circuit back by moving time to its next probe), and the worker processes of outage-child.ts.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { type CreateEngineOptions, createEngine, type Engine, PostgresStore, type Store } from '../../src/index.js';
import { OffsetClock, setPostgresClockOffset } from '../../src/testing/index.js';
import { type ChildRun, reach, startChild } from '../crash/child-process.js';
import type { CellFiles } from '../crash/wait-store.js';
import { ACME } from './acme-flows.js';
import type { FakeAcme } from './fake-acme.js';
import type { OutageChildConfig, OutageLine } from './outage-child.js';

export const OUTAGE_CHILD = join(dirname(fileURLToPath(import.meta.url)), 'outage-child.ts');

/** Any engine, whatever its flows. */
type AnyEngine = Engine<AnyFlow>;

/** The parked executions of `system`, in park order (seq), every page. */
export async function parkedInOrder(engine: AnyEngine, system = ACME): Promise<{ executionId: string; seq: number }[]> {
  const all: { executionId: string; seq: number }[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await engine.systems.parked(system, { limit: 500, ...(after !== undefined ? { after } : {}) });
    all.push(...page.items.map((p) => ({ executionId: p.executionId, seq: p.seq })));
    if (page.next === null) return all;
    after = page.next;
  }
}

/** Unfinished executions by status, all flows together. */
export async function unfinished(engine: AnyEngine): Promise<Record<string, number>> {
  const byStatus: Record<string, number> = {};
  for (const c of await engine.executions.counts()) byStatus[c.status] = (byStatus[c.status] ?? 0) + c.count;
  return byStatus;
}

/**
 * Until nothing is queued or running and no probe is out: every execution that arrived has
 * parked (or waits for a retry). Moving the clock only then keeps a lease from being jumped over.
 * At least `minMs` (a heartbeat and a poll: after a jump of the clock a worker claims nothing
 * until its next heartbeat renews its registration), so that work the jump made due is claimed.
 */
export async function settle(engine: AnyEngine, timeoutMs: number, minMs = 120, system = ACME): Promise<void> {
  const began = Date.now();
  for (;;) {
    const open = await unfinished(engine);
    const state = (await engine.systems.get(system)).state;
    if (!open.queued && !open.running && state !== 'half_open' && Date.now() - began >= minMs) return;
    if (Date.now() - began > timeoutMs) return; // a probe may stay out a while; the caller goes on
    await sleep(10);
  }
}

/** Until no execution is unfinished; fails after `timeoutMs` saying what is left. */
export async function drain(engine: AnyEngine, timeoutMs: number): Promise<number> {
  const began = Date.now();
  for (;;) {
    const open = await unfinished(engine);
    if (Object.keys(open).length === 0) return Date.now() - began;
    if (Date.now() - began > timeoutMs) {
      const system = await engine.systems.get(ACME);
      assert.fail(
        `still unfinished after ${timeoutMs} ms: ${JSON.stringify(open)}; acme ${system.state}, ${system.parked} parked`,
      );
    }
    await sleep(25);
  }
}

/**
 * Acme is back: moves the store's clock to the circuit's next probe while it is open (never
 * after it closed: the ramp runs on that clock) until a probe closes it. Returns when it closed.
 */
export async function untilClosed(
  engine: AnyEngine,
  advance: (ms: number) => Promise<void>,
  timeoutMs: number,
): Promise<Date> {
  const began = Date.now();
  for (;;) {
    const system = await engine.systems.get(ACME);
    if (system.state === 'closed') {
      assert.ok(system.closedAt, 'closed without a closedAt');
      return system.closedAt;
    }
    if (system.state === 'open' && system.nextProbeAt) {
      const wait = system.nextProbeAt.getTime() - (await engine.store.now());
      if (wait > 0) await advance(wait + 1);
    }
    if (Date.now() - began > timeoutMs) assert.fail(`acme still ${system.state} ${timeoutMs} ms after it came back`);
    await sleep(20);
  }
}

/** Worker processes running outage-child.ts on one store, started together. */
export async function startWorkers(count: number, config: OutageChildConfig): Promise<ChildRun[]> {
  const workers = Array.from({ length: count }, () => startChild(config, undefined, OUTAGE_CHILD));
  for (const [i, w] of workers.entries()) assert.ok(await reach(w, 'ready', 60_000, `worker ${i}`), w.stderr);
  return workers;
}

/** A child's lines as the outage child prints them. */
export function outageLines(run: ChildRun): OutageLine[] {
  return run.lines as unknown as OutageLine[];
}

/** Anomalies a child reported (a lease lost, an engine error). */
export function anomalies(runs: ChildRun[]): string[] {
  return runs.flatMap((r) => outageLines(r).flatMap((l) => (l.t === 'anomaly' ? [l.what] : [])));
}

/** What an engine of the in-process outage tests takes (the store is the cell's). */
export type CellEngineOptions<F extends AnyFlow> = Omit<CreateEngineOptions<F>, 'store'>;

/**
 * Engines on one cell's store, as separate workers would be: on SQLite each opens the file
 * itself, on PostgreSQL each has its own pool. Started; `close` stops them and closes the pools.
 */
export async function cellEngines<const F extends AnyFlow>(
  cell: CellFiles,
  count: number,
  options: CellEngineOptions<F>,
): Promise<{ engines: Engine<F>[]; close(): Promise<void> }> {
  const pools: Store[] = [];
  const engines = Array.from({ length: count }, () => {
    const { store } = cell;
    if (store.kind === 'sqlite') return createEngine({ ...options, store: `sqlite:${store.path}` });
    const pool = new PostgresStore({ connectionString: store.url, schema: store.schema, poolSize: 4 });
    pools.push(pool);
    return createEngine({ ...options, store: pool });
  });
  for (const e of engines) await e.start();
  return {
    engines,
    async close() {
      for (const e of engines) await e.stop();
      for (const p of pools) await p.close();
    },
  };
}

/** Moves the store's clock of a cell forward for every engine on it: the shared OffsetClock, or the database's. */
export function clockMover(
  cell: CellFiles,
  acme: FakeAcme,
): { clock: OffsetClock; advance(ms: number): Promise<void> } {
  const clock = new OffsetClock();
  let offset = 0;
  return {
    clock,
    async advance(ms) {
      offset += ms;
      const { store } = cell;
      if (store.kind === 'sqlite') clock.advance(ms);
      else await setPostgresClockOffset({ connectionString: store.url, schema: store.schema }, offset);
      acme.setClockOffset(offset);
    },
  };
}
