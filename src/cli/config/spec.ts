/**
 * Every option the CLI takes, once: its config key, flag and environment variable, how its
 * value is checked, and which commands use it. The flags, the config file's checks, the
 * resolution (flag > environment > config file > default) and `retrace config` are all made
 * from this table, so an option cannot be settable one way and forgotten another.
 */
import type { Duration, RetryPolicy, SystemOptions } from '../../index.js';
import {
  bool,
  count,
  duration,
  encryptionKey,
  flowConcurrency,
  oneOf,
  port,
  retry,
  systems,
  text,
  type ValueKind,
} from './values.js';

export type ProcessMode = 'serve' | 'dev' | 'worker';
/** `cli`: every other command (short runs: they keep their own poll interval, stop timeout and worker). */
export type Mode = ProcessMode | 'cli';

/** The type of each option's value, as the engine or server receives it. */
export interface OptionValues {
  store: string;
  durability: 'full' | 'normal';
  migrate: boolean;
  encryptionKey: string;
  port: number;
  host: string;
  worker: boolean;
  workerId: string;
  concurrency: number;
  flowConcurrency: Record<string, number>;
  retry: RetryPolicy;
  defaultErrorPolicy: 'retry' | 'fatal';
  inMemoryRetryMax: Duration;
  lease: Duration;
  sweepInterval: Duration;
  recoverDelay: Duration;
  pollInterval: Duration;
  stopTimeout: Duration;
  maxPayloadBytes: number;
  scheduleMissedAfter: Duration;
  systems: Record<string, SystemOptions>;
}
export type OptionKey = keyof OptionValues;

export interface OptionSpec {
  key: OptionKey;
  kind: ValueKind<unknown>;
  /**
   * The flag of dev, serve, worker and `retrace config`, with its argument (`--lease <duration>`);
   * `--no-x` for a switch that is on by default. `--store` is the program's own flag.
   */
  flag?: string;
  env?: string;
  /** A variable read after the config file: it is set by platforms for other programs too. */
  fallbackEnv?: string;
  /** Where the config file may not set it, and why. */
  notInConfig?: string;
  modes: readonly Mode[];
  secret?: boolean;
  help: string;
}

export const PROCESS_MODES: readonly ProcessMode[] = ['serve', 'dev', 'worker'];
const ALL: readonly Mode[] = ['serve', 'dev', 'worker', 'cli'];
const SERVERS: readonly Mode[] = ['serve', 'dev'];

export const DEFAULT_PORT = 4000;
/** serve: every interface (production, containers; keys are required). dev: this machine only. */
export const DEFAULT_HOST: Record<'serve' | 'dev', string> = { serve: '0.0.0.0', dev: '127.0.0.1' };
/** The CLI's bound on concurrency (the engine has none): beyond it is a typo, not a plan. */
export const MAX_CONCURRENCY = 10_000;

