/**
 * The process the waiting-step crash suite kills (wait-crash.test.ts). It opens the engine on
 * the cell's store (SQLite or a PostgreSQL schema), (re)starts the work it is given (runs by
 * idempotency key, invocations by cid: a restarted child finds what its predecessors started),
 * sends each signal flow its two signals unless its mailbox already has them, waits until no
 * execution is unfinished, then stops the engine and exits 0. Whatever it learns is printed as
 * one JSON line per fact on stdout (see ChildLine in child-process.ts).
 *
 * Crash points are armed only through this process's environment (RETRACE_CRASH_*): the
 * engine's own by createEngine, the flows' and this file's (`test:before-signal`,
 * `test:after-signal`, around engine.signal) by `crashPointsFromEnv`.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEngine, ExecutionFailedError, InvokeFailedError, PostgresStore } from '../../src/index.js';
import { crashPointsFromEnv } from '../../src/runtime/crash-points.js';
import type { ChildLine } from './child-process.js';
import { FLOWS, makeWaitFlows, SIGNAL_NAME } from './wait-flows.js';
import { WaitLedger } from './wait-ledger.js';
import type { WaitChildConfig } from './wait-work.js';

const say = (line: ChildLine) => process.stdout.write(`${JSON.stringify(line)}\n`);
say({ t: 'boot', at: Date.now() });

// Should the test process die (a runner timeout, Ctrl-C), its children must not live on.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 500).unref();

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as WaitChildConfig;
if (config.gated) {
  // Booted ahead of time; it touches no file until the parent says `go`, once the previous child is dead.
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
}
const startingAt = Date.now();
const points = crashPointsFromEnv(process.env);
const ledger = new WaitLedger(config.ledgerPath);
const { store } = config;
const engine = createEngine({
  flows: makeWaitFlows(ledger, points),
  store:
    store.kind === 'sqlite'
      ? `sqlite:${store.path}`
      : new PostgresStore({ connectionString: store.url, schema: store.schema, poolSize: 4 }),
  concurrency: config.concurrency,
  // Longer than a test cares to wait: a restarted child takes over by finding its predecessor's pid dead.
  lease: '5s',
  recoverDelay: 100,
  pollInterval: '20ms',
  inMemoryRetryMax: config.inMemoryRetryMaxMs,
  stopTimeout: '5s',
});
engine.on('lease:lost', (e) => say({ t: 'anomaly', what: `lease lost on ${e.executionId}` }));
engine.on('engine:error', (e) => say({ t: 'anomaly', what: `engine error (${e.context}): ${e.error?.stack}` }));

await engine.start();
say({ t: 'ready', ms: Date.now() - startingAt });

const pending: Promise<unknown>[] = [];
const signalFlows: string[] = [];
for (const item of config.work) {
  if (item.kind === 'run') {
    const handle = await engine.run(item.flow as never, item.input as never, { idempotencyKey: item.key });
    say({ t: 'created', key: item.key, id: handle.id, created: handle.created });
    if (item.flow === FLOWS.signal) signalFlows.push(handle.id);
    pending.push(
      handle.result().catch((err: unknown) => {
        // Failures are judged by the parent from the store; anything else is a broken child.
        if (!(err instanceof ExecutionFailedError)) throw err;
      }),
    );
    continue;
  }
  const invoked = engine.invoke(item.target as never, item.input as never, { ...item.options, cid: item.cid }).then(
    (result) => say({ t: 'invoked', cid: item.cid, result }),
    (err: unknown) => {
      if (!(err instanceof InvokeFailedError)) throw err;
      say({ t: 'invoked', cid: item.cid, failed: err.payload });
    },
  );
  // Async answers at once; sync and sync-async are awaited with the rest.
  if (item.options.mode === 'async') await invoked;
  else pending.push(invoked);
}
for (const id of signalFlows) pending.push(sendSignals(id));
await Promise.all(pending);
// Invocations started here run on (attempts, sleeps, callbacks) after their callers were answered.
for (;;) {
  const open = await engine.executions.counts();
  if (open.length === 0) break;
  await sleep(30);
}
await engine.stop();
ledger.close();
say({ t: 'done', ms: Date.now() - startingAt });
process.exit(0);

/**
 * Sends signal 1, and signal 2 once signal 1 was consumed (so it may find the flow waiting, or
 * arrive in its mailbox first), each unless already there: what a predecessor sent before it
 * died is in the mailbox whether or not it lived to say so, and is never sent twice.
 */
async function sendSignals(id: string): Promise<void> {
  for (const seq of [1, 2]) {
    if (seq === 2) {
      for (;;) {
        const view = await engine.executions.get(id);
        if (view.signals.some((s) => (s.payload as { seq?: number } | null)?.seq === 1 && s.consumedAt !== null)) break;
        await sleep(20);
      }
      await sleep(Math.floor(Math.random() * config.signalDelayMs));
    }
    const view = await engine.executions.get(id);
    if (view.signals.some((s) => (s.payload as { seq?: number } | null)?.seq === seq)) continue;
    points.hitNamed('test:before-signal');
    const signal = await engine.signal(id, SIGNAL_NAME, { seq });
    points.hitNamed('test:after-signal');
    say({ t: 'signal', executionId: id, seq, signalId: signal.id });
  }
}
