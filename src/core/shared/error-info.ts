/**
 * Turning anything thrown into the stored shape (ErrorInfo), safely: whatever a step throws,
 * writing its failure must not throw in turn (an execution would be left leased and stuck), and
 * what one failure stores is bounded (a 5 MB message retried three times must not add 105 MB).
 *
 * - Fields are read defensively (a getter may throw) and coerced: a `name` or `message` that is
 *   not a string becomes one; `code` is kept when it is a string or a number.
 * - Text is made storable the same way on every store (storableText).
 * - `message` and `stack` are each cut to a byte limit, with a marker saying how much was cut.
 */
import { storableText } from './storable-text.js';

export { storableText };

/** The stored shape of an error: what survives a restart and what replay classifies by. */
export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  /** The step the error was raised in, when it was raised in one. */
  step?: string;
  /** Set when the error was classified fatal (no retry or repeat can cure it); absent otherwise. */
  fatal?: boolean;
}

/** What one error's message (and, separately, its stack) may take in the store, at most. */
export const ERROR_TEXT_MAX_BYTES = 16 * 1024;
const NAME_MAX_CHARS = 200;

/** The bound for an engine whose payload limit is `maxPayloadBytes`: one error takes at most half of it. */
export function errorTextLimit(maxPayloadBytes: number): number {
  return Math.min(ERROR_TEXT_MAX_BYTES, Math.max(256, Math.floor(maxPayloadBytes / 4)));
}

/** `text` cut to at most `maxBytes` of UTF-8 (marker included), ending with a marker of how much was cut. */
export function cutText(text: string, maxBytes: number): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return text;
  const marker = `… [cut: ${bytes - maxBytes} more bytes of ${bytes}, not stored]`;
  const keep = Math.max(0, maxBytes - Buffer.byteLength(marker));
  // A multi-byte character split at the cut decodes as U+FFFD: drop it.
  const head = Buffer.from(text)
    .subarray(0, keep)
    .toString('utf8')
    .replace(/\ufffd+$/, '');
  return `${head}${marker}`;
}

/** An ErrorInfo made storable and bounded (also for one read back from the store or built elsewhere). */
export function boundErrorInfo(info: ErrorInfo, maxBytes = ERROR_TEXT_MAX_BYTES): ErrorInfo {
  const text = (v: unknown) => storableText(typeof v === 'string' ? v : textOf(v));
  const name = text(info.name).slice(0, NAME_MAX_CHARS) || 'Error';
  return {
    name,
    message: cutText(text(info.message), maxBytes),
    ...(info.code !== undefined ? { code: text(info.code).slice(0, NAME_MAX_CHARS) } : {}),
    ...(info.stack !== undefined ? { stack: cutText(text(info.stack), maxBytes) } : {}),
    ...(info.step !== undefined ? { step: text(info.step) } : {}),
    ...(typeof info.fatal === 'boolean' ? { fatal: info.fatal } : {}),
  };
}

/** Turns anything thrown into the stored shape; never throws. */
export function toErrorInfo(err: unknown, step?: string, maxBytes = ERROR_TEXT_MAX_BYTES): ErrorInfo {
  const where = step !== undefined ? { step } : {};
  if (!isErrorLike(err)) return boundErrorInfo({ name: 'NonError', message: textOf(err), ...where }, maxBytes);
  const name = read(err, 'name');
  const message = read(err, 'message');
  const code = read(err, 'code');
  const stack = read(err, 'stack');
  return boundErrorInfo(
    {
      name: typeof name === 'string' && name ? name : typeof name === 'number' ? String(name) : 'Error',
      message: typeof message === 'string' ? message : message === undefined || message === null ? '' : textOf(message),
      ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
      ...(typeof stack === 'string' && stack ? { stack } : {}),
      ...where,
    },
    maxBytes,
  );
}

/** An Error, or a plain object shaped like one (`{ name, message }`, as validate may return). */
function isErrorLike(err: unknown): err is object {
  if (err instanceof Error) return true;
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof read(err, 'message') === 'string' &&
    typeof read(err, 'name') === 'string'
  );
}

function read(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function textOf(v: unknown): string {
  try {
    if (typeof v === 'string') return v;
    return JSON.stringify(v) ?? String(v);
  } catch {
    try {
      return String(v);
    } catch {
      return '[a value that cannot be shown as text]';
    }
  }
}
