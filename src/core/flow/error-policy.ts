import type { ErrorInfo } from '../shared/errors.js';
import type { ErrorDeclaration, ErrorDeclarations } from './flow.js';
import { type ResolvedRetryPolicy, type RetryPolicy, resolveRetryPolicy } from './retry-policy.js';

/** What to do after an attempt threw. */
export type ErrorDecision =
  | { kind: 'fatal'; reason: string }
  | { kind: 'retry'; policy: ResolvedRetryPolicy; retryAfterMs: number };

/** Engine errors that no further attempt can cure. */
const FATAL_CODES = new Set([
  'PAYLOAD_TOO_LARGE',
  'PAYLOAD_NOT_SERIALIZABLE',
  'INVALID_DEFINITION',
  'NON_DETERMINISM',
  'INVALID_DURATION',
]);

export interface ErrorPolicyInput {
  /** The policy for this step with engine, flow and step layers already merged. */
  stepPolicy: ResolvedRetryPolicy;
  stepErrors: ErrorDeclarations | undefined;
  flowErrors: ErrorDeclarations;
  /** What an error that is neither typed nor declared gets. */
  defaultErrorPolicy: 'retry' | 'fatal';
}

/**
 * Classifies a thrown error, by `name` and `code` (never `instanceof`, so that an error read
 * back from the store classifies the same way):
 * 1. `FatalError` → fatal; `RetryableError` → retry (honouring its `retryAfterMs`);
 * 2. declared errors, the step's before the flow's, by name then by code;
 * 3. Retrace's own errors that cannot heal (over-size payload, bad definition) → fatal;
 * 4. otherwise the default policy.
 */
/**
 * The attempts a step allows after `error`, its last recorded one (on resume): classified again
 * by name and code as it was first time, so a declared error's policy still governs.
 */
export function attemptLimitAfter(error: ErrorInfo | null, input: ErrorPolicyInput): number {
  if (!error) return input.stepPolicy.maxAttempts;
  const decision = classifyError(error, input);
  return decision.kind === 'retry' ? decision.policy.maxAttempts : input.stepPolicy.maxAttempts;
}

export function classifyError(err: unknown, input: ErrorPolicyInput): ErrorDecision {
  const rawName = read(err, 'name');
  const name = typeof rawName === 'string' ? rawName : '';
  const rawCode = read(err, 'code');
  const code = typeof rawCode === 'string' || typeof rawCode === 'number' ? String(rawCode) : undefined;
  const retryAfterMs = numberOr0(read(err, 'retryAfterMs'));

  if (name === 'FatalError') return { kind: 'fatal', reason: 'FatalError thrown' };
  if (name === 'RetryableError') return { kind: 'retry', policy: input.stepPolicy, retryAfterMs };

  const declared = lookup(input.stepErrors, name, code) ?? lookup(input.flowErrors, name, code);
  if (declared) return decide(declared.decl, `declared as ${declared.key}`, input.stepPolicy, retryAfterMs);

  if (code !== undefined && FATAL_CODES.has(code)) return { kind: 'fatal', reason: code };
  return input.defaultErrorPolicy === 'fatal'
    ? { kind: 'fatal', reason: 'undeclared error (default policy: fatal)' }
    : { kind: 'retry', policy: input.stepPolicy, retryAfterMs };
}

function lookup(
  errors: ErrorDeclarations | undefined,
  name: string,
  code: string | undefined,
): { key: string; decl: ErrorDeclaration } | undefined {
  if (!errors) return undefined;
  if (name && Object.hasOwn(errors, name)) return { key: name, decl: errors[name]! };
  if (code !== undefined && Object.hasOwn(errors, code)) return { key: code, decl: errors[code]! };
  return undefined;
}

function decide(
  decl: ErrorDeclaration,
  reason: string,
  base: ResolvedRetryPolicy,
  retryAfterMs: number,
): ErrorDecision {
  if (decl === 'fatal') return { kind: 'fatal', reason };
  if (decl === 'retry') return { kind: 'retry', policy: base, retryAfterMs };
  return { kind: 'retry', policy: resolveRetryPolicy(base, [decl as RetryPolicy], reason), retryAfterMs };
}

/** A property of whatever was thrown, or undefined (a getter that throws must not break the classification). */
function read(err: unknown, key: string): unknown {
  try {
    return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined;
  } catch {
    return undefined;
  }
}

function numberOr0(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}
