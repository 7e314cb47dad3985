/**
 * Invocations as users write them (`engine.invoke`, `ctx.invoke`, a flow's `invokes`), in Zato's
 * shape: pure contracts only. The options and their checks, the input of the internal flow that
 * carries one invocation (`retrace:invocation`), and the payload its callback gets. The steps
 * that start and wait are in run/steps/invoke-step.ts; the invocation flow and the outside API
 * in invoke/.
 *
 * Modes (Zato's names in brackets):
 * - `sync` (sync+sync): the caller waits for the whole invocation; every attempt blocks it.
 * - `sync-async` (sync+async): the caller waits for the first attempt only; the rest run in the
 *   background.
 * - `async` (async+async): the caller does not wait.
 * `repeats` attempts follow the first, `seconds` and/or `minutes` apart (both given: they add
 * up, `minutes * 60 + seconds`; fractions allowed). A named callback flow runs once the
 * invocation has ended, success or not, with the InvocationPayload as its input.
 */
import { encodePayload } from '../shared/codec.js';
import { DefinitionError, type ErrorInfo, InvalidOptionError } from '../shared/errors.js';
import type { InvocationError, InvocationPayload } from '../shared/invocation-payload.js';
import { type Check, checkOptions, describe, isPlainObject, nonEmptyString } from '../shared/option-checks.js';

export type { InvocationError, InvocationPayload };

/** The engine's own flow that carries every invocation: one execution per call. */
export const INVOCATION_FLOW = 'retrace:invocation';
export { isReservedFlowName, RESERVED_FLOW_PREFIX } from '../shared/reserved-flows.js';
/** The tag an invocation execution carries, so invocations can be listed by target. */
export const invocationTargetTag = (target: string): string => `invoke:target=${target}`;

export const INVOKE_MODES = ['sync', 'sync-async', 'async'] as const;
export type InvokeMode = (typeof INVOKE_MODES)[number];

/** What both `engine.invoke` and `ctx.invoke` take. */
export interface InvokeCallOptions {
  /** @default 'sync' */
  mode?: InvokeMode;
  /** Attempts after the first: a whole number >= 0. @default 0 */
  repeats?: number;
  /** Seconds between attempts (>= 0, fractions allowed); `seconds` or `minutes` (or both, added) is required. */
  seconds?: number;
  /** Minutes between attempts (>= 0), converted to seconds and added to `seconds`. */
  minutes?: number;
  /** A flow run once the invocation ends (input: InvocationPayload); required for 'sync-async' and 'async'. */
  callback?: string;
  /** Any JSON, handed unchanged to the callback (`context`). */
  context?: unknown;
  /** The call's correlation id; the target's first attempt gets it as its idempotency key. @default a new id (outside), `<executionId>.<position>` (inside a flow) */
  cid?: string;
}

/** `engine.invoke`'s options: the call comes from outside any flow. */
export interface InvokeOptions extends InvokeCallOptions {
  /** Who calls, as the callback's `source`. @default 'api' */
  source?: string;
  /** The caller's own correlation id, as the callback's `orig_cid`. */
  origCid?: string;
  /** Who asked by hand (an API key's name, a CLI user): the invocation's start is audited as a run. */
  actor?: string;
}

/** `ctx.invoke`'s options. */
export interface FlowInvokeOptions extends InvokeCallOptions {
  /** The invoke step's name. @default the target's name */
  step?: string;
}

/** A flow's defaults for its `ctx.invoke` calls of one target (`invokes: { <target>: … }`). */
export interface InvokeDeclaration {
  callback?: string;
  mode?: InvokeMode;
  repeats?: number;
  seconds?: number;
  minutes?: number;
}
export type InvokeDeclarations = Record<string, InvokeDeclaration>;

/** What an invocation resolves with: the target's output, or pending (the rest runs in the background). */
export type InvokeResult<Response = unknown> =
  | { status: 'succeeded'; ok: true; cid: string; response: Response }
  | { status: 'pending'; ok: null; cid: string };

