/**
 * Mutations answer refusals the way Prismatic does: in the payload's `errors { field messages }`,
 * not as GraphQL errors, so a script can tell "you asked for something not allowed" from "the
 * server broke". Only Retrace errors a caller can fix become user errors; anything else
 * (a store failure, an engine stopping) is thrown and reported as a GraphQL error.
 */
import type { InputIssue } from '../../index.js';

export interface UserError {
  field: string;
  messages: string[];
  code: string;
}

/** Error codes a caller can fix by changing the request, and the input field each concerns by default. */
const USER_ERROR_FIELDS: Record<string, string> = {
  EXECUTION_NOT_FOUND: 'id',
  EXECUTION_FINISHED: 'id',
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
  ENCRYPTION_KEY_MISSING: 'secrets',
  INVALID_OPTION: 'input',
  BATCH_NOT_FOUND: 'id',
  BATCH_STATE: 'id',
};

/**
 * The user errors for `err`, or undefined when it is not one (then the caller rethrows it).
 * `fields` overrides the default field per code for one mutation (e.g. an unknown instance is
 * the `id` of updateInstance but the `instance` of runFlow).
 */
export type FieldOverrides = Record<string, string | ((err: Error) => string)>;

/**
 * Text no store can keep (a NUL or a lone surrogate in a name, refused by the store before it
 * wrote anything) is the caller's to fix too; any other refused write is a server error.
 */
function isUnstorableText(err: unknown): boolean {
  const e = err as { code?: unknown; reason?: unknown };
  return e?.code === 'STORE_WRITE_REFUSED' && e.reason === 'UNSTORABLE_TEXT';
}

export function toUserErrors(err: unknown, fields: FieldOverrides = {}): UserError[] | undefined {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !(code in USER_ERROR_FIELDS || isUnstorableText(err))) return undefined;
  const override = fields[code];
  const field =
    typeof override === 'function' ? override(err as Error) : (override ?? USER_ERROR_FIELDS[code] ?? 'input');
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
  fields: FieldOverrides = {},
): Promise<T | { errors: UserError[] }> {
  try {
    return { ...(await work()), errors: [] };
  } catch (err) {
    const errors = toUserErrors(err, fields);
    if (!errors) throw err;
    return { errors };
  }
}
