/**
 * The SQLite store run on its own thread. Everything the store does (statements, commits, the
 * WAL's fsync) happens on a worker thread (store-thread.ts), so on a machine with two cores the
 * engine's steps and the store's work run side by side instead of taking turns on one. The
 * engine sees the same port: each method crosses as a call and comes back as its result or its
 * error, rebuilt as the same class (thread-protocol.ts). Calls made in one event-loop turn cross
 * as one message, and so do the results the thread has ready in one of its turns.
 *
 * Each call resolves when the thread's store resolved it: a write only once it is durable.
 * The thread is referenced while calls are in flight only, so an idle open store does not keep
 * the process alive (like the in-thread store's unref'd checkpoint timer).
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Clock } from '../../../core/shared/clock.js';
import { StoreUnavailableError } from '../../../core/shared/errors.js';
import { newLeaseToken } from '../../../core/shared/ids.js';
import type * as port from '../../../core/store/store.js';
import type { MigrationReport } from '../../migration-report.js';
import type { SqliteStoreOptions } from '../sqlite-store-options.js';
import { threadEntry } from './thread-entry.js';
import {
  decodeError,
  NeedValues,
  type WireCall,
  type WireCalls,
  type WireError,
  type WireFunction,
  type WireResults,
} from './thread-protocol.js';

// better-sqlite3 is loaded only if integrityCheck() is called: the thread has its own.
const require = createRequire(import.meta.url);

type Pending = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

/** Every method of the port, each forwarded to the thread as it is. */
const FORWARDED = [
  'now',
  'registerWorker',
  'heartbeatWorker',
  'listWorkers',
  'expireWorkers',
  'removeWorker',
  'createExecution',
  'claimExecutions',
  'updateExecution',
  'cancelExecution',
  'getExecution',
  'listExecutions',
  'countUnfinishedExecutions',
  'wakeExecution',
  'getExecutionDetail',
  'createReplay',
  'listReplaysOf',
  'listErrorGroups',
  'createBatch',
  'getBatch',
  'listBatches',
  'listBatchItems',
  'setBatchStatus',
  'claimBatches',
  'nextBatchItems',
  'skipBatchItem',
  'countActiveReplays',
  'ensureDefaultInstances',
  'createInstance',
  'updateInstance',
  'deleteInstance',
  'getInstance',
  'listInstances',
  'createSchedule',
  'updateSchedule',
  'deleteSchedule',
  'getSchedule',
  'listSchedules',
  'dueSchedules',
  'fireSchedule',
  'sendSignal',
  'peekSignal',
  'listSignals',
  'getSystem',
  'getCircuit',
  'listSystems',
  'recordSystemOutcome',
  'claimDueProbes',
  'parkExecution',
  'listParked',
  'setSystemState',
  'createApiKey',
  'getApiKey',
  'getApiKeyByHash',
  'listApiKeys',
  'revokeApiKey',
  'touchApiKey',
  'recordWebhookDelivery',
  'settleWebhookDelivery',
  'getWebhookDelivery',
  'listWebhookDeliveries',
  'appendAudit',
  'listAudit',
] as const satisfies readonly (keyof port.Store)[];

type Forwarded = (typeof FORWARDED)[number];
/** A port method missing from FORWARDED fails to compile here. */
type Unforwarded = Exclude<
  { [K in keyof port.Store]: port.Store[K] extends (...args: never[]) => unknown ? K : never }[keyof port.Store],
  Forwarded | 'init' | 'close' | 'onWork' | undefined
>;
const everyMethodForwarded: [Unforwarded] extends [never] ? true : Unforwarded = true;
void everyMethodForwarded;

/**
 * A turn's calls go as soon as this many are waiting, not only at the end of the turn: the
 * thread starts on the first while the main thread is still making the rest, instead of the
 * two taking turns with everything in flight in one message each way.
 */
const SEND_AT = 32;

/** How many values a generator parameter crosses with: enough for the call's `limit`, else a few. */
const generated = (params: Record<string, unknown>): number =>
  typeof params.limit === 'number' && params.limit > 0 ? params.limit : 4;

/**
 * A class whose every FORWARDED method hands its arguments to `forward` (made at run time from
 * the list, typed as the port's methods): the store below implements only `forward`.
 */
function forwardingBase(): abstract new () => Pick<port.Store, Forwarded> & {
  forward(method: Forwarded, args: unknown[]): Promise<unknown>;
} {
  abstract class Forwarding {
    abstract forward(method: Forwarded, args: unknown[]): Promise<unknown>;
  }
  for (const method of FORWARDED) {
    Object.defineProperty(Forwarding.prototype, method, {
      value(this: Forwarding, ...args: unknown[]) {
        return this.forward(method, args);
      },
      writable: true,
      configurable: true,
    });
  }
  return Forwarding as never;
}

/** The two methods whose parameters carry functions (thread-protocol.ts). */
const WITH_FUNCTIONS: ReadonlySet<Forwarded> = new Set<Forwarded>(['claimExecutions', 'claimDueProbes']);

