/**
 * A worker process of the multi-worker invocation test: an engine on the test's PostgreSQL
 * schema running the mw-* flows (and the engine's own invocation flow) until it is SIGKILLed,
 * or until a `stop` line on stdin asks for a graceful stop. One JSON line per fact on stdout.
 *
 *   node --import tsx pg-invoke-worker-child.ts '<config as JSON>'
 */
import { createInterface } from 'node:readline';
import { createEngine, PostgresStore } from '../../src/index.js';
import { InvokeLedger, makeInvokeFlows } from './pg-invoke-flows.js';

export interface InvokeWorkerConfig {
  connectionString: string;
  schema: string;
  concurrency: number;
}

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

// Should the test process die, its children must not live on.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 500).unref();

const config = JSON.parse(process.argv[2] ?? '{}') as InvokeWorkerConfig;
const ledger = new InvokeLedger(config.connectionString, config.schema);
const engine = createEngine({
  flows: makeInvokeFlows(ledger),
  store: new PostgresStore({ connectionString: config.connectionString, schema: config.schema, poolSize: 4 }),
  concurrency: config.concurrency,
  lease: '3s',
  recoverDelay: '250ms',
  pollInterval: '50ms',
  inMemoryRetryMax: '50ms',
  stopTimeout: '5s',
});
engine.on('lease:lost', (e) => say({ t: 'anomaly', what: `lease lost on ${e.executionId}` }));
engine.on('engine:error', (e) => say({ t: 'error', context: e.context, message: e.error?.message }));

await engine.start();
say({ t: 'ready', pid: process.pid });

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  if (line.trim() !== 'stop') return;
  lines.close();
  await engine.stop();
  await engine.store.close();
  await ledger.close();
  say({ t: 'stopped' });
  process.exit(0);
});
