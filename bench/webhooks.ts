/**
 * Webhook load check: a real server on loopback, a fresh SQLite store per run, and autocannon
 * sending N webhook deliveries (workload W1's input, one distinct order per delivery) over C
 * keep-alive connections. Every 2xx means the delivery and its execution are durable. After
 * each run the store is read back: exactly N deliveries (all accepted) and N executions must
 * exist, and every execution must finish successfully; otherwise the run fails ("none lost").
 *
 *   npx tsx bench/webhooks.ts [--deliveries 2000] [--connections 50] [--runs 3] [--signed] [--json]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createEngine, type Engine, signatureHeaders } from '../src/index.js';
import { createServer } from '../src/server/server.js';
import { describeMachine } from './machine.js';
import { type Spread, spread } from './stats.js';
import { W1_FLOW, w1Flow, w1InputFor } from './w1-workload.js';

const HELP = `bench/webhooks.ts: webhook deliveries against a real server on loopback (SQLite store)

  --deliveries N    webhook deliveries per run (default 2000)
  --connections N   concurrent keep-alive connections (default 50)
  --runs N          runs, each on a fresh store (default 3); median and min–max are reported
  --signed          sign every delivery (Standard Webhooks HMAC) and have the instance verify it
  --json            print the settings, the summary and every run as JSON
  -h, --help`;

interface RunResult {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** From the first request to every execution finished. */
  drainSeconds: number;
  deliveries: number;
  executions: number;
  succeeded: number;
  non2xx: number;
  errors: number;
}

function parseCli() {
  const { values } = parseArgs({
    options: {
      deliveries: { type: 'string' },
      connections: { type: 'string' },
      runs: { type: 'string' },
      signed: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  return {
    deliveries: positive(values.deliveries, 2000, '--deliveries'),
    connections: positive(values.connections, 50, '--connections'),
    runs: positive(values.runs, 3, '--runs'),
    signed: values.signed ?? false,
    json: values.json ?? false,
  };
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a whole number >= 1, got ${value}\n\n${HELP}`);
    process.exit(2);
  }
  return n;
}

/** Progress goes to stderr so `--json` output on stdout stays parseable. */
function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function countAll<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>) {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    all.push(...p.items);
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

async function oneRun(settings: ReturnType<typeof parseCli>, dir: string): Promise<RunResult> {
  const engine: Engine = createEngine({
    flows: [w1Flow],
    store: join(dir, 'bench.db'),
    encryptionKey: randomBytes(32).toString('base64'),
  });
  await engine.start();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const path = settings.signed
    ? `/webhooks/${(await engine.instances.create({ flow: W1_FLOW, name: 'signed', secrets: { webhookSecret: secret } })).id}`
    : `/webhooks/flow/${W1_FLOW}`;
  const server = await createServer({ engine, port: 0, auth: 'none' });
  const { url } = await server.listen();
  let n = 0;
  let finished = 0;
  const allFinished = new Promise<void>((resolve) => {
    const done = () => {
      finished++;
      if (finished === settings.deliveries) resolve();
    };
    engine.on('execution:succeeded', done);
    engine.on('execution:failed', done);
  });
  const began = performance.now();
  const result = await autocannon({
    url,
    connections: settings.connections,
    amount: settings.deliveries,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const body = JSON.stringify(w1InputFor(n++));
          const headers = settings.signed
            ? { ...request.headers, ...signatureHeaders(secret, `msg_${n}`, Buffer.from(body), Date.now() / 1000) }
            : request.headers;
          return { ...request, body, headers };
        },
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} connection errors: see the server`);
  }
  const accepted = performance.now();
  const timeout = setTimeout(() => progress('  still draining after 120 s…'), 120_000);
  await allFinished;
  clearTimeout(timeout);
  const drainSeconds = (performance.now() - began) / 1000;

  const deliveries = await countAll((cursor) =>
    engine.webhooks.deliveries.list({ limit: 1000, ...(cursor ? { cursor } : {}) }),
  );
  const executions = await countAll((cursor) =>
    engine.executions.list({ flow: W1_FLOW, limit: 1000, ...(cursor ? { cursor } : {}) }),
  );
  await server.close();
  await engine.stop();

  const run: RunResult = {
    requestsPerSecond: settings.deliveries / ((accepted - began) / 1000),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    drainSeconds,
    deliveries: deliveries.filter((d) => d.outcome === 'accepted').length,
    executions: executions.length,
    succeeded: executions.filter((e) => e.status === 'succeeded').length,
    non2xx: result.non2xx,
    errors: result.errors,
  };
  const problems = [
    run.deliveries !== settings.deliveries && `${run.deliveries} accepted deliveries recorded`,
    deliveries.length !== settings.deliveries && `${deliveries.length} deliveries recorded in all`,
    run.executions !== settings.deliveries && `${run.executions} executions`,
    run.succeeded !== settings.deliveries && `${run.succeeded} succeeded`,
    run.non2xx > 0 && `${run.non2xx} non-2xx answers`,
    run.errors > 0 && `${run.errors} connection errors`,
  ].filter(Boolean);
  if (problems.length)
    throw new Error(`Lost or refused work (expected ${settings.deliveries} of each): ${problems.join(', ')}`);
  return run;
}

async function main(): Promise<void> {
  const settings = parseCli();
  const dir = mkdtempSync(join(tmpdir(), 'retrace-bench-webhooks-'));
  const machine = describeMachine(dir);
  const runs: RunResult[] = [];
  try {
    for (let i = 1; i <= settings.runs; i++) {
      const runDir = mkdtempSync(join(dir, `run-${i}-`));
      progress(
        `run ${i}/${settings.runs}: ${settings.deliveries} deliveries over ${settings.connections} connections…`,
      );
      const run = await oneRun(settings, runDir);
      progress(
        `  ${run.requestsPerSecond.toFixed(0)} req/s, p50 ${run.latencyP50Ms} ms, p99 ${run.latencyP99Ms} ms, all ${run.executions} executions succeeded after ${run.drainSeconds.toFixed(1)} s`,
      );
      runs.push(run);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const summary: Record<string, Spread> = {
    requestsPerSecond: spread(runs.map((r) => r.requestsPerSecond)),
    latencyP50Ms: spread(runs.map((r) => r.latencyP50Ms)),
    latencyP99Ms: spread(runs.map((r) => r.latencyP99Ms)),
    drainSeconds: spread(runs.map((r) => r.drainSeconds)),
  };
  if (settings.json) {
    console.log(JSON.stringify({ settings, machine, summary, runs }, null, 2));
    return;
  }
  console.log(
    `\nWebhooks: ${settings.deliveries} deliveries, ${settings.connections} connections, ${settings.signed ? 'signed' : 'unsigned'}, SQLite (synchronous=FULL), ${settings.runs} runs`,
  );
  console.log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
  );
  for (const [name, s] of Object.entries(summary)) {
    console.log(
      `  ${name.padEnd(18)} median ${s.median.toFixed(1)}  (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`,
    );
  }
  console.log('  none lost: every run recorded exactly as many deliveries and executions as it sent, all succeeded');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
