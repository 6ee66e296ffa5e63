import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import type { SessionEnding } from '../sessions/session-ending.js';
import type { DeviceRecord, LogRecord, SessionRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import type { AdminStore, LogSearch } from './admin-store.js';
import { type CursorList, decodeCursor, encodeCursor, type KeysetPosition } from './keyset-cursor.js';

/** Page sizes of the admin lists: `limit` is 1 to MAX, DEFAULT when absent. */
export const ADMIN_PAGE = { default: 50, max: 200 } as const;

export interface Page<T> {
  items: T[];
  /** Where the next page starts; null on the last page. */
  nextCursor: string | null;
}

/**
 * What an operator can see and do to users' sessions. Revocations go through SessionEnding like a
 * user's own (actor `admin`, reason `admin`), so the audit log, the revocation stream, the sync
 * sockets and webhooks all see them.
 */
export class AdminService {
  constructor(
    private readonly deps: { store: SessionStore; admin: AdminStore; ending: SessionEnding; clock: Clock },
  ) {}

  /** A user's sessions, newest first: every one, or (`live`) only those usable now. */
  async listSessions(
    userId: string,
    query: { limit: number; cursor?: string | undefined; state: 'live' | 'all' },
  ): Promise<Page<SessionRecord>> {
    await this.#requireUser(userId);
    const after = query.cursor === undefined ? undefined : decodeCursor('sessions', query.cursor);
    const liveAt = query.state === 'live' ? this.deps.clock.now() : undefined;
    const rows = await this.deps.admin.listSessions(userId, { limit: query.limit + 1, after, liveAt });
    return page(rows, query.limit, 'sessions', (session) => ({ at: session.createdAt, id: session.id }));
  }

  /** A user's devices (those not forgotten), most recently seen first. */
  async listDevices(
    userId: string,
    query: { limit: number; cursor?: string | undefined },
  ): Promise<Page<DeviceRecord>> {
    await this.#requireUser(userId);
    const after = query.cursor === undefined ? undefined : decodeCursor('devices', query.cursor);
    const rows = await this.deps.admin.listDevices(userId, { limit: query.limit + 1, after });
    return page(rows, query.limit, 'devices', (device) => ({ at: device.lastSeenAt, id: device.id }));
  }

  /** Revokes any user's session; false if it had already ended. */
  async revokeSession(sessionId: string, context: RequestContext): Promise<boolean> {
    const session = await this.deps.store.findSession(sessionId);
    if (!session) throw new SessiondError('session_not_found', 'no such session');
    return this.deps.ending.revoke(session, { reason: 'admin', actor: 'admin', context });
  }

  /** Revokes every live session of a user ("sign out everywhere", by an operator); how many. */
  async revokeAll(userId: string, context: RequestContext): Promise<number> {
    await this.#requireUser(userId);
    const ended = await this.deps.ending.revokeAll({ userId, reason: 'admin', actor: 'admin', context });
    return ended.length;
  }

  /** The whole audit log, newest first, filtered. */
  async searchLogs(
    filter: LogSearch,
    query: { limit: number; cursor?: string | undefined },
  ): Promise<Page<LogRecord>> {
    if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) {
      throw new SessiondError('invalid_request', 'invalid query: from must be before to');
    }
    const after = query.cursor === undefined ? undefined : decodeCursor('logs', query.cursor);
    const rows = await this.deps.admin.searchLogs(filter, { limit: query.limit + 1, after });
    return page(rows, query.limit, 'logs', (log) => ({ at: log.createdAt, id: log.id }));
  }

  async #requireUser(userId: string): Promise<void> {
    if (!(await this.deps.admin.findUser(userId))) throw new SessiondError('user_not_found', 'no such user');
  }
}

/** `rows` holds up to limit + 1 rows: one more than the page says there is a next page. */
function page<T>(
  rows: T[],
  limit: number,
  list: CursorList,
  position: (row: T) => KeysetPosition<string | number>,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(list, position(last)) : null,
  };
}
