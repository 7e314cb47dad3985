import { StoreBusyError, StoreWriteRefusedError } from '../../core/shared/errors.js';

/**
 * What a SQLite failure means for the caller, by its result code (better-sqlite3 puts the
 * extended code, e.g. `SQLITE_IOERR_WRITE`, on `code`):
 * - the file cannot take writes now (busy or locked past the busy timeout, disk full, an I/O
 *   error, read-only, out of memory): StoreBusyError, try the same again later;
 * - the write itself can never be stored (too big, a constraint, a type mismatch):
 *   StoreWriteRefusedError;
 * - anything else passes through unchanged.
 * Either way the transaction was rolled back: nothing of the write is in the file.
 */
const BUSY = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|NOMEM|PROTOCOL|CANTOPEN)(_|$)/;
const REFUSED = /^SQLITE_(TOOBIG|CONSTRAINT|MISMATCH|RANGE)(_|$)/;

export function classifySqliteError(err: unknown, path: string): unknown {
  const code = (err as { code?: unknown })?.code;
  if (!(err instanceof Error) || typeof code !== 'string') return err;
  if (BUSY.test(code)) {
    // Busy clears when the other writer commits; full and I/O need an operator: ask for a longer wait.
    const retryAfterMs = /^SQLITE_(BUSY|LOCKED)/.test(code) ? 1000 : 5000;
    return new StoreBusyError(`SQLite store ${path} cannot take the write now (${code}): ${err.message}`, {
      reason: code,
      retryAfterMs,
      cause: err,
    });
  }
  if (REFUSED.test(code)) {
    return new StoreWriteRefusedError(`SQLite store ${path} refused the write (${code}): ${err.message}`, {
      reason: code,
      cause: err,
    });
  }
  return err;
}
