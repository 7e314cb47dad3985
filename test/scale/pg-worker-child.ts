/**
 * A worker process of the multi-worker tests: an engine on the test's PostgreSQL schema that
 * claims and runs whatever is due until it is SIGKILLed, or until a `stop` line on stdin asks
 * for a graceful stop. It prints one JSON line per fact (`ready`, `anomaly`, `stopped`).
 * A `gated` one is started ahead of its turn: it loads and makes its engine, then opens nothing
 * (no connection, no worker row) until a `go` line on stdin.
 *
 *   node --import tsx pg-worker-child.ts <config.json as an argument>
 */
import { createInterface } from 'node:readline';
import { createEngine, PostgresStore } from '../../src/index.js';
import { makeScaleFlow, PgLedger } from './scale-flow.js';

export interface WorkerChildConfig {
  connectionString: string;
  schema: string;
  concurrency: number;
  leaseMs: number;
  recoverDelayMs: number;
  stepMs: number;
  gated?: boolean;
}

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

// Should the test process die, its children must not live on.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 500).unref();

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerChildConfig;
const ledger = new PgLedger(config.connectionString, config.schema);
const engine = createEngine({
  flows: [makeScaleFlow(ledger, config.stepMs)],
  store: new PostgresStore({ connectionString: config.connectionString, schema: config.schema, poolSize: 4 }),
  concurrency: config.concurrency,
  leaseMs: config.leaseMs,
  recoverDelay: config.recoverDelayMs,
  pollInterval: '50ms',
  stopTimeout: '5s',
});
engine.on('lease:lost', (e) => say({ t: 'anomaly', what: `lease lost on ${e.executionId}` }));
engine.on('engine:error', (e) => say({ t: 'error', context: e.context, message: e.error?.message }));

async function stop(): Promise<void> {
  lines.close();
  await engine.stop();
  await engine.store.close();
  await ledger.close();
  say({ t: 'stopped' });
  process.exit(0);
}

let go!: () => void;
const released = new Promise<void>((resolve) => {
  go = resolve;
});
// One listener from the start, so that no line is missed between `go` and `stop`.
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const word = line.trim();
  if (word === 'go') go();
  else if (word === 'stop') void stop();
});
if (config.gated) await released;

await engine.start();
say({ t: 'ready', pid: process.pid });
