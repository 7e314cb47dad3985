import { RetraceError } from '../core/shared/errors.js';

/** Keyset pagination cursors shared by the store adapters: the sort key and id of the last row seen. */
export interface CursorPosition {
  at: number;
  id: string;
}

export function encodeCursor(c: CursorPosition): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    const [at, id] = Array.isArray(parsed) && parsed.length === 2 ? parsed : [];
    // `at` is a time in ms (or a position), `id` a row's id: anything else was not made here.
    if (Number.isSafeInteger(at) && typeof id === 'string' && id.length > 0 && id.length <= 200) {
      return { at: at as number, id };
    }
  } catch {
    // fall through to the error below
  }
  const shown = cursor.length > 100 ? `${cursor.slice(0, 100)}…` : cursor;
  throw new RetraceError(
    'INVALID_CURSOR',
    `Invalid cursor ${JSON.stringify(shown)}: pass back a nextCursor value unchanged`,
  );
}
