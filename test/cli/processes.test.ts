/**
 * The long-running commands as real child processes (`node bin/retrace.js worker|serve|dev`):
 * they log a line when started, run executions, and on SIGTERM stop gracefully and exit 0 with
 * their in-flight execution finished (within --stop-timeout) or released to another worker
 * (after it), never lost.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createEngine, type Engine, type Execution } from '../../src/index.js';
import { tempDir, waitFor } from '../support/temp-engine.js';
import { CliProcess, cli, ENCRYPTION_KEY, writeFlows } from './cli-support.js';

const dir = tempDir('retrace-cli-processes-');
const flows = writeFlows(dir);
const storeFile = join(dir, 'retrace.db');
const env = { RETRACE_STORE: `sqlite:${storeFile}`, RETRACE_ENCRYPTION_KEY: ENCRYPTION_KEY };
const children: CliProcess[] = [];
after(() => {
  for (const c of children) c.kill();
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

/** A worker-less engine on the test store, to read what the processes did. */
let reader: Engine | undefined;
async function execution(id: string): Promise<Execution> {
  if (!reader) {
    reader = createEngine({ flows: [], store: `sqlite:${storeFile}`, worker: false });
    await reader.start();
  }
  return reader.executions.get(id);
}
after(() => reader?.stop());

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
