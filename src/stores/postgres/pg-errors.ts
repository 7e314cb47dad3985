import { StoreBusyError, StoreWriteRefusedError } from '../../core/shared/errors.js';

/**
 * What a PostgreSQL statement error means for the caller, by SQLSTATE. Connection failures are
 * told apart first (isConnectionError below: StoreUnavailableError); of the rest:
 * - the server cannot take the statement now, whatever it carries: insufficient resources
 *   (53xxx: disk full, out of memory, too many connections), starting up or shutting down
 *   (57P03), a serialization failure or deadlock (40001, 40P01), a lock not available (55P03),
 *   a read-only transaction (25006, e.g. a failover to a replica), a statement cancelled by
 *   its timeout (57014): StoreBusyError, try the same again later;
 * - the statement can never succeed with these values: data exceptions (22xxx: a NUL or an
 *   invalid Unicode escape in text or JSON, a value out of range) and integrity constraint
 *   violations (23xxx): StoreWriteRefusedError;
 * - anything else (a bug, a missing table) passes through unchanged.
 */
const BUSY = /^(53...|57P03|40001|40P01|55P03|25006|57014)$/;
const REFUSED = /^(22...|23...)$/;

export function classifyPostgresError(err: unknown, target: string): unknown {
  const code = (err as { code?: unknown })?.code;
  if (!(err instanceof Error) || typeof code !== 'string') return err;
  if (BUSY.test(code)) {
    return new StoreBusyError(`PostgreSQL store at ${target} cannot take the statement now (${code}): ${err.message}`, {
      reason: code,
      retryAfterMs: /^(40|55)/.test(code) ? 200 : 2000,
      cause: err,
    });
  }
  if (REFUSED.test(code)) {
    return new StoreWriteRefusedError(`PostgreSQL store at ${target} refused the statement (${code}): ${err.message}`, {
      reason: code,
      cause: err,
    });
  }
  return err;
}

const CONNECTION_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Whether an error means the server could not be reached or the session is gone (as opposed
 * to an error in a statement): network errors, node-postgres's own connection messages, and
 * the SQLSTATE classes for connection (08), authorisation (28), a missing database (3D000),
 * resources (53) and shutdown (57P).
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_ERRNO.has(code)) return true;
    if (/^(08|28|53|57P)/.test(code) || code === '3D000') return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|not queryable|connect ECONN/i.test(err.message);
}

/** The server refusing a prepared statement whose result columns changed since it was prepared. */
export function isStalePlan(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err as { code?: unknown }).code === '0A000' &&
    /cached plan must not change result type/.test(err.message)
  );
}
