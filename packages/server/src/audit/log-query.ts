import { SessiondError } from '../errors.js';
import type { LogRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';

export const MAX_LOG_PAGE = 100;

/** Pages through a user's audit log, newest first, with an opaque cursor. */
export async function listUserLogs(
  store: SessionStore,
  userId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ logs: LogRecord[]; nextCursor: string | null }> {
  const beforeId = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const rows = await store.listLogs({ userId, limit: page.limit + 1, ...(beforeId ? { beforeId } : {}) });
  const logs = rows.slice(0, page.limit);
  const last = logs.at(-1);
  return { logs, nextCursor: rows.length > page.limit && last ? encodeCursor(last.id) : null };
}

function encodeCursor(id: number): string {
  return Buffer.from(`log:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^log:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw new SessiondError('invalid_request', 'cursor is not valid');
  return Number(match[1]);
}
