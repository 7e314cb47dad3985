/**
 * The flags of `retrace invoke`, checked the way Zato checks invoke/retry's arguments, before
 * any store is opened: a bad mode, a negative or fractional repeat count, neither --seconds
 * nor --minutes, an async mode without --callback are usage errors naming the flag, and
 * nothing is started. The engine checks the same options again (and that the target and the
 * callback are flows it knows) when it is called.
 */
import { UsageError } from './cli-error.js';
import { parseCount, parseNonNegativeNumber, parseWait, readJsonValue } from './parse.js';

export type InvokeModeArg = 'sync' | 'sync-async' | 'async';

/** Retrace's names, and Zato's for the same three modes (its table says `Sync + async`). */
const MODES: Readonly<Record<string, InvokeModeArg>> = {
  sync: 'sync',
  'sync-async': 'sync-async',
  async: 'async',
  'sync+sync': 'sync',
  'sync+async': 'sync-async',
  'async+async': 'async',
};

export interface InvokeFlags {
  input?: string;
  mode?: string;
  repeats?: string;
  seconds?: string;
  minutes?: string;
  callback?: string;
  context?: string;
  cid?: string;
  origCid?: string;
  timeout?: string;
  json?: boolean;
}

/** What `engine.invoke(target, input, options)` is given, and how long the command waits for it. */
export interface InvokeCall {
  input: unknown;
  options: {
    mode: InvokeModeArg;
    repeats?: number;
    seconds?: number;
    minutes?: number;
    callback?: string;
    context?: unknown;
    cid?: string;
    origCid?: string;
    source: string;
  };
  /** Stop waiting after this long (the invocation goes on); undefined: wait until it ends. */
  timeoutMs?: number;
}

export function parseMode(value: string | undefined): InvokeModeArg {
  if (value === undefined) return 'sync';
  const mode = Object.hasOwn(MODES, value.trim().toLowerCase()) ? MODES[value.trim().toLowerCase()] : undefined;
  if (!mode) {
    throw new UsageError(
      `--mode takes sync, sync-async or async (Zato's sync+sync, sync+async, async+async), got ${JSON.stringify(value)}`,
    );
  }
  return mode;
}

function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError(`${flag} takes a non-empty value`);
  return value;
}

export function parseInvokeFlags(flags: InvokeFlags, cwd: string): InvokeCall {
  const mode = parseMode(flags.mode);
  const repeats = flags.repeats === undefined ? undefined : parseCount(flags.repeats, '--repeats', { min: 0 });
  const seconds = flags.seconds === undefined ? undefined : parseNonNegativeNumber(flags.seconds, '--seconds');
  const minutes = flags.minutes === undefined ? undefined : parseNonNegativeNumber(flags.minutes, '--minutes');
  if (seconds === undefined && minutes === undefined) {
    throw new UsageError(
      'Give the wait between attempts with --seconds or --minutes (or both: they add up), as Zato requires; 0 retries at once',
    );
  }
  const callback = nonEmpty(flags.callback, '--callback');
  if (callback === undefined && mode !== 'sync') {
    throw new UsageError(
      `--mode ${mode} needs --callback <flow>: the attempts run in the background and the callback is how their outcome is delivered`,
    );
  }
  const cid = nonEmpty(flags.cid, '--cid');
  const origCid = nonEmpty(flags.origCid, '--orig-cid');
  return {
    input: flags.input !== undefined ? readJsonValue(flags.input, '--input', cwd) : {},
    options: {
      mode,
      source: 'cli',
      ...(repeats !== undefined ? { repeats } : {}),
      ...(seconds !== undefined ? { seconds } : {}),
      ...(minutes !== undefined ? { minutes } : {}),
      ...(callback !== undefined ? { callback } : {}),
      ...(flags.context !== undefined ? { context: readJsonValue(flags.context, '--context', cwd) } : {}),
      ...(cid !== undefined ? { cid } : {}),
      ...(origCid !== undefined ? { origCid } : {}),
    },
    ...(flags.timeout !== undefined ? { timeoutMs: parseWait(flags.timeout, '--timeout') } : {}),
  };
}
