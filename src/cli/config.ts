/**
 * Where the CLI finds the user's flows and settings: `retrace.config.{ts,mts,cts,js,mjs,cjs}` in
 * the working directory (or `--config`), imported as a module. Its exports are the options of
 * config/spec.ts (every option of createEngine and the servers' port and host), checked here as
 * the file is loaded (config/file.ts), and `flows`: every exported flow (or array of flows) of a
 * flows module is collected, so the module the application already has works as is. How the
 * file's values rank against flags and the environment is config/sources.ts.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Flow } from '../index.js';
import { CliError } from './cli-error.js';
import { type ConfigOptions, readConfigOptions } from './config/file.js';

export type AnyFlow = Flow<string, never, unknown>;

export const CONFIG_FILES = [
  'retrace.config.ts',
  'retrace.config.mts',
  'retrace.config.cts',
  'retrace.config.js',
  'retrace.config.mjs',
  'retrace.config.cjs',
];

export interface LoadedConfig extends ConfigOptions {
  /** The config file, when one was found. */
  path: string | null;
  /** Flows given in the config: flows, or module paths (resolved against the config's folder). */
  flows: (AnyFlow | string)[];
}

/** Finds and imports the config file (`explicit` from `--config`, else the first of CONFIG_FILES in cwd). */
export async function loadConfig(cwd: string, explicit: string | undefined): Promise<LoadedConfig> {
  const path = explicit ? resolve(cwd, explicit) : CONFIG_FILES.map((f) => resolve(cwd, f)).find((p) => existsSync(p));
  if (!path) return { path: null, flows: [], values: {}, unknown: [] };
  if (!existsSync(path)) throw new CliError(`--config: no such file ${explicit}`);
  const source = await importModule(path, 'config');
  const raw = source.flows;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const flows = list.map((entry, i): AnyFlow | string => {
    if (typeof entry === 'string') return isAbsolute(entry) ? entry : resolve(dirname(path), entry);
    if (isFlow(entry)) return entry;
    throw new CliError(`${path}: flows[${i}] is neither a flow made with defineFlow() nor a module path`);
  });
  const options = readConfigOptions(path, source);
  // A config that defines its flows inline exports them by name too: those are not typos.
  const flowish = (v: unknown) => isFlow(v) || (Array.isArray(v) && v.length > 0 && v.every(isFlow));
  return { path, flows, ...options, unknown: options.unknown.filter((u) => !flowish(source[u.key])) };
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
