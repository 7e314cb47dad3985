/**
 * Where the CLI finds the user's flows and store: `--flows`/`--store` flags, then
 * `retrace.config.{ts,mts,cts,js,mjs,cjs}` in the working directory, then `RETRACE_STORE`, then
 * `DATABASE_URL` when it is a postgres:// URL (as createEngine does), then the engine's default
 * store. Flows modules are plain modules: every exported flow (or array of flows) is collected,
 * so the module the application already has works as is. The server processes (`serve`, `dev`,
 * `worker`) also read `port`, `host`, `encryptionKey` and `migrate` from the config file.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Flow } from '../index.js';
import { CliError } from './cli-error.js';

export type AnyFlow = Flow<string, never, unknown>;

export const CONFIG_FILES = [
  'retrace.config.ts',
  'retrace.config.mts',
  'retrace.config.cts',
  'retrace.config.js',
  'retrace.config.mjs',
  'retrace.config.cjs',
];

export interface LoadedConfig {
  /** The config file, when one was found. */
  path: string | null;
  store: string | undefined;
  /** Flows given in the config: flows, or module paths (resolved against the config's folder). */
  flows: (AnyFlow | string)[];
  /** The HTTP port of `serve` and `dev`. */
  port?: number;
  /** The address `serve` and `dev` bind. */
  host?: string;
  /** The key of instances' secret values (32 bytes, base64 or hex); RETRACE_ENCRYPTION_KEY otherwise. */
  encryptionKey?: string;
  /** false: the engine does not migrate the store on start (run `retrace migrate` at deploy time). */
  migrate?: boolean;
}

/** Finds and imports the config file (`explicit` from `--config`, else the first of CONFIG_FILES in cwd). */
export async function loadConfig(cwd: string, explicit: string | undefined): Promise<LoadedConfig> {
  const path = explicit ? resolve(cwd, explicit) : CONFIG_FILES.map((f) => resolve(cwd, f)).find((p) => existsSync(p));
  if (!path) return { path: null, store: undefined, flows: [] };
  if (!existsSync(path)) throw new CliError(`--config: no such file ${explicit}`);
  const source = await importModule(path, 'config');
  const store = source.store;
  if (store !== undefined && typeof store !== 'string') {
    throw new CliError(`${path}: store must be a store URL string such as "sqlite:./data/retrace.db"`);
  }
  const raw = source.flows;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const flows = list.map((entry, i): AnyFlow | string => {
    if (typeof entry === 'string') return isAbsolute(entry) ? entry : resolve(dirname(path), entry);
    if (isFlow(entry)) return entry;
    throw new CliError(`${path}: flows[${i}] is neither a flow made with defineFlow() nor a module path`);
  });
  return { path, store, flows, ...serverSettings(path, source) };
}

/** The optional server settings of a config file, each checked for its type. */
function serverSettings(
  path: string,
  source: Record<string, unknown>,
): Pick<LoadedConfig, 'port' | 'host' | 'encryptionKey' | 'migrate'> {
  const { port, host, encryptionKey, migrate } = source;
  if (port !== undefined && !(Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65_535)) {
    throw new CliError(`${path}: port must be a whole number from 0 to 65535`);
  }
  if (host !== undefined && (typeof host !== 'string' || host === '')) {
    throw new CliError(`${path}: host must be an address string such as "0.0.0.0"`);
  }
  if (encryptionKey !== undefined && (typeof encryptionKey !== 'string' || encryptionKey === '')) {
    throw new CliError(`${path}: encryptionKey must be a string (32 bytes as base64 or hex)`);
  }
  if (migrate !== undefined && typeof migrate !== 'boolean') {
    throw new CliError(`${path}: migrate must be true or false`);
  }
  return {
    ...(port !== undefined ? { port: port as number } : {}),
    ...(host !== undefined ? { host: host as string } : {}),
    ...(encryptionKey !== undefined ? { encryptionKey: encryptionKey as string } : {}),
    ...(migrate !== undefined ? { migrate: migrate as boolean } : {}),
  };
}

/** Imports each module path and collects its flows; flows given directly are kept as they are. */
export async function resolveFlows(entries: readonly (AnyFlow | string)[]): Promise<AnyFlow[]> {
  const out: AnyFlow[] = [];
  const add = (flow: AnyFlow) => {
    if (!out.includes(flow)) out.push(flow);
  };
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      add(entry);
      continue;
    }
    const found = collectFlows(await importModule(entry, 'flows module'));
    if (found.length === 0) {
      throw new CliError(`No flows found in ${entry}: export the flows made with defineFlow() from it`);
    }
    for (const flow of found) add(flow);
  }
  return out;
}

/** Every exported flow, and the flows in exported arrays (`export const flows = [a, b]`). */
export function collectFlows(mod: Record<string, unknown>): AnyFlow[] {
  const out: AnyFlow[] = [];
  for (const value of Object.values(mod)) {
    for (const candidate of Array.isArray(value) ? value : [value]) {
      if (isFlow(candidate) && !out.includes(candidate)) out.push(candidate);
    }
  }
  return out;
}

/**
 * A flow as defineFlow() makes it: frozen, named, with the fields it always sets. Duck-typed
 * because the flows module may load its own copy of retrace, whose objects are still flows.
 */
export function isFlow(value: unknown): value is AnyFlow {
  if (!isObject(value) || !Object.isFrozen(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.name === 'string' && typeof v.run === 'function' && 'inputSchema' in v && 'errors' in v && 'retry' in v
  );
}

async function importModule(path: string, what: string): Promise<Record<string, unknown>> {
  if (!existsSync(path)) throw new CliError(`Cannot load ${what} ${path}: no such file`);
  try {
    if (TYPESCRIPT_FILE.test(path)) await registerTypeScript();
    return moduleExports((await import(pathToFileURL(path).href)) as Record<string, unknown>);
  } catch (error) {
    // Transpiler errors come with a code frame over several lines; the first names the problem.
    const first = String((error as Error)?.message ?? error).split('\n')[0];
    throw new CliError(`Cannot load ${what} ${path}: ${first}`);
  }
}

/** The files Node cannot import by itself; tsx compiles them as they are imported. */
const TYPESCRIPT_FILE = /\.[cm]?tsx?$/i;

/**
 * tsx's hooks, registered once per process and only when a TypeScript file is about to be
 * imported: they cost more than the rest of the CLI's start-up together, and a `.js` flows
 * module or config does not need them. Module-level because the hooks themselves are
 * process-wide; registering twice would chain two compilers. Both hooks: without the CommonJS
 * one, a .ts file in a package that is not "type": "module" cannot be imported at all.
 */
let typeScriptHooks: Promise<void> | undefined;

function registerTypeScript(): Promise<void> {
  typeScriptHooks ??= (async () => {
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    esm.register();
    cjs.register();
  })();
  return typeScriptHooks;
}

/**
 * The module's exports as one record. A default-exported object (`export default { flows }`)
 * counts as named exports; so does a CommonJS module's `module.exports`, which is what a
 * TypeScript file in a package without "type": "module" becomes. Named exports win.
 */
function moduleExports(ns: Record<string, unknown>): Record<string, unknown> {
  const d = ns.default;
  if (!isObject(d) || Array.isArray(d) || isFlow(d)) return ns;
  return { ...(d as Record<string, unknown>), ...ns };
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}