export class ThreadedSqliteStore extends forwardingBase() implements port.Store {
  readonly kind = 'sqlite';
  readonly path: string;
  readonly #options: Omit<SqliteStoreOptions, 'clock'>;
  readonly #clock: Clock | undefined;
  #worker: Worker | undefined;
  #failure: Error | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #outbox: WireCall[] = [];
  #scheduled = false;
  #stats = { commits: 0, writes: 0 };
  #migrations: MigrationReport | undefined;

  /** `clock`: the thread's store runs at this clock's offset from Date.now(), as of each call. */
  constructor(options: SqliteStoreOptions) {
    super();
    const { clock, ...rest } = options;
    this.path = resolve(rest.path);
    this.#options = { ...rest, path: this.path };
    this.#clock = clock;
  }

  /** What `init()` did to the schema (undefined before it ran). */
  get migrations(): MigrationReport | undefined {
    return this.#migrations;
  }

  /** Commits made and writes they carried since opening, as of the thread's last answer. */
  get commitStats(): { commits: number; writes: number } {
    return { ...this.#stats };
  }

  /** One port method, called on the thread's store. */
  override forward(method: Forwarded, args: unknown[]): Promise<unknown> {
    if (WITH_FUNCTIONS.has(method)) return this.#callWithFunctions(method, args[0] as Record<string, unknown>);
    return this.#call(method, args);
  }

  async init(): Promise<void> {
    if (this.#worker) return;
    this.#failure = undefined;
    const worker = threadEntry(this.#options);
    worker.on('message', (message: WireResults) => this.#receive(message));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new Error(`the store thread exited (code ${code})`)));
    worker.unref();
    this.#worker = worker;
    try {
      await this.#call('init', []);
      this.#migrations = (await this.#call('$migrations', [])) as MigrationReport | undefined;
    } catch (error) {
      await this.#stop();
      throw error;
    }
  }

  async close(): Promise<void> {
    if (!this.#worker) return;
    try {
      await this.#call('close', []);
    } finally {
      await this.#stop();
    }
  }

  /**
   * Runs `PRAGMA integrity_check` and returns its verdict (`ok` when healthy), synchronously as
   * the in-thread store does: on a read-only connection of its own, which sees every commit.
   */
  integrityCheck(): string {
    const Driver = require('better-sqlite3') as typeof Database;
    const db = new Driver(this.path, { readonly: true, fileMustExist: true });
    try {
      const rows = db.pragma('integrity_check') as { integrity_check: string }[];
      return rows.map((r) => r.integrity_check).join('; ');
    } finally {
      db.close();
    }
  }

  async #stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    worker.removeAllListeners('exit');
    await worker.terminate();
  }

  /**
   * A call whose first argument carries functions: each crosses as values (thread-protocol.ts);
   * when the thread needs more it refuses the call before writing anything, and it is made again.
   */
  async #callWithFunctions(method: string, params: Record<string, unknown>): Promise<unknown> {
    const names = Object.keys(params).filter((k) => typeof params[k] === 'function');
    const fns = Object.fromEntries(names.map((k) => [k, params[k] as (key?: unknown) => unknown]));
    const wire: Record<string, WireFunction> = {};
    for (const name of names) {
      const fn = fns[name]!;
      wire[name] =
        fn === newLeaseToken
          ? { $leaseTokens: true }
          : fn.length === 0
            ? { $gen: Array.from({ length: generated(params) }, () => fn()) }
            : { $lookup: {} };
    }
    for (let round = 0; ; round++) {
      try {
        return await this.#call(method, [{ ...params, ...wire }], names);
      } catch (error) {
        if (!(error instanceof NeedValues) || round >= 64) throw error;
        for (const [name, need] of Object.entries(error.needs)) {
          const fn = fns[name]!;
          const w = wire[name]!;
          if (need === 'more' && '$gen' in w) w.$gen = Array.from({ length: 2 ** (round + 3) }, () => fn());
          else if (need !== 'more' && '$lookup' in w) for (const key of need) w.$lookup[key] = fn(key);
        }
      }
    }
  }

  #call(method: string, args: unknown[], functions?: string[]): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    const worker = this.#worker;
    if (!worker) return Promise.reject(new Error('The SQLite store is not open: call init() first'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push(functions ? [id, method, args, functions] : [id, method, args]);
      if (this.#outbox.length >= SEND_AT) this.#send();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#send();
        });
      }
    });
  }

  #send(): void {
    const calls = this.#outbox;
    this.#outbox = [];
    const clockOffsetMs = this.#clock ? this.#clock.now() - Date.now() : 0;
    if (calls.length > 0) this.#worker?.postMessage({ calls, clockOffsetMs } satisfies WireCalls);
  }

  #receive({ results, stats }: WireResults): void {
    this.#stats = stats;
    for (const [id, ok, value] of results) {
      const pending = this.#pending.get(id);
      if (!pending) continue;
      this.#pending.delete(id);
      if (ok) pending.resolve(value);
      else pending.reject(decodeError(value as WireError));
    }
    if (this.#pending.size === 0) this.#worker?.unref();
  }

  /** The thread died: every call in flight and every later one fails as an unreachable store. */
  #fail(cause: Error): void {
    this.#failure = new StoreUnavailableError(`SQLite store ${this.path}: ${cause.message}`, { cause });
    for (const pending of this.#pending.values()) pending.reject(this.#failure);
    this.#pending.clear();
    this.#worker = undefined;
  }
}
