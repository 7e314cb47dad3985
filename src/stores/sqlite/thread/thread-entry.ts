/**
 * Starts the store thread. Built, its entry is store-thread.js beside this file. Run from the
 * TypeScript sources (tests, benches under tsx), the thread evaluates a bundle of
 * store-thread.ts (source-bundle.ts): Node's `--import` hooks, tsx's included, do not reach workers.
 */
import { Worker } from 'node:worker_threads';
import type { SqliteStoreOptions } from '../sqlite-store-options.js';
import { sourceBundle } from './source-bundle.js';

export function threadEntry(options: Omit<SqliteStoreOptions, 'clock'>): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./store-thread.js', import.meta.url), { workerData: options });
  // The bundle is a self-contained CommonJS script and needs none of the parent's flags: passing
  // none keeps --input-type=module from making it ESM, and a Node build whose own flags a worker
  // refuses (ERR_WORKER_INVALID_EXEC_ARGV) from refusing the thread.
  return new Worker(sourceBundle(new URL('./store-thread.ts', import.meta.url)), {
    eval: true,
    workerData: options,
    execArgv: [],
  });
}
