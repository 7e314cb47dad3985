/**
 * The long-running commands as real child processes (`node bin/retrace.js worker|serve|dev`):
 * they log a line when started, run executions, and on SIGTERM stop gracefully and exit 0 with
 * their in-flight execution finished (within --stop-timeout) or released to another worker
 * (after it), never lost.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createEngine, type Engine, type Execution } from '../../src/index.js';
import { assertReachable, DATABASE_URL, dropSchemas, randomSchema } from '../store/postgres-support.js';
import { tempDir, waitFor } from '../support/temp-engine.js';
import { CliProcess, cli, ENCRYPTION_KEY, writeFlows } from './cli-support.js';

const dir = tempDir('retrace-cli-processes-');
const flows = writeFlows(dir);
const storeFile = join(dir, 'retrace.db');
const env = { RETRACE_STORE: `sqlite:${storeFile}`, RETRACE_ENCRYPTION_KEY: ENCRYPTION_KEY };
const children: CliProcess[] = [];
const schemas: string[] = [];
after(async () => {
  for (const c of children) c.kill();
  await dropSchemas(schemas);
});

function start(args: string[], extra: Record<string, string> = {}): CliProcess {
  const p = new CliProcess(args, dir, { ...env, ...extra });
  children.push(p);
  return p;
}

function slowStarts(): number {
  try {
    return readFileSync(join(dir, 'slow.log'), 'utf8')
      .split('\n')
      .filter((l) => l === 'start').length;
  } catch {
    return 0;
  }
}

/** Worker-less engines on the test stores, to read what the processes did. */
const readers = new Map<string, Promise<Engine>>();
function readerOn(file: string): Promise<Engine> {
  let reader = readers.get(file);
  if (!reader) {
    const engine = createEngine({ flows: [], store: `sqlite:${file}`, worker: false });
    reader = engine.start().then(() => engine);
    readers.set(file, reader);
  }
  return reader;
}
after(async () => {
  for (const r of readers.values()) await (await r).stop();
});
async function execution(id: string): Promise<Execution> {
  return (await readerOn(storeFile)).executions.get(id);
}

async function enqueueSlow(ms: number): Promise<string> {
  writeFileSync(join(dir, 'slowMs'), String(ms));
  const r = await cli(['run', 'slow', '--flows', flows], dir, env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

describe('retrace worker', () => {
  test('runs queued work, logs start and stop, and on SIGTERM finishes the running step and exits 0', async () => {
    const migrated = await cli(['migrate'], dir, env);
    assert.equal(migrated.code, 0, migrated.stderr);
    const id = await enqueueSlow(1500);
    const before = slowStarts();
    const worker = start(['worker', flows]);
    const started = await worker.waitFor(/retrace worker (\S+) started: store (\S+), flows (.+), concurrency (\d+)\n/);
    assert.equal(started[2], `sqlite:${storeFile}`);
    assert.equal(started[3], 'greet, slow');
    await waitFor(() => slowStarts() > before, 30_000);
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, worker.stderr);
    assert.match(worker.stdout, /retrace worker \S+ stopping\n.*retrace worker \S+ stopped\n$/);
    assert.match(worker.stderr, /Stopping: running steps get up to 30s to finish/);
    assert.equal((await execution(id)).status, 'succeeded');
  });

  test('a step longer than --stop-timeout is released on SIGTERM, and the next worker finishes it', async () => {
    const id = await enqueueSlow(60_000);
    const before = slowStarts();
    const first = start(['worker', flows, '--stop-timeout', '500ms']);
    await first.waitFor(/started/);
    await waitFor(() => slowStarts() > before, 30_000);
    first.child.kill('SIGTERM');
    assert.deepEqual(await first.exited, { code: 0, signal: null }, first.stderr);
    const released = await execution(id);
    assert.notEqual(released.status, 'succeeded');
    assert.notEqual(released.status, 'failed');

    writeFileSync(join(dir, 'slowMs'), '100');
    const second = start(['worker', '--flows', flows]);
    await second.waitFor(/started/);
    await waitFor(async () => (await execution(id)).status === 'succeeded', 60_000);
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.stderr);
  });

  test('bad flags start nothing: one line and exit 2; --no-migrate refuses a store that is behind', async () => {
    const bad = await cli(['worker', flows, '--concurrency', '0'], dir, env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: --concurrency takes a whole number from 1/);
    const fresh = join(dir, 'fresh.db');
    const behind = await cli(['worker', flows, '--no-migrate'], dir, { ...env, RETRACE_STORE: `sqlite:${fresh}` });
    assert.equal(behind.code, 1);
    assert.match(behind.stderr, /is at migration 0, this Retrace needs \d+: run `retrace migrate`/);
  });
});

