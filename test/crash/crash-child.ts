/**
 * The process the crash tests kill. It opens the engine on the test's store, (re)creates its
 * executions by idempotency key, and waits until every one of them has finished; then it stops
 * the engine and exits 0 (or, when told to, idles until it is killed). Whatever it learns is printed as one JSON line per fact on stdout
 * (writes to a pipe are synchronous on Linux, so a line printed is a line the parent gets even
 * if the next instruction is a SIGKILL).
 *
 * Crash points are armed only through this process's environment (RETRACE_CRASH_*), read by
 * createEngine for the engine's own points and by `crashPointsFromEnv` for the flows' points.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createEngine, ExecutionFailedError } from '../../src/index.js';
import { crashPointsFromEnv } from '../../src/runtime/crash-points.js';
import type { ChildConfig, ChildLine } from './child-process.js';
import { makeCrashFlows } from './crash-flows.js';
import { Ledger } from './ledger.js';

const bootAt = Date.now();
const say = (line: ChildLine) => process.stdout.write(`${JSON.stringify(line)}\n`);
say({ t: 'boot', at: bootAt });

// Should the test process die (a runner timeout, Ctrl-C), its children must not live on.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 500).unref();

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as ChildConfig;
if (config.gated) {
  // Started ahead of time to hide its start-up cost: it touches no file until the parent says
  // `go`, which it does only once the previous child is dead.
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
}
const ledger = new Ledger(config.ledgerPath);
// The restart proper: from here on the engine opens the store, recovers and claims.
const startingAt = Date.now();
const flows = makeCrashFlows({ ledger, points: crashPointsFromEnv(process.env) });
const engine = createEngine({
  flows,
  store: `sqlite:${config.storePath}`,
  concurrency: config.concurrency,
  // Longer than the 2 s resumption bound the tests assert, so meeting the bound proves the
  // restarted worker found its predecessor's pid dead instead of waiting out the lease.
  lease: '5s',
  recoverDelay: config.recoverDelayMs ?? 100,
  pollInterval: '20ms',
  inMemoryRetryMax: config.inMemoryRetryMaxMs,
  stopTimeout: '5s',
});

let started = false;
let progressed = false;
const sinceStart = () => Date.now() - startingAt;
engine.on('execution:started', (e) => {
  if (e.claimCount > 1) say({ t: 'claim', id: e.executionId, claimCount: e.claimCount, ms: sinceStart() });
});
const onProgress = () => {
  if (progressed || !started) return;
  progressed = true;
  say({ t: 'progress', ms: sinceStart() });
};
engine.on('step:succeeded', onProgress);
engine.on('step:validated', onProgress);
engine.on('execution:succeeded', onProgress);
engine.on('execution:failed', onProgress);
engine.on('lease:lost', (e) => say({ t: 'anomaly', what: `lease lost on ${e.executionId}` }));
engine.on('engine:error', (e) => say({ t: 'anomaly', what: `engine error (${e.context}): ${e.error?.stack}` }));

await engine.start();
started = true;
say({ t: 'ready', ms: sinceStart() });

const results: Promise<unknown>[] = [];
// Created in small batches: a kill can land between any two of them, and each batch shares
// one group commit instead of paying one fsync per execution.
for (let i = 0; i < config.executions.length; i += config.createBatch) {
  const batch = config.executions.slice(i, i + config.createBatch);
  const handles = await Promise.all(
    batch.map((e) => engine.run(e.flow as never, e.input as never, { idempotencyKey: e.key })),
  );
  handles.forEach((h, j) => {
    say({ t: 'created', key: batch[j]!.key, id: h.id, created: h.created });
    results.push(
      h.result().catch((err: unknown) => {
        // Failures are judged by the parent from the store; anything else is a broken child.
        if (!(err instanceof ExecutionFailedError)) throw err;
      }),
    );
  });
}
await Promise.all(results);
if (!config.exitWhenDone) {
  say({ t: 'idle', ms: sinceStart() });
  // The engine's timers keep the process alive until the parent's SIGKILL.
  await new Promise(() => {});
}
await engine.stop();
ledger.close();
say({ t: 'done', ms: Date.now() - bootAt });
process.exit(0);
