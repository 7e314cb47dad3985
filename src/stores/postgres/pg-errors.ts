import { StoreBusyError, StoreWriteRefusedError } from '../../core/shared/errors.js';

/**
 * What a PostgreSQL statement error means for the caller, by SQLSTATE. Connection failures are
 * told apart first (postgres-store.ts, isConnectionError: StoreUnavailableError); of the rest:
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
