import { RetraceError } from '../core/errors.js';

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
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at === 'number' && typeof id === 'string') return { at, id };
  } catch {
    // fall through to the error below
  }
  throw new RetraceError(
    'INVALID_OPTION',
    `Invalid cursor ${JSON.stringify(cursor)}: pass back a nextCursor value unchanged`,
  );
}
