/**
 * A worker process of the outage tests: an engine on the test's store (a SQLite file or a
 * PostgreSQL schema) running acme-order against the shared fake Acme. It (re)starts the
 * executions it is given by idempotency key (a restarted child finds what its predecessors
 * started), prints what it sees, and either exits 0 once nothing is unfinished
 * (`exitWhenDone`) or runs until it is killed. One JSON line per fact on stdout; writes to a
 * pipe are synchronous, so a line printed is a line the parent gets even if a SIGKILL follows.
 *
 * Crash points are armed only through this process's environment (RETRACE_CRASH_*): the
 * engine's own by createEngine, Acme's by this file:
 *   test:acme-down-call   a call to Acme while it is down (step: call | lookup | health)
 *   test:after-effect     an order applied at Acme, before the engine hears of it
 *   test:inside-health    the health check begun, before it asks Acme
 *
 *   node --import tsx outage-child.ts <config file>
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine, ExecutionFailedError, PostgresStore } from '../../src/index.js';
import { crashPointsFromEnv } from '../../src/runtime/crash-points.js';
import type { StoreSpec } from '../crash/wait-store.js';
import { ACME, ACME_FLOW, type AcmeSetup, acmeOrderFlow, acmeSystems } from './acme-flows.js';
import { FakeAcme } from './fake-acme.js';

export interface OutageChildConfig {
  /** Acme's file (the harness writes this config beside it). */
  ledgerPath: string;
  store: StoreSpec;
  setup: AcmeSetup;
  concurrency: number;
  /** Executions to (re)start, by idempotency key. */
  work: { key: string; order: number }[];
  exitWhenDone: boolean;
  /** Wait for a `go` line on stdin before touching the store. */
  gated: boolean;
  /** Print the circuit (`system` lines) this often; 0: never. */
  statusEveryMs: number;
  /** The engine's heartbeat; short when the test moves the database's clock by hours. @default '1s' */
  sweepInterval?: string;
  /** How often the prober looks for due probes. @default '1s' */
  probeInterval?: string;
}

/** What the child prints, besides the harness's `boot`, `ready`, `created`, `anomaly` and `done`. */
export type OutageLine =
  | { t: 'boot'; at: number }
  | { t: 'ready'; ms: number }
  | { t: 'created'; key: string; id: string; created: boolean }
  | { t: 'anomaly'; what: string }
  | { t: 'done'; ms: number }
  | { t: 'system'; state: string; parked: number; probes: number; closedAt: number | null }
  | { t: 'event'; what: 'opened' | 'closed' | 'probe' | 'parked'; at: number; outcome?: string };

const say = (line: OutageLine) => process.stdout.write(`${JSON.stringify(line)}\n`);
say({ t: 'boot', at: Date.now() });

// Should the test process die, its children must not live on.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 500).unref();

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as OutageChildConfig;
if (config.gated) {
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
}
const startingAt = Date.now();
const points = crashPointsFromEnv(process.env);
const acme = new FakeAcme(config.ledgerPath, {
  onCall: (c) => {
    if (!c.up) points.hitNamed('test:acme-down-call', { step: c.kind });
  },
  afterEffect: () => points.hitNamed('test:after-effect'),
});
const { store } = config;
const engine = createEngine({
  flows: [acmeOrderFlow(acme, config.setup)],
  store:
    store.kind === 'sqlite'
      ? `sqlite:${store.path}`
      : new PostgresStore({ connectionString: store.url, schema: store.schema, poolSize: 4 }),
  systems: acmeSystems(acme, config.setup, () => points.hitNamed('test:inside-health')),
  concurrency: config.concurrency,
  // Longer than a test waits: a restarted child takes over by finding its predecessor's pid dead.
  lease: '5s',
  sweepInterval: config.sweepInterval ?? '1s',
  systemProbeInterval: config.probeInterval ?? '1s',
  recoverDelay: 100,
  pollInterval: '20ms',
  inMemoryRetryMax: '50ms',
  stopTimeout: '5s',
});
engine.on('lease:lost', (e) => say({ t: 'anomaly', what: `lease lost on ${e.executionId}` }));
engine.on('engine:error', (e) => say({ t: 'anomaly', what: `engine error (${e.context}): ${e.error?.stack}` }));
engine.on('system:opened', () => say({ t: 'event', what: 'opened', at: Date.now() }));
engine.on('system:closed', () => say({ t: 'event', what: 'closed', at: Date.now() }));
engine.on('system:probe', (e) => say({ t: 'event', what: 'probe', at: Date.now(), outcome: e.outcome }));
engine.on('execution:parked', () => say({ t: 'event', what: 'parked', at: Date.now() }));

await engine.start();
say({ t: 'ready', ms: Date.now() - startingAt });

if (config.statusEveryMs > 0) {
  const report = async () => {
    for (;;) {
      const s = await engine.systems.get(ACME).catch(() => null);
      if (s)
        say({
          t: 'system',
          state: s.state,
          parked: s.parked,
          probes: s.probes,
          closedAt: s.closedAt?.getTime() ?? null,
        });
      await sleep(config.statusEveryMs);
    }
  };
  void report();
}

const results: Promise<unknown>[] = [];
for (const item of config.work) {
  const handle = await engine.run(ACME_FLOW, { order: item.order }, { idempotencyKey: item.key });
  say({ t: 'created', key: item.key, id: handle.id, created: handle.created });
  results.push(
    handle.result().catch((err: unknown) => {
      // Failures are judged by the parent from the store; anything else is a broken child.
      if (!(err instanceof ExecutionFailedError)) throw err;
    }),
  );
}
if (!config.exitWhenDone) await new Promise(() => {}); // until the parent's SIGKILL
await Promise.all(results);
for (;;) {
  if ((await engine.executions.counts()).length === 0) break;
  await sleep(50);
}
await engine.stop();
acme.close();
say({ t: 'done', ms: Date.now() - startingAt });
process.exit(0);
