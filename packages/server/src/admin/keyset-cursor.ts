import { SessiondError } from '../errors.js';

/**
 * Opaque page cursors for the admin lists: the sort key of the last row returned, so the next
 * page starts strictly after it (keyset pagination: no row is skipped or repeated when rows are
 * added meanwhile, and a page costs the same however deep it is). The list's name is inside, so
 * a cursor of one list is refused by another.
 */
export interface KeysetPosition<Id extends string | number> {
  /** Milliseconds: the time the list is ordered by, newest first. */
  at: number;
  /** The tie-breaker among rows of the same millisecond. */
  id: Id;
}

export type CursorList = 'sessions' | 'devices' | 'logs';

export function encodeCursor(list: CursorList, position: KeysetPosition<string | number>): string {
  return Buffer.from(JSON.stringify([list, position.at, position.id])).toString('base64url');
}

export function decodeCursor(list: 'logs', cursor: string): KeysetPosition<number>;
export function decodeCursor(list: 'sessions' | 'devices', cursor: string): KeysetPosition<string>;
export function decodeCursor(list: CursorList, cursor: string): KeysetPosition<string | number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== list) throw invalidCursor();
  const [, at, id] = parsed as [string, unknown, unknown];
  if (!Number.isSafeInteger(at) || (at as number) < 0) throw invalidCursor();
  const idValid =
    list === 'logs'
      ? Number.isSafeInteger(id) && (id as number) > 0
      : typeof id === 'string' && id.length > 0 && id.length <= 128;
  if (!idValid) throw invalidCursor();
  return { at: at as number, id: id as string | number };
}

function invalidCursor(): SessiondError {
  return new SessiondError('invalid_request', 'cursor is not valid');
}
