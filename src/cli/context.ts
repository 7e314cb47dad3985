/**
 * What every command shares: the output, the resolved configuration, and opening an engine
 * on the store. Commands that only read, or only record work for the workers (run without
 * --wait, dry runs, batches left to the workers), open an engine without a worker and need no
 * flows; replay opens one with the flows and a worker, so the replays run in this process.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Engine } from '../index.js';
import { defaultStorePath } from '../stores/store-url.js';
import { CliError, UsageError } from './cli-error.js';
import { flowsSetting, maskStoreUrl, resolveSettings, type Setting, type Settings } from './config/sources.js';
import type { ProcessMode } from './config/spec.js';
import { type AnyFlow, type LoadedConfig, loadConfig, resolveFlows } from './config.js';
import type { Output } from './output.js';

export interface GlobalOptions {
  store?: string;
  flows?: string[];
  config?: string;
  actor?: string;
}

export interface OpenEngineOptions {
  /**
   * Load the flows: true where this process runs their code (replays it waits for, servers);
   * 'if-given' where it only records work for other workers (run without --wait, a dry run, a
   * batch left to the workers): flows given by --flows or the config are loaded (the input is
   * then checked here), and without them the command works on the store alone.
   */
  flows: boolean | 'if-given';
  /** Run a worker in this process (needed to wait for replays). */
  worker: boolean;
  /** The worker's concurrency. */
  concurrency?: number;
  /**
   * Make the store if there is none yet. Only commands that set a store up do (migrate, keys
   * create, serve, dev, worker); the others refuse, so a typo in the folder shows.
   */
  create?: boolean;
  /**
   * The engine of a server or worker process: it takes the process's settings (poll interval,
   * stop timeout, worker id, and for the servers whether to run a worker) instead of the short
   * run's (a quick poll, a short stop).
   */
  longRunning?: boolean;
}