/** One call's options, checked, with defaults and declarations applied. */
export interface NormalizedInvoke {
  target: string;
  mode: InvokeMode;
  repeats: number;
  retrySeconds: number;
  callback: string | null;
  context: unknown;
  /** As given; absent: the caller makes one. */
  cid: string | undefined;
}

/** The input of one `retrace:invocation` execution: the call, whole. */
export interface InvocationInput {
  cid: string;
  target: string;
  input: unknown;
  mode: InvokeMode;
  repeats: number;
  retrySeconds: number;
  callback: string | null;
  context: unknown;
  source: string;
  origCid: string | null;
  /** When the call was made (ISO-8601, UTC). */
  req_ts_utc: string;
  /** The invoking execution and its invoke step; null from outside a flow. */
  invoker: { executionId: string; step: string } | null;
}

/** What one attempt of the target ended with: the output of the invocation's `attempt N` step. */
export interface AttemptOutcome {
  ok: boolean;
  /** The target's execution (null when it could not even be started: its input was refused). */
  executionId: string | null;
  response?: unknown;
  error?: ErrorInfo;
  /** No further attempt can cure it (the target declared the error fatal, or the engine knows). */
  fatal: boolean;
  /** When the attempt ended (store clock, epoch ms). */
  endedAt: number;
}

/** Engine errors that no repeat of the same call can cure (besides errors recorded `fatal`). */
const NO_REPEAT_CURES = new Set([
  'INPUT_INVALID',
  'NON_DETERMINISM',
  'EXECUTION_CANCELLED',
  'UNKNOWN_FLOW',
  'PAYLOAD_TOO_LARGE',
  'PAYLOAD_NOT_SERIALIZABLE',
  'INVALID_DEFINITION',
]);

/** Whether an attempt that failed with `error` ends the invocation at once. */
export function stopsRepeats(error: ErrorInfo): boolean {
  return error.fatal === true || (error.code !== undefined && NO_REPEAT_CURES.has(error.code));
}

const ANY: Check = () => undefined;
const mode: Check = (v, o) => {
  if (!(INVOKE_MODES as readonly unknown[]).includes(v)) {
    throw new InvalidOptionError(
      o,
      `${o} must be one of ${INVOKE_MODES.map((m) => `'${m}'`).join(', ')}, got ${describe(v)}`,
    );
  }
};
const repeats: Check = (v, o) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidOptionError(o, `${o} (attempts after the first) must be a whole number >= 0, got ${describe(v)}`);
  }
};
const interval: Check = (v, o) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InvalidOptionError(o, `${o} (the wait between attempts) must be a number >= 0, got ${describe(v)}`);
  }
};

const CALL_OPTIONS: Record<string, Check> = {
  mode,
  repeats,
  seconds: interval,
  minutes: interval,
  callback: nonEmptyString,
  context: ANY,
  cid: nonEmptyString,
};
export const ENGINE_INVOKE_OPTIONS: Record<string, Check> = {
  ...CALL_OPTIONS,
  source: nonEmptyString,
  origCid: nonEmptyString,
  actor: nonEmptyString,
};
export const FLOW_INVOKE_OPTIONS: Record<string, Check> = { ...CALL_OPTIONS, step: nonEmptyString };
const DECLARATION: Record<string, Check> = {
  mode,
  repeats,
  seconds: interval,
  minutes: interval,
  callback: nonEmptyString,
};

/**
 * Checks one call's options (`spec`: ENGINE_INVOKE_OPTIONS or FLOW_INVOKE_OPTIONS), over the
 * calling flow's declaration for the target, as Zato does at call time: a bad mode, a negative
 * or fractional `repeats`, a negative interval, neither `seconds` nor `minutes`, no `callback`
 * for an async mode. Whether target and callback are flows is the caller's check (it knows them).
 */
