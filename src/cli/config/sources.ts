/**
 * Which value each option takes, and where it came from: the flag, else the RETRACE_ variable,
 * else the config file, else a platform's generic variable (DATABASE_URL when it is a
 * postgres:// URL, PORT), else the default. One rule for every option, so `retrace config` can
 * say for each why it is what it is. Values from flags and the environment are checked here,
 * with the same checks as the config file's (values.ts); errors name the flag or the variable.
 */
import type { EngineOptions } from '../../index.js';
import { isPostgresUrl } from '../../stores/store-url.js';
import { CliError, EXIT, UsageError } from '../cli-error.js';
import type { LoadedConfig } from '../config.js';
import { shown } from './file.js';
import { flagName, type Mode, OPTIONS, type OptionKey, type OptionSpec, type OptionValues } from './spec.js';
import { BadValue, engineReading, type ResolvedEngineOptions } from './values.js';

export type SourceKind = 'flag' | 'argument' | 'env' | 'config' | 'default';

export interface Setting {
  key: string;
  /** The value as given; undefined where the default applies. */
  value: unknown;
  source: SourceKind;
  /** `--lease`, `RETRACE_LEASE`, the config file's path, or `default`. */
  from: string;
}

export interface SettingsInput {
  mode: Mode;
  config: LoadedConfig;
  env: NodeJS.ProcessEnv;
  /** The command's parsed options (commander's opts()): an option's flag is stored under its key. */
  flags: Readonly<Record<string, unknown>>;
  /** The program's `--store`. */
  store: string | undefined;
}

/** The options createEngine takes from the settings (the store, migrate, worker and the servers' are the caller's). */
const ENGINE_KEYS = [
  'durability',
  'encryptionKey',
  'workerId',
  'concurrency',
  'flowConcurrency',
  'retry',
  'defaultErrorPolicy',
  'inMemoryRetryMax',
  'lease',
  'sweepInterval',
  'recoverDelay',
  'pollInterval',
  'stopTimeout',
  'maxPayloadBytes',
  'scheduleMissedAfter',
  'systems',
] as const satisfies readonly OptionKey[];

export type SettingsEngineOptions = EngineOptions & Partial<Pick<OptionValues, 'durability' | 'encryptionKey'>>;

export class Settings {
  readonly mode: Mode;
  readonly configPath: string | null;
  /** The options of this mode, in the order of the spec. */
  readonly list: readonly Setting[];
  /** What the engine makes of them (durations in ms, the retry policy merged over the default). */
  readonly engine: ResolvedEngineOptions;

  constructor(mode: Mode, configPath: string | null, list: readonly Setting[]) {
    this.mode = mode;
    this.configPath = configPath;
    this.list = list;
    try {
      this.engine = engineReading(this.engineOptions());
    } catch (error) {
      // Each option was checked alone; this would be a rule between options the CLI does not know.
      throw new CliError(`The options together are refused by the engine: ${(error as Error).message}`);
    }
  }

  setting(key: OptionKey): Setting | undefined {
    return this.list.find((s) => s.key === key);
  }

  get<K extends OptionKey>(key: K): OptionValues[K] | undefined {
    return this.setting(key)?.value as OptionValues[K] | undefined;
  }

  /** The engine options given (not defaulted) for this mode, as createEngine takes them. */
  engineOptions(): SettingsEngineOptions {
    const out: Record<string, unknown> = {};
    for (const key of ENGINE_KEYS) {
      const value = this.get(key);
      if (value !== undefined) out[key] = value;
    }
    return out as SettingsEngineOptions;
  }
}

export function resolveSettings(input: SettingsInput): Settings {
  const list: Setting[] = [];
  for (const spec of OPTIONS) {
    if (spec.modes.includes(input.mode)) list.push(resolveOne(spec, input));
    else if (flagValue(spec, input) !== undefined) {
      throw new UsageError(`${flagName(spec)} does not apply to retrace ${input.mode}`);
    }
  }
  return new Settings(input.mode, input.config.path, list);
}

function resolveOne(spec: OptionSpec, input: SettingsInput): Setting {
  const key = spec.key;
  const flag = flagValue(spec, input);
  if (flag !== undefined) {
    const from = flagName(spec)!;
    return { key, value: typeof flag === 'string' ? fromText(spec, flag, from, 'flag') : flag, source: 'flag', from };
  }
  const env = spec.env ? input.env[spec.env] : undefined;
  if (env) return { key, value: fromText(spec, env, spec.env!, 'env'), source: 'env', from: spec.env! };
  const fromFile = input.config.values[key];
  if (fromFile !== undefined) return { key, value: fromFile, source: 'config', from: input.config.path! };
  const fallback = spec.fallbackEnv ? input.env[spec.fallbackEnv] : undefined;
  // DATABASE_URL may name the application's own database of another kind: only postgres:// is ours.
  if (fallback && (spec.fallbackEnv !== 'DATABASE_URL' || isPostgresUrl(fallback))) {
    const name = spec.fallbackEnv!;
    return { key, value: fromText(spec, fallback, name, 'env'), source: 'env', from: name };
  }
  return { key, value: undefined, source: 'default', from: 'default' };
}

/** The flag's value if it was given: its text, or false for a `--no-x` switch. */
function flagValue(spec: OptionSpec, input: SettingsInput): string | false | undefined {
  if (spec.key === 'store') return input.store || undefined;
  if (!spec.flag) return undefined;
  const raw = input.flags[spec.key];
  if (spec.flag.startsWith('--no-')) return raw === false ? false : undefined;
  return typeof raw === 'string' ? raw : undefined;
}

function fromText(spec: OptionSpec, text: string, name: string, kind: 'flag' | 'env'): unknown {
  try {
    return spec.kind.fromText!(text);
  } catch (error) {
    if (!(error instanceof BadValue)) throw error;
    // A bad flag is a usage error like any other flag's; a bad variable, too (exit 2): nothing was tried.
    if (kind === 'flag') throw new UsageError(`${name} takes ${error.expected}, got ${JSON.stringify(text)}`);
    const got = spec.secret ? '' : ` (got ${shown(text)})`;
    throw new CliError(`${name} must be ${error.expected}${got}`, EXIT.usage);
  }
}

/** The flows row of `retrace config`: given on the command line, in the config, or none. */
export function flowsSetting(given: readonly string[] | undefined, givenFrom: string, config: LoadedConfig): Setting {
  if (given?.length) {
    return { key: 'flows', value: [...given], source: givenFrom === '--flows' ? 'flag' : 'argument', from: givenFrom };
  }
  if (config.flows.length > 0) {
    const value = config.flows.map((f) => (typeof f === 'string' ? f : `flow ${f.name}`));
    return { key: 'flows', value, source: 'config', from: config.path! };
  }
  return { key: 'flows', value: undefined, source: 'default', from: 'default' };
}

/** A store URL fit to show: a PostgreSQL URL's password (in the userinfo or as ?password=) becomes ***. */
export function maskStoreUrl(url: string): string {
  if (!isPostgresUrl(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
