/**
 * The body of `POST /api/invocations`, and the GraphQL `invoke` input, read into
 * `engine.invoke(target, input, options)`. Only the shapes are checked here (a field of the
 * wrong type is INVALID_OPTION naming it, never coerced: `"3"` is not 3 repeats); what the
 * values mean (an async mode without a callback, neither seconds nor minutes, an unknown
 * target) the engine checks, with the same field names, before it stores anything.
 */
import { InvalidOptionError } from '../index.js';

export const INVOKE_MODES = ['sync', 'sync-async', 'async'] as const;
export type InvokeModeName = (typeof INVOKE_MODES)[number];

/** The body's fields: Zato's invoke/retry arguments, plus `source` and `origCid` for the callback's payload. */
export const INVOKE_FIELDS = [
  'target',
  'input',
  'mode',
  'repeats',
  'seconds',
  'minutes',
  'callback',
  'context',
  'cid',
  'source',
  'origCid',
] as const;

export interface InvokeRequest {
  target: string;
  input: unknown;
  options: {
    mode?: InvokeModeName;
    repeats?: number;
    seconds?: number;
    minutes?: number;
    callback?: string;
    context?: unknown;
    cid?: string;
    source?: string;
    origCid?: string;
  };
}

function text(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidOptionError(field, `${field} must be a non-empty string (got ${JSON.stringify(value)})`);
  }
  return value;
}

function amount(body: Record<string, unknown>, field: string, whole: boolean): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (whole && !Number.isInteger(value))) {
    throw new InvalidOptionError(
      field,
      `${field} must be ${whole ? 'a whole number' : 'a number'} of 0 or more (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** The call a checked body describes; `fields` is the body with only INVOKE_FIELDS (see bodyObject). */
export function toInvokeRequest(fields: Record<string, unknown>): InvokeRequest {
  const target = text(fields, 'target');
  if (target === undefined) throw new InvalidOptionError('target', 'target is required: the flow to invoke');
  const mode = text(fields, 'mode');
  if (mode !== undefined && !(INVOKE_MODES as readonly string[]).includes(mode)) {
    throw new InvalidOptionError(
      'mode',
      `mode must be one of ${INVOKE_MODES.join(', ')} (got ${JSON.stringify(mode)})`,
    );
  }
  const options: InvokeRequest['options'] = {};
  if (mode !== undefined) options.mode = mode as InvokeModeName;
  const repeats = amount(fields, 'repeats', true);
  if (repeats !== undefined) options.repeats = repeats;
  const seconds = amount(fields, 'seconds', false);
  if (seconds !== undefined) options.seconds = seconds;
  const minutes = amount(fields, 'minutes', false);
  if (minutes !== undefined) options.minutes = minutes;
  for (const field of ['callback', 'cid', 'source', 'origCid'] as const) {
    const value = text(fields, field);
    if (value !== undefined) options[field] = value;
  }
  // Any JSON, null included: the callback gets it unchanged.
  if (fields.context !== undefined) options.context = fields.context;
  // As `retrace run`: no input is an empty object (null, given, stays null).
  return { target, input: fields.input === undefined ? {} : fields.input, options };
}
