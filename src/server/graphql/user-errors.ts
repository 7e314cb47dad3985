/**
 * Mutations answer refusals the way Prismatic does: in the payload's `errors { field messages }`,
 * not as GraphQL errors, so a script can tell "you asked for something not allowed" from "the
 * server broke". Only Retrace errors a caller can fix become user errors; anything else
 * (a store failure, an engine stopping) is thrown and reported as a GraphQL error.
 */
import type { InputIssue, RetraceErrorCode } from '../../index.js';

export interface UserError {
  field: string;
  messages: string[];
  code: string;
}

/**
 * Every code: the input field a user error of that code concerns by default, or null for a
 * server error (thrown). Complete, so a new code must be classed here to compile. Codes no
 * mutation raises today are classed by what they mean, for the day one does.
 */
export const USER_ERROR_FIELDS: Readonly<Record<RetraceErrorCode, string | null>> = {
  EXECUTION_NOT_FOUND: 'id',
  EXECUTION_FINISHED: 'id',
  SIGNAL_REJECTED: 'id',
  REPLAY_NOT_ALLOWED: 'id',
  EXECUTION_ALREADY_RESOLVED: 'id',
  UNKNOWN_STEP: 'fromStep',
  INPUT_INVALID: 'input',
  PAYLOAD_TOO_LARGE: 'input',
  PAYLOAD_NOT_SERIALIZABLE: 'input',
  UNKNOWN_FLOW: 'flow',
  UNKNOWN_INSTANCE: 'instance',
  INSTANCE_DISABLED: 'instance',
  INSTANCE_INVALID: 'input',
  INSTANCE_DELETE_NOT_ALLOWED: 'id',
  SCHEDULE_NOT_FOUND: 'id',
  INVOCATION_NOT_FOUND: 'cid',
  SYSTEM_NOT_FOUND: 'name',
  // Secrets given to a server without a key: the caller can leave them out.
  ENCRYPTION_KEY_MISSING: 'secrets',
  INVALID_OPTION: 'input',
  INVALID_CURSOR: 'cursor',
  BATCH_NOT_FOUND: 'id',
  BATCH_STATE: 'id',
  API_KEY_INVALID: 'input',
  API_KEY_EXISTS: 'name',
  API_KEY_NOT_FOUND: 'id',
  WEBHOOK_DELIVERY_NOT_FOUND: 'id',
  WEBHOOK_REDELIVERY_NOT_ALLOWED: 'id',
  WEBHOOK_SIGNATURE_INVALID: 'input',
  WEBHOOK_BODY_INVALID: 'input',
  WEBHOOK_NOT_ENABLED: 'instance',
  // Stored secrets the server's key cannot open: the server's to fix.
  SECRET_UNREADABLE: null,
  // How an execution failed, or why it could not be waited for: not a refusal of the request.
  EXECUTION_FAILED: null,
  EXECUTION_CANCELLED: null,
  // How an invocation ended (its payload says why), not a refusal of the request.
  INVOKE_FAILED: null,
  STEP_FAILED: null,
  STEP_TIMEOUT: null,
  ATTEMPT_INTERRUPTED: null,
  STEP_ABANDONED: null,
  SYSTEM_UNAVAILABLE: null,
  NON_DETERMINISM: null,
  LEASE_LOST: null,
  RESULT_TIMEOUT: null,
  // The server's own flows, options and store.
  INVALID_DEFINITION: null,
  DUPLICATE_FLOW: null,
  INVALID_DURATION: null,
  ENGINE_NOT_STARTED: null,
  ENGINE_STOPPED: null,
  STORE_ERROR: null,
  STORE_BUSY: null,
  STORE_NOT_A_DATABASE: null,
  STORE_TOO_NEW: null,
  STORE_UNSAFE_FILESYSTEM: null,
  STORE_URL_INVALID: null,
  // A server error, except for text no store can keep (isUnstorableText).
  STORE_WRITE_REFUSED: null,
};

/**
 * Where one mutation reports its user errors. `inputs` are its input fields: an error whose
 * `field` (set where it was raised) is one of them, or inside one (`labels.region` is in
 * `labels`), is reported on it. Otherwise `byCode` overrides the default field of a code for
 * this mutation (an unknown instance is the `id` of updateInstance but the `instance` of runFlow).
 */
export interface UserErrorFields {
  inputs?: readonly string[];
  byCode?: Partial<Record<RetraceErrorCode, string>>;
}

/**
 * Text no store can keep (a NUL or a lone surrogate in a name, refused by the store before it
 * wrote anything) is the caller's to fix too; any other refused write is a server error.
 */
function isUnstorableText(err: unknown): boolean {
  const e = err as { code?: unknown; reason?: unknown };
  return e?.code === 'STORE_WRITE_REFUSED' && e.reason === 'UNSTORABLE_TEXT';
}

function codeOf(err: unknown): RetraceErrorCode | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && Object.hasOwn(USER_ERROR_FIELDS, code) ? (code as RetraceErrorCode) : undefined;
}

/** The input field an error names, by its structured `field`, when that is one of `inputs`. */
function namedInput(err: unknown, inputs: readonly string[]): string | undefined {
  const named = (err as { field?: unknown })?.field;
  if (typeof named !== 'string') return undefined;
  const top = named.split(/[.[]/)[0] ?? named;
  return inputs.includes(top) ? top : undefined;
}

/** The user errors for `err`, or undefined when it is not one (then the caller rethrows it). */
export function toUserErrors(err: unknown, where: UserErrorFields = {}): UserError[] | undefined {
  const code = codeOf(err);
  if (code === undefined) return undefined;
  const byDefault = USER_ERROR_FIELDS[code] ?? (isUnstorableText(err) ? 'input' : null);
  if (byDefault === null) return undefined;
  const field = namedInput(err, where.inputs ?? []) ?? where.byCode?.[code] ?? byDefault;
  const issues = (err as { issues?: InputIssue[] }).issues;
  if (code === 'INPUT_INVALID' && Array.isArray(issues) && issues.length > 0) {
    // One entry per input field, as Prismatic's form errors do: `input.customer.email`.
    const byField = new Map<string, string[]>();
    for (const issue of issues) {
      const name = issue.path.length ? `${field}.${issue.path.join('.')}` : field;
      byField.set(name, [...(byField.get(name) ?? []), issue.message]);
    }
    return [...byField].map(([f, messages]) => ({ field: f, messages, code }));
  }
  return [{ field, messages: [(err as Error).message], code }];
}

/** Runs a mutation's work and folds user errors into its payload; other errors propagate. */
export async function withUserErrors<T extends object>(
  work: () => Promise<T>,
  where: UserErrorFields = {},
): Promise<T | { errors: UserError[] }> {
  try {
    return { ...(await work()), errors: [] };
  } catch (err) {
    const errors = toUserErrors(err, where);
    if (!errors) throw err;
    return { errors };
  }
}
