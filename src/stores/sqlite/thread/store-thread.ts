/**
 * The SQLite store's own thread: it opens the store (sqlite-store.ts, with its group commit and
 * the WAL sync) and serves the main thread's calls, so statements, commits and fsyncs run on
 * the second core while the main thread runs steps. See threaded-store.ts for the other side.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type Clock, systemClock } from '../../../core/shared/clock.js';
import { SqliteStore } from '../sqlite-store.js';
import type { SqliteStoreOptions } from '../sqlite-store-options.js';
import { decodeFunction, encodeError, type WireCalls, type WireFunction, type WireResults } from './thread-protocol.js';

const port = parentPort!;
/** The main thread's clock, as its offset from Date.now() sent with each batch. */
let clockOffsetMs = 0;
const clock: Clock = { now: () => Date.now() + clockOffsetMs, sleep: systemClock.sleep };
const store = new SqliteStore({ ...(workerData as SqliteStoreOptions), clock });
const methods = store as unknown as Record<string, (...args: unknown[]) => unknown>;
let outbox: WireResults['results'] = [];
let scheduled = false;

port.on('message', (batch: WireCalls) => {
  clockOffsetMs = batch.clockOffsetMs;
  for (const [id, method, args, functions] of batch.calls) serve(id, method, args, functions);
});

function serve(id: number, method: string, args: unknown[], functions: string[] | undefined): void {
  if (functions) {
    const params = args[0] as Record<string, unknown>;
    for (const name of functions) params[name] = decodeFunction(name, params[name] as WireFunction);
  }
  let result: unknown;
  try {
    if (method === '$migrations') result = store.migrations;
    else {
      const fn = methods[method];
      if (typeof fn !== 'function') throw new TypeError(`The SQLite store has no method ${method}`);
      result = fn.apply(store, args);
    }
  } catch (error) {
    result = Promise.reject(error);
  }
  Promise.resolve(result).then(
    (value) => reply([id, 1, value]),
    (error: unknown) => reply([id, 0, encodeError(error)]),
  );
}

function reply(result: WireResults['results'][number]): void {
  outbox.push(result);
  if (scheduled) return;
  scheduled = true;
  setImmediate(post);
}

function post(): void {
  scheduled = false;
  const results = outbox;
  outbox = [];
  const message: WireResults = { results, stats: store.commitStats };
  port.postMessage(message);
}
