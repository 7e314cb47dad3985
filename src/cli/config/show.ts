/**
 * The resolved options as `retrace config` and `--print-config` show them: each option's value
 * as given, what the engine makes of it, and where it came from. Secrets never appear: the
 * encryption key is shown as set or not, a store URL without its password.
 */
import type { CliContext } from '../context.js';
import { maskStoreUrl, type Setting, type SourceKind } from './sources.js';
import { DEFAULT_HOST, DEFAULT_PORT, type OptionKey } from './spec.js';
import type { ResolvedEngineOptions } from './values.js';

type ResolvedRetryPolicy = ResolvedEngineOptions['retry'];

export interface ShownSetting {
  /** As given (a secret as "***"); null where the default applies. */
  value: unknown;
  /** What is in effect: the engine's reading (durations in ms, the merged retry policy) or the default. */
  resolved: unknown;
  source: SourceKind;
  /** The flag, the variable, the config file's path, or "default". */
  from: string;
}

export interface SettingsReport {
  command: string;
  configFile: string | null;
  options: Record<string, ShownSetting>;
}

/** The engine's field for each option it reads. */
const RESOLVED: Partial<Record<OptionKey, keyof ResolvedEngineOptions>> = {
  concurrency: 'concurrency',
  flowConcurrency: 'flowConcurrency',
  retry: 'retry',
  defaultErrorPolicy: 'defaultErrorPolicy',
  inMemoryRetryMax: 'inMemoryRetryMaxMs',
  lease: 'leaseMs',
  sweepInterval: 'sweepIntervalMs',
  recoverDelay: 'recoverDelayMs',
  pollInterval: 'pollIntervalMs',
  stopTimeout: 'stopTimeoutMs',
  maxPayloadBytes: 'maxPayloadBytes',
  scheduleMissedAfter: 'scheduleMissedAfterMs',
  systems: 'systems',
};
const DURATIONS = new Set<string>(Object.entries(RESOLVED).flatMap(([k, f]) => (f.endsWith('Ms') ? [k] : [])));

export async function settingsReport(ctx: CliContext): Promise<SettingsReport> {
  const settings = await ctx.settings();
  const mode = settings.mode;
  const options: Record<string, ShownSetting> = {};
  const add = (s: Setting, resolved: unknown, secret = false) => {
    const value = s.value === undefined ? null : secret ? '***' : s.value;
    options[s.key] = { value, resolved, source: s.source, from: s.from };
  };
  const flows = await ctx.flowsSetting();
  add(flows, flows.value ?? []);
  for (const s of settings.list) {
    const key = s.key as OptionKey;
    const field = RESOLVED[key];
    if (key === 'store') {
      add({ ...s, value: s.value === undefined ? undefined : maskStoreUrl(s.value as string) }, await ctx.storeLabel());
    } else if (key === 'encryptionKey') add(s, s.value === undefined ? null : '***', true);
    else if (key === 'systems') add(s, systemsShown(settings.engine.systems));
    else if (field) add(s, settings.engine[field]);
    else add(s, s.value ?? defaultOf(key, mode));
  }
  return { command: mode === 'cli' ? 'retrace' : `retrace ${mode}`, configFile: settings.configPath, options };
}

function defaultOf(key: OptionKey, mode: string): unknown {
  switch (key) {
    case 'durability':
      return 'full';
    case 'migrate':
    case 'worker':
      return true;
    case 'port':
      return DEFAULT_PORT;
    case 'host':
      return mode === 'dev' ? DEFAULT_HOST.dev : DEFAULT_HOST.serve;
    default:
      return null;
  }
}

export async function printSettings(ctx: CliContext, json: boolean): Promise<void> {
  const report = await settingsReport(ctx);
  if (json) {
    ctx.out.json(report);
    return;
  }
  const out = ctx.out;
  out.line(`Options of ${report.command}; config file: ${report.configFile ?? 'none'}`);
  out.line(out.c.dim('Precedence: flag, then environment (RETRACE_…), then the config file, then the default.'));
  out.line();
  const rows = Object.entries(report.options).map(([key, s]) => [key, cell(key, s), fromText(s)]);
  out.table(['option', 'value', 'from'], rows, { flex: 1 });
}

function fromText(s: ShownSetting): string {
  if (s.source === 'default' || s.source === 'argument') return s.source;
  return `${s.source === 'config' ? 'config' : s.source} ${s.from}`;
}

function cell(key: string, s: ShownSetting): string {
  const r = s.resolved;
  if (key === 'encryptionKey') return r === null ? '(none: instances cannot hold secrets)' : '(set)';
  if (key === 'workerId' && r === null) return '(a fresh one per start)';
  if (key === 'flows') return (r as string[]).length ? (r as string[]).join(', ') : '(none)';
  if (DURATIONS.has(key)) return msText(r as number);
  if (key === 'maxPayloadBytes') return bytesText(r as number);
  if (key === 'retry') return retryText(r as ResolvedRetryPolicy);
  if (key === 'systems') {
    const entries = Object.entries(r as Record<string, ShownSystem>);
    return entries.length
      ? entries.map(([name, o]) => `${name}: opens after ${o.opensAfter}${o.health ? ', health check' : ''}`).join('; ')
      : '(none: every end system gets the defaults)';
  }
  if (key === 'flowConcurrency') {
    const entries = Object.entries(r as Record<string, number>);
    return entries.length ? entries.map(([f, n]) => `${f}: ${n}`).join(', ') : '(none)';
  }
  return String(r);
}

/** 120000 → "2m", 1500 → "1.5s", 250 → "250ms". */
export function msText(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function bytesText(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n} (${n / (1024 * 1024)} MiB)`;
  if (n >= 1024 && n % 1024 === 0) return `${n} (${n / 1024} KiB)`;
  return String(n);
}

function retryText(p: ResolvedRetryPolicy): string {
  return `maxAttempts ${p.maxAttempts}, delay ${msText(p.delayMs)}, backoff ${p.backoff}, maxDelay ${msText(p.maxDelayMs)}, jitter ${p.jitter}`;
}

type ShownSystem = Omit<ResolvedEngineOptions['systems'] extends ReadonlyMap<string, infer O> ? O : never, 'health'> & {
  health: boolean;
};

/** The resolved systems as JSON can show them: a health check, a function, as whether there is one. */
function systemsShown(resolved: ResolvedEngineOptions['systems']): Record<string, ShownSystem> {
  const out: Record<string, ShownSystem> = {};
  for (const [name, { health, ...rest }] of resolved) out[name] = { ...rest, health: health !== undefined };
  return out;
}