export class CliContext {
  readonly out: Output;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly global: GlobalOptions;
  #config: Promise<LoadedConfig> | undefined;
  #settings: Promise<Settings> | undefined;
  /** Set by dev, serve, worker and `retrace config`: their mode and flags (see useProcess). */
  #process: { mode: ProcessMode; flags: Readonly<Record<string, unknown>> } | undefined;
  #flowsFrom = '--flows';
  #interrupted = false;
  #resolveInterrupt!: () => void;
  readonly #interruptPromise = new Promise<void>((resolve) => {
    this.#resolveInterrupt = resolve;
  });

  constructor(params: { out: Output; cwd: string; env: NodeJS.ProcessEnv; global: GlobalOptions }) {
    this.out = params.out;
    this.cwd = params.cwd;
    this.env = params.env;
    this.global = params.global;
  }

  config(): Promise<LoadedConfig> {
    this.#config ??= loadConfig(this.cwd, this.global.config).then((config) => {
      for (const { key, suggestion } of config.unknown) {
        this.out.warn(
          `${config.path}: ${key} is not an option, ignored${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
        );
      }
      return config;
    });
    return this.#config;
  }

  /**
   * This command is a server or worker process (`mode`), or `retrace config` showing one: its
   * flags are options (config/spec.ts), and it takes the process options. Other commands take
   * the options of the config file and the environment that shape executions (retry, lease,
   * payload limit…), so a replay here runs as it would in the workers.
   */
  useProcess(mode: ProcessMode, flags: Readonly<Record<string, unknown>>): void {
    this.#process = { mode, flags };
    this.#settings = undefined;
  }

  /** Every option's value and where it came from: flag, environment, config file, default. */
  settings(): Promise<Settings> {
    this.#settings ??= this.config().then((config) =>
      resolveSettings({
        mode: this.#process?.mode ?? 'cli',
        config,
        env: this.env,
        // A short command's flags are its own (replay's --concurrency is not the engine's).
        flags: this.#process?.flags ?? {},
        store: this.global.store,
      }),
    );
    return this.#settings;
  }

  /** The flows row of `retrace config`: where the flows come from, without loading them. */
  async flowsSetting(): Promise<Setting> {
    return flowsSetting(this.global.flows, this.#flowsFrom, await this.config());
  }

  /**
   * `--store`, then RETRACE_STORE, then the config's store, then DATABASE_URL when it names a
   * PostgreSQL server (what createEngine does with it), then the engine's default (undefined).
   */
  async storeUrl(): Promise<string | undefined> {
    return (await this.settings()).get('store');
  }

  /** The store for people and logs: the SQLite file, or the PostgreSQL URL without its password. */
  async storeLabel(): Promise<string> {
    const url = await this.storeUrl();
    const file = sqlitePath(url, this.cwd);
    if (file) return `sqlite:${file}`;
    return url === undefined ? '' : maskStoreUrl(url);
  }

  /** A flows module given as a command's argument (`retrace worker ./flows.ts`), in place of --flows. */
  useFlowsModule(path: string | undefined): void {
    if (path === undefined) return;
    if (this.global.flows?.length)
      throw new UsageError('Give the flows module as an argument or with --flows, not both');
    this.global.flows = [path];
    this.#flowsFrom = 'argument';
  }

  /** Whether flows were given (--flows, a flows argument, or the config's `flows`). */
  async hasFlows(): Promise<boolean> {
    return (this.global.flows?.length ?? 0) > 0 || (await this.config()).flows.length > 0;
  }

  async flows(): Promise<AnyFlow[]> {
    const entries: (AnyFlow | string)[] = this.global.flows?.length
      ? this.global.flows.map((f) => (isAbsolute(f) ? f : resolve(this.cwd, f)))
      : (await this.config()).flows;
    if (entries.length === 0) {
      throw new CliError(
        'This command runs flow code, so it needs your flows: pass --flows <module>, or add retrace.config.ts exporting flows',
      );
    }
    return resolveFlows(entries);
  }

  /** Who did it, for the audit log: `--actor`, else `cli:<os user>`. */
  get actor(): string {
    if (this.global.actor) return this.global.actor;
    let user = this.env.USER || this.env.USERNAME || '';
    try {
      user = userInfo().username || user;
    } catch {
      // No passwd entry (some containers): the environment's name will do.
    }
    return `cli:${user || 'unknown'}`;
  }

  async openEngine(options: OpenEngineOptions): Promise<Engine> {
    const url = await this.storeUrl();
    if (!options.create) this.#assertStoreExists(url);
    const flows =
      options.flows === true
        ? await this.flows()
        : options.flows === 'if-given' && (await this.hasFlows())
          ? await this.flows()
          : [];
    const settings = await this.settings();
    // Imported here, not at the top: the engine and its stores are most of what the CLI loads,
    // and only commands that open one should pay for them. From the library's root itself, not
    // the index, which also names every store adapter.
    const { createEngine } = await import('../create-engine.js');
    const engine = createEngine({
      flows,
      // Always explicit, so the CLI decides from its own environment (DATABASE_URL included).
      store: url ?? defaultStorePath(this.cwd),
      ...settings.engineOptions(),
      // `worker: false` in the settings makes a server that only serves; a command that needs
      // no worker never gets one.
      worker: options.worker && (settings.get('worker') ?? true),
      // A CLI run is short: find work and notice finishes quickly, and do not hold a stop long.
      ...(options.longRunning ? {} : { pollInterval: '100ms', stopTimeout: '10s' }),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      migrate: settings.get('migrate') ?? true,
    });
    engine.on('engine:error', ({ error, context }) => this.out.warn(`${context}: ${error.message}`));
    await engine.start();
    return engine;
  }

  /** Runs `fn` with an engine and always stops it, so the store is closed and the worker row removed. */
  async withEngine<T>(options: OpenEngineOptions, fn: (engine: Engine) => Promise<T>): Promise<T> {
    const engine = await this.openEngine(options);
    try {
      return await fn(engine);
    } finally {
      await engine.stop();
    }
  }

  /** True once Ctrl-C was pressed; waits end early and the engine is stopped gracefully. */
  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Resolves on Ctrl-C: waits race it so they can end and let the engine stop in order. */
  get whenInterrupted(): Promise<void> {
    return this.#interruptPromise;
  }

  interrupt(): void {
    this.#interrupted = true;
    this.#resolveInterrupt();
  }

  /** What main() prints on the first Ctrl-C or SIGTERM; long-running commands say what stopping means for them. */
  stopNotice = 'Stopping (in-flight steps get up to 10s to finish; Ctrl-C again to quit at once)…';

  /**
   * The CLI looks at an existing store; it never creates one. Without this, a command run in the
   * wrong folder would make an empty store there and report "no executions".
   */
  #assertStoreExists(url: string | undefined): void {
    const path = sqlitePath(url, this.cwd);
    if (path && !existsSync(path)) {
      throw new CliError(
        `No Retrace store at ${path}: run from your project's folder, or pass --store (or set RETRACE_STORE)`,
      );
    }
  }
}

/** The file an SQLite store URL names (the forms openStore accepts), or null for others. */
function sqlitePath(url: string | undefined, cwd: string): string | null {
  if (url === undefined || url === '') return defaultStorePath(cwd);
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
    return rest === '' || rest === ':memory:' ? null : resolve(cwd, rest);
  }
  if (/\.(db|sqlite|sqlite3)$/.test(url)) return resolve(cwd, url);
  return null;
}
