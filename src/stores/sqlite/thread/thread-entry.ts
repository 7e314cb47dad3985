/**
 * Starts the store thread. Built, the entry is store-thread.js beside this file. Run from the
 * TypeScript sources (tests, benches under tsx) it is store-thread.ts, which a worker can load
 * only once tsx's loader is registered in it: Node's `--import` hooks do not reach workers.
 */
import { Worker } from 'node:worker_threads';
import type { SqliteStoreOptions } from '../sqlite-store-options.js';

export function threadEntry(options: Omit<SqliteStoreOptions, 'clock'>): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSources ? './store-thread.ts' : './store-thread.js', import.meta.url);
  if (!fromSources) return new Worker(entry, { workerData: options });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: options });
}
