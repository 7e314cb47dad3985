import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../../src/index.js';
import { tempDir, waitFor } from '../support/temp-engine.js';

const child = join(fileURLToPath(new URL('.', import.meta.url)), 'bulk-child.ts');
const dir = tempDir();
const N = 300;

function start(args: string[]): {
  proc: ChildProcess;
  exit: Promise<{ code: number | null; signal: string | null }>;
  out: () => string;
} {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  proc.stderr?.on('data', (d) => {
    err += d;
  });
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      if (code) process.stderr.write(err);
      resolve({ code, signal });
    }),
  );
  return { proc, exit, out: () => out };
}

describe('bulk replay killed mid-batch', () => {
  it('resumes in a new process and replays every failure exactly once', async () => {
    const store = join(dir, 'bulk.db');
    assert.deepEqual(await start(['seed', store, String(N)]).exit, { code: 0, signal: null });

    const reader = createEngine({ flows: [], store: `sqlite:${store}`, worker: false });
    await reader.start();
    const replaying = start(['replay', store]);
    await waitFor(() => replaying.out().includes('\n'), 15_000, 'the batch id');
    const batchId = replaying.out().trim();
    await waitFor(async () => (await reader.batches.get(batchId)).counts.started >= 60, 15_000, 'replays to start');
    replaying.proc.kill('SIGKILL');
    assert.equal((await replaying.exit).signal, 'SIGKILL');
    const atKill = (await reader.batches.get(batchId)).counts;
    assert.ok(atKill.started < N, `killed mid-batch (${atKill.started} of ${N} started)`);

    const t0 = Date.now();
    const resumed = start(['resume', store]);
    assert.deepEqual(await resumed.exit, { code: 0, signal: null });
    const done = await reader.batches.get(batchId);
    assert.equal(done.status, 'completed');
    assert.deepEqual(
      { ...done.counts },
      { matched: N, skipped: 0, pending: 0, started: N, succeeded: N, failed: 0, active: 0 },
    );
    const replays = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const page = await reader.executions.list({ isReplay: true, limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const r of page.items) replays.set(r.replayOf!, (replays.get(r.replayOf!) ?? 0) + 1);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.equal(replays.size, N, 'every failure was replayed');
    assert.ok(
      [...replays.values()].every((n) => n === 1),
      'none twice',
    );
    assert.equal((await reader.audit.list({ batchId, limit: 1000 })).length, N, 'one audit record per replay');
    assert.equal((await reader.executions.list({ resolved: false })).items.length, 0);
    assert.ok(Date.now() - t0 < 20_000);
    await reader.stop();
  });
});
