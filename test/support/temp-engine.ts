import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { AnyFlow } from '../../src/core/flow/flow.js';
import { type CreateEngineOptions, createEngine, type Engine } from '../../src/index.js';

/** A fresh directory for one test file's stores, removed after the file's tests. */
export function tempDir(prefix = 'retrace-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let counter = 0;
/** A fresh SQLite file URL in `dir`. */
export function storeUrl(dir: string): string {
  counter++;
  return `sqlite:${join(dir, `store-${process.pid}-${counter}.db`)}`;
}

/** Fast settings for tests: short polls and leases, small retry delays. */
export const FAST = {
  pollInterval: '20ms',
  lease: '2s',
  recoverDelay: '50ms',
  retry: { delay: 5, jitter: false },
  stopTimeout: '2s',
} as const;

/** Creates and starts an engine on `store`, stopped after the test file. */
export async function startEngine<const F extends AnyFlow>(options: CreateEngineOptions<F>): Promise<Engine<F>> {
  const engine = createEngine({ ...FAST, ...options });
  await engine.start();
  after(() => engine.stop());
  return engine;
}

/** Resolves once `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A promise with its resolve exposed, for steps a test holds open. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