/** One HTTP request to a started server. */
async function http(
  url: string,
  init: { method?: string; body?: unknown; key?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const LISTENING = /listening on (http:\/\/\S+) \(([^)]+)\)\n/;

describe('retrace serve', () => {
  const serveStore = join(dir, 'serve.db');
  const serveEnv = { RETRACE_STORE: `sqlite:${serveStore}` };

  test('refuses to start without an API key in the store, and says how to make one', async () => {
    const refused = new CliProcess(['serve', flows, '--port', '0'], dir, { ...env, ...serveEnv });
    children.push(refused);
    const exit = await refused.exited;
    assert.equal(exit.code, 1, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.match(
      refused.stderr,
      /^error: No API key in the store \(sqlite:.*serve\.db\): retrace serve needs an API key\. Create one with `retrace keys create <name> --scope admin`, or pass --insecure/,
    );
  });

  test('with a key: prints the URL, answers /healthz, checks keys, and on SIGTERM answers an in-flight webhook 202 and finishes its execution, exit 0', async () => {
    const key = await cli(['keys', 'create', 'ops', '--scope', 'admin'], dir, serveEnv);
    assert.equal(key.code, 0, key.stderr);
    const secret = key.stdout.trim();
    const server = start(['serve', flows, '--port', '0', '--host', '127.0.0.1', '--allow-open-webhooks'], serveEnv);
    const [, url, auth] = await server.waitFor(LISTENING);
    assert.match(url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(auth, 'API keys required');
    assert.match(server.stdout, /retrace serve worker \S+ started: store sqlite:\S+serve\.db, flows greet, slow/);

    assert.deepEqual(await http(`${url}/healthz`), { status: 200, body: { status: 'ok' } });
    assert.equal((await http(`${url}/api/keys`)).status, 401);
    assert.equal((await http(`${url}/api/keys`, { key: 'rt_wrong_key' })).status, 401);
    assert.equal((await http(`${url}/api/keys`, { key: secret })).status, 200);
    const queued = await http(`${url}/webhooks/flow/greet?wait=30s`, { body: { name: 'Ada' } });
    assert.equal(queued.status, 200, JSON.stringify(queued.body));
    assert.deepEqual((queued.body as { output: unknown }).output, {
      text: 'Hello, Ada',
      instance: 'default',
      tokenLength: 0,
    });

    // A webhook that waits for a slow execution is in flight when SIGTERM comes.
    writeFileSync(join(dir, 'slowMs'), '1500');
    const before = slowStarts();
    const inFlight = http(`${url}/webhooks/flow/slow?wait=60s`, { body: {} });
    await waitFor(() => slowStarts() > before, 30_000);
    server.child.kill('SIGTERM');
    // Closing answers a waiting webhook at once (202, still running: the execution is durable),
    // then the engine's stop lets the running step finish.
    const answered = await inFlight;
    assert.equal(answered.status, 202, JSON.stringify(answered.body));
    assert.equal(answered.body.status, 'running');
    assert.deepEqual(await server.exited, { code: 0, signal: null }, server.stderr);
    assert.match(
      server.stdout,
      /serve stopping: closing the HTTP server\n.*serve stopping: stopping the engine\n.*retrace serve stopped\n$/,
    );
    const e = await (await readerOn(serveStore)).executions.get(answered.body.executionId as string);
    assert.equal(e.status, 'succeeded');
    // Stopped means stopped: nothing answers on the port any more.
    await assert.rejects(fetch(`${url}/healthz`));
  });

  test('with a key and without --allow-open-webhooks, an instance without a webhookSecret refuses deliveries 403', async () => {
    const server = start(['serve', flows, '--port', '0', '--host', '127.0.0.1'], serveEnv);
    const [, url] = await server.waitFor(LISTENING);
    await server.waitFor(/webhooks: signed \(webhookSecret\) or flows declaring webhook: \{ open: true \} only/);
    const refused = await http(`${url}/webhooks/flow/greet`, { body: { name: 'Eve' } });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((refused.body.error as { code: string }).code, 'WEBHOOK_NOT_ENABLED');
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, server.stderr);
  });

  test('--insecure starts without keys', async () => {
    const bare = join(dir, 'bare.db');
    const server = start(['serve', flows, '--port', '0', '--host', '127.0.0.1', '--insecure'], {
      RETRACE_STORE: `sqlite:${bare}`,
    });
    const [, url, auth] = await server.waitFor(LISTENING);
    assert.equal(auth, 'no API keys: this machine only');
    assert.equal((await http(`${url}/api/keys`)).status, 200);
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, server.stderr);
  });
});

describe('retrace dev', () => {
  test('on 127.0.0.1 by default, without keys; a webhook runs; SIGTERM exits 0', async () => {
    const devStore = join(dir, 'dev.db');
    const server = start(['dev', flows, '--port', '0'], { RETRACE_STORE: `sqlite:${devStore}` });
    const [, url, auth] = await server.waitFor(LISTENING);
    assert.match(url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(auth, 'no API keys: this machine only');
    assert.match(server.stdout, /Webhooks {2}http:\/\/127\.0\.0\.1:\d+\/webhooks\/flow\/<flow> {2}\(greet, slow\)/);
    assert.equal((await http(`${url}/healthz`)).status, 200);
    assert.equal((await http(`${url}/api/keys`)).status, 200);
    const accepted = await http(`${url}/webhooks/flow/greet`, { body: { name: 'Dev' } });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const id = accepted.body.executionId as string;
    await waitFor(async () => (await (await readerOn(devStore)).executions.get(id)).status === 'succeeded', 30_000);
    server.child.kill('SIGTERM');
    assert.deepEqual(await server.exited, { code: 0, signal: null }, server.stderr);
  });

  test('on a non-loopback address it needs a key like serve', async () => {
    const refused = start(['dev', flows, '--port', '0', '--host', '0.0.0.0'], {
      RETRACE_STORE: `sqlite:${join(dir, 'dev-open.db')}`,
    });
    assert.equal((await refused.exited).code, 1, refused.stderr);
    assert.match(refused.stderr, /retrace dev on 0\.0\.0\.0 \(not this machine only\) needs an API key/);
  });
});

describe('settings from retrace.config.ts and DATABASE_URL', () => {
  test('serve takes port, host, store and flows from the config file', async () => {
    const project = join(dir, 'configured');
    mkdirSync(project, { recursive: true });
    writeFileSync(
      join(project, 'retrace.config.ts'),
      `export const flows = ${JSON.stringify(flows)};\nexport const store = 'sqlite:./configured.db';\nexport const port = 0;\nexport const host = '127.0.0.1';\n`,
    );
    const server = new CliProcess(['serve', '--insecure'], project, {});
    children.push(server);
    const [, url] = await server.waitFor(LISTENING);
    assert.match(url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.stdout, /store sqlite:\S+configured\.db, flows greet, slow/);
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, server.stderr);

    writeFileSync(join(project, 'retrace.config.ts'), `export const port = 'eighty';\n`);
    const bad = await cli(['serve', flows, '--insecure'], project, {});
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^error: \S+retrace\.config\.ts: port must be a whole number from 0 to 65535 \(got "eighty"\)\n$/,
    );
    const badEnv = await cli(['serve', flows, '--insecure'], dir, { ...env, PORT: 'x' });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /^error: PORT must be a whole number from 0 to 65535 \(got "x"\)\n$/);
  });

  test('a worker on PostgreSQL found through DATABASE_URL runs what `retrace run` queued there', async () => {
    await assertReachable();
    const schema = randomSchema();
    schemas.push(schema);
    const url = new URL(DATABASE_URL);
    url.searchParams.set('schema', schema);
    const pg = { DATABASE_URL: url.toString() };
    const queued = await cli(['run', 'greet', '--input', '{"name":"Pat"}', '--flows', flows, '--json'], dir, pg);
    const { id } = JSON.parse(queued.stdout) as { id: string };
    // Not start(): its RETRACE_STORE would rightly win over DATABASE_URL.
    const worker = new CliProcess(['worker', flows], dir, pg);
    children.push(worker);
    const started = await worker.waitFor(/started: store (\S+),/);
    assert.match(started[1]!, new RegExp(`^postgres://.*schema=${schema}$`));
    await waitFor(async () => {
      const shown = await cli(['executions', 'show', id, '--json'], dir, pg);
      return shown.code === 0 && (JSON.parse(shown.stdout) as Execution).status === 'succeeded';
    }, 60_000);
    worker.child.kill('SIGTERM');
    assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.stderr);
  });
});
