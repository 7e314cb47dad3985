/**
 * Reading JSON payloads from the dashboard's forms (replay, run by hand), and turning the
 * engine's refusals into messages on the fields they are about, so each is shown next to its
 * editor: InputValidationError's issues on the input, an error's `field` (`stepOutputs.map`,
 * `fromStep`, `instance`) on that field's editor, anything else on the form as a whole.
 */
import { InputValidationError, RetraceError, type RetraceErrorCode } from '../../../index.js';

export type Form = Record<string, string | string[] | undefined>;

/** Messages by form field (an editor's name, or FORM_FIELD for the form as a whole). */
export type FieldErrors = Record<string, string[]>;

export const FORM_FIELD = '_form';

/** The first value of a form field (a name sent twice keeps its first), or ''. */
export function formText(form: Form, name: string): string {
  const value = form[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** Every value of a form field (checkboxes). */
export function formList(form: Form, name: string): string[] {
  const value = form[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export type ParsedJson = { ok: true; value: unknown } | { ok: false; message: string };

/** An editor's text as JSON; blank text is `undefined` (no value), for the caller to accept or refuse. */
export function parseJsonText(text: string): ParsedJson {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: `Not valid JSON: ${(error as Error).message}` };
  }
}

/** A value as an editor shows it: indented JSON, or nothing for no value. */
export function jsonText(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

/** The same JSON value (whitespace aside; key order counts, which only makes an edit look bigger). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function addError(errors: FieldErrors, field: string, message: string): void {
  const list = errors[field];
  if (list) list.push(message);
  else errors[field] = [message];
}

/** "customer.id: Invalid input", or the message alone for the value as a whole. */
export function issueText(issue: { path: (string | number)[]; message: string }): string {
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : `The input as a whole: ${issue.message}`;
}

/**
 * The engine's refusal as field errors: `fieldOf` maps the engine's field name (`input`,
 * `stepOutputs.map`) to the form's (undefined: the form as a whole). Errors that are not the
 * caller's to fix (a store down, a bug) are not a refusal: they are thrown on, to the error page.
 */
export function refusalErrors(error: unknown, fieldOf: (engineField: string) => string | undefined): FieldErrors {
  if (error instanceof InputValidationError) {
    return { [fieldOf('input') ?? FORM_FIELD]: error.issues.map(issueText) };
  }
  if (error instanceof RetraceError && isCallersToFix(error)) {
    return { [(error.field !== undefined ? fieldOf(error.field) : undefined) ?? FORM_FIELD]: [error.message] };
  }
  throw error;
}

/** What an operator can fix in the form, as opposed to a failure of the server or the store. */
const CALLERS_TO_FIX: ReadonlySet<RetraceErrorCode> = new Set<RetraceErrorCode>([
  'INVALID_OPTION',
  'UNKNOWN_STEP',
  'REPLAY_NOT_ALLOWED',
  'EXECUTION_ALREADY_RESOLVED',
  'PAYLOAD_TOO_LARGE',
  'PAYLOAD_NOT_SERIALIZABLE',
  'UNKNOWN_INSTANCE',
  'INSTANCE_DISABLED',
  // Not the operator's to fix, but said on the form: a replay of a flow this server does not load.
  'UNKNOWN_FLOW',
]);

const isCallersToFix = (error: RetraceError): boolean => CALLERS_TO_FIX.has(error.code);
