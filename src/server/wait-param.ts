/** `?wait=30s` on webhook routes: how long to wait for the execution's result before answering 202. */
import { InvalidOptionError } from '../index.js';

/** Waiting longer than this holds connections for too long; ask for the result later instead. */
export const MAX_WAIT_MS = 120_000;

/** `500ms`, `30s`, `2m` or plain milliseconds; undefined when absent. */
export function parseWait(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  const match = typeof value === 'string' ? /^(\d+)(ms|s|m)?$/.exec(value.trim()) : null;
  if (!match) {
    throw new InvalidOptionError(
      'wait',
      `wait must be a duration such as 500ms, 30s or 2m (got ${JSON.stringify(value)})`,
    );
  }
  const ms = Number(match[1]) * (match[2] === 'm' ? 60_000 : match[2] === 's' ? 1000 : 1);
  if (ms > MAX_WAIT_MS)
    throw new InvalidOptionError('wait', `wait may be at most ${MAX_WAIT_MS / 1000}s (got ${value})`);
  return ms;
}

/** What `unlessClosing` gives when the server began closing before the promise settled. */
export const CLOSING: unique symbol = Symbol('closing');

/**
 * The promise's outcome, or `CLOSING` as soon as `closing` aborts: a `?wait` must not hold a
 * shutdown for up to MAX_WAIT_MS. The abandoned wait ends by itself (its timeout, or the engine
 * stopping); its outcome is dropped.
 */
export function unlessClosing<T>(promise: Promise<T>, closing: AbortSignal | undefined): Promise<T | typeof CLOSING> {
  if (!closing) return promise;
  return new Promise((resolve, reject) => {
    const onClose = () => {
      promise.catch(() => undefined);
      resolve(CLOSING);
    };
    if (closing.aborted) return onClose();
    closing.addEventListener('abort', onClose, { once: true });
    promise.then(
      (value) => {
        closing.removeEventListener('abort', onClose);
        resolve(value);
      },
      (err: unknown) => {
        closing.removeEventListener('abort', onClose);
        reject(err);
      },
    );
  });
}