export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'store',
    kind: text('a store URL such as "sqlite:./data/retrace.db" or "postgres://host/db"'),
    flag: '--store',
    env: 'RETRACE_STORE',
    fallbackEnv: 'DATABASE_URL',
    modes: ALL,
    help: 'the store',
  },
  {
    key: 'durability',
    kind: oneOf(['full', 'normal']),
    flag: '--durability <full|normal>',
    env: 'RETRACE_DURABILITY',
    modes: ALL,
    help: "SQLite: full fsyncs every commit; normal may lose the last commits on power loss (default 'full')",
  },
  {
    key: 'migrate',
    kind: bool,
    flag: '--no-migrate',
    env: 'RETRACE_MIGRATE',
    modes: ALL,
    help: 'do not migrate the store on start: fail unless it is up to date',
  },
  {
    key: 'encryptionKey',
    kind: encryptionKey,
    env: 'RETRACE_ENCRYPTION_KEY',
    modes: ALL,
    secret: true,
    help: "the key of instances' secret values (no flag: a command line is visible to other users)",
  },
  {
    key: 'port',
    kind: port,
    flag: '--port <port>',
    env: 'RETRACE_PORT',
    fallbackEnv: 'PORT',
    modes: SERVERS,
    help: `port to listen on, 0 for any free one (default ${DEFAULT_PORT})`,
  },
  {
    key: 'host',
    kind: text('an address such as "0.0.0.0"'),
    flag: '--host <address>',
    env: 'RETRACE_HOST',
    modes: SERVERS,
    help: `address to bind (default ${DEFAULT_HOST.serve} for serve, ${DEFAULT_HOST.dev} for dev)`,
  },
  {
    key: 'worker',
    kind: bool,
    flag: '--no-worker',
    env: 'RETRACE_WORKER',
    modes: SERVERS,
    help: 'serve the API without running executions (run `retrace worker` processes for them)',
  },
  {
    key: 'workerId',
    kind: text('a worker id'),
    flag: '--worker-id <id>',
    env: 'RETRACE_WORKER_ID',
    notInConfig:
      'it names one process, and every process started from this folder reads the file; use --worker-id or RETRACE_WORKER_ID',
    modes: PROCESS_MODES,
    help: 'a stable worker id, for logs; one process per id (default: a fresh one per start)',
  },
  {
    key: 'concurrency',
    kind: count('concurrency', MAX_CONCURRENCY),
    flag: '--concurrency <n>',
    env: 'RETRACE_CONCURRENCY',
    modes: ALL,
    help: 'executions run at once by this process (default 10)',
  },
  {
    key: 'flowConcurrency',
    kind: flowConcurrency,
    modes: ALL,
    help: "per-flow limits within concurrency, over a flow's own",
  },
  {
    key: 'retry',
    kind: retry,
    modes: ALL,
    help: "the default retry policy, under the flows' and steps'",
  },
  {
    key: 'defaultErrorPolicy',
    kind: oneOf(['retry', 'fatal'], 'defaultErrorPolicy'),
    flag: '--default-error-policy <retry|fatal>',
    env: 'RETRACE_DEFAULT_ERROR_POLICY',
    modes: ALL,
    help: "what an error that is neither typed nor declared gets (default 'retry')",
  },
  {
    key: 'inMemoryRetryMax',
    kind: duration('inMemoryRetryMax', 'inMemoryRetryMaxMs', { timer: true }),
    flag: '--in-memory-retry-max <duration>',
    env: 'RETRACE_IN_MEMORY_RETRY_MAX',
    modes: ALL,
    help: 'retry waits up to this long are spent in memory with the lease kept (default 5s)',
  },
  {
    key: 'lease',
    kind: duration('lease', 'leaseMs', { min100ms: true }),
    flag: '--lease <duration>',
    env: 'RETRACE_LEASE',
    modes: ALL,
    help: "how long a worker's lease lasts without a heartbeat before others may take its work (default 30s)",
  },
  {
    key: 'sweepInterval',
    kind: duration('sweepInterval', 'sweepIntervalMs'),
    flag: '--sweep-interval <duration>',
    env: 'RETRACE_SWEEP_INTERVAL',
    modes: ALL,
    help: 'how often the worker heartbeats and looks for dead workers (default 5s, at most lease/3)',
  },
  {
    key: 'recoverDelay',
    kind: duration('recoverDelay', 'recoverDelayMs'),
    flag: '--recover-delay <duration>',
    env: 'RETRACE_RECOVER_DELAY',
    modes: ALL,
    help: "how long after an attempt was abandoned before its step's validate is asked (default 30s)",
  },
  {
    key: 'pollInterval',
    kind: duration('pollInterval', 'pollIntervalMs', { timer: true }),
    flag: '--poll-interval <duration>',
    env: 'RETRACE_POLL_INTERVAL',
    modes: PROCESS_MODES,
    help: 'how often an idle worker looks for due work (default 500ms)',
  },
  {
    key: 'stopTimeout',
    kind: duration('stopTimeout', 'stopTimeoutMs', { timer: true, positive: true }),
    flag: '--stop-timeout <duration>',
    env: 'RETRACE_STOP_TIMEOUT',
    modes: PROCESS_MODES,
    help: 'on SIGTERM/Ctrl-C, how long running steps get to finish; a step still running after that keeps its execution leased until the process exits (default 30s)',
  },
  {
    key: 'maxPayloadBytes',
    kind: count('maxPayloadBytes', undefined, ' of bytes'),
    flag: '--max-payload-bytes <bytes>',
    env: 'RETRACE_MAX_PAYLOAD_BYTES',
    modes: ALL,
    help: 'largest input, step output or result stored, in bytes (default 16 MiB)',
  },
  {
    key: 'scheduleMissedAfter',
    kind: duration('scheduleMissedAfter', 'scheduleMissedAfterMs'),
    flag: '--schedule-missed-after <duration>',
    env: 'RETRACE_SCHEDULE_MISSED_AFTER',
    modes: ALL,
    help: "a schedule's due time found later than this counts as missed (default 1m)",
  },
  {
    key: 'systems',
    kind: systems,
    modes: ALL,
    help: "end systems: when each one's circuit opens, its probes and health check, how parked work is released (outage mode)",
  },
];

/** Config keys that are not options but are known: the flows, and the engine's other spellings. */
export const OTHER_CONFIG_KEYS = ['flows', 'leaseMs'];
/** What the config module's namespace may hold besides its exports (a default export, CommonJS' markers). */
export const MODULE_KEYS = ['default', 'module.exports', '__esModule'];
/** Options of createEngine that a config file cannot set, and why. */
export const REFUSED_CONFIG_KEYS: Record<string, string> = {
  clock: 'it is for tests of a hand-written createEngine',
};

export function specOf(key: OptionKey): OptionSpec {
  return OPTIONS.find((o) => o.key === key)!;
}

/** `--lease <duration>` → `--lease`; `--no-migrate` stays itself. */
export function flagName(spec: OptionSpec): string | undefined {
  return spec.flag?.split(' ')[0];
}