export function normalizeInvoke(
  call: string,
  target: unknown,
  options: unknown,
  spec: Record<string, Check>,
  declaration?: InvokeDeclaration,
): NormalizedInvoke {
  if (typeof target !== 'string' || target.length === 0) {
    throw new InvalidOptionError('target', `The target of ${call} must be a flow's name, got ${describe(target)}`);
  }
  checkOptions(call, options, spec);
  const given = (options ?? {}) as InvokeCallOptions;
  const d = declaration ?? {};
  // The interval is one thing: given in the call, it replaces the declared one whole.
  const callInterval = given.seconds !== undefined || given.minutes !== undefined;
  const seconds = callInterval ? given.seconds : d.seconds;
  const minutes = callInterval ? given.minutes : d.minutes;
  if (seconds === undefined && minutes === undefined) {
    throw new InvalidOptionError(
      'seconds',
      `${call} needs seconds or minutes (the wait between attempts; both given, they add up), for target "${target}"`,
    );
  }
  const m = given.mode ?? d.mode ?? 'sync';
  const callback = given.callback ?? d.callback ?? null;
  if (m !== 'sync' && callback === null) {
    throw new InvalidOptionError(
      'callback',
      `${call} in mode '${m}' needs a callback: the caller does not wait for the end, so a flow must be told of it`,
    );
  }
  if (given.context !== undefined) {
    // Checked as JSON here, so the refusal names the option rather than the invocation's input.
    encodePayload(given.context, `${call} option context`, Number.MAX_SAFE_INTEGER, 'context');
  }
  return {
    target,
    mode: m,
    repeats: given.repeats ?? d.repeats ?? 0,
    retrySeconds: (minutes ?? 0) * 60 + (seconds ?? 0),
    callback,
    context: given.context ?? null,
    cid: given.cid,
  };
}

/** Checks a flow's `invokes` (a DefinitionError for a bad one); whether the names are flows is checked at start. */
export function validateInvokeDeclarations(invokes: unknown, where: string): void {
  if (invokes === undefined) return;
  if (!isPlainObject(invokes))
    throw new DefinitionError(`${where}: invokes must be an object of target flow to defaults`);
  for (const [target, declaration] of Object.entries(invokes)) {
    try {
      if (declaration !== undefined && !isPlainObject(declaration)) {
        throw new InvalidOptionError(target, `must be an object, got ${describe(declaration)}`);
      }
      checkOptions(`invokes.${target}`, declaration, DECLARATION);
    } catch (err) {
      throw new DefinitionError(`${where}: invokes.${target}: ${(err as Error).message}`);
    }
  }
}

/** The flows a flow's `invokes` names (targets and callbacks), for the start-time check. */
export function declaredInvokeFlows(invokes: InvokeDeclarations | undefined): { name: string; as: string }[] {
  const out: { name: string; as: string }[] = [];
  for (const [target, d] of Object.entries(invokes ?? {})) {
    out.push({ name: target, as: `invokes.${target}` });
    if (d.callback !== undefined) out.push({ name: d.callback, as: `invokes.${target}.callback` });
  }
  return out;
}

/** The error of an attempt as the payload shows it. */
function payloadError(error: ErrorInfo): InvocationError {
  return { name: error.name, code: error.code ?? null, message: error.message };
}

/** The payload an invocation ends with (the callback's input, InvokeFailedError's payload). */
export function invocationPayload(
  call: InvocationInput,
  end: { ok: boolean; response?: unknown; error?: ErrorInfo | null; attempts: number; endedAt: number },
): InvocationPayload {
  return {
    ok: end.ok,
    source: call.source,
    target: call.target,
    retry_repeats: call.repeats,
    retry_seconds: call.retrySeconds,
    call_cid: call.cid,
    orig_cid: call.origCid,
    req_ts_utc: call.req_ts_utc,
    resp_ts_utc: new Date(end.endedAt).toISOString(),
    context: call.context ?? null,
    response: end.ok ? (end.response ?? null) : null,
    error: end.ok ? null : payloadError(end.error ?? { name: 'Error', message: 'the invocation did not succeed' }),
    attempts: end.attempts,
  };
}

/** The result a caller gets once it stops waiting (`attempt`: the outcome it waited for, if it ended). */
export function invokeResult(cid: string, outcome: { ok: boolean; response?: unknown } | null): InvokeResult {
  if (outcome?.ok) return { status: 'succeeded', ok: true, cid, response: outcome.response ?? null };
  return { status: 'pending', ok: null, cid };
}
