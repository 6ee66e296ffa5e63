import type { LogAction, SessionEndReason } from '@sessiond/protocol';
import { type Expression, type ExpressionBuilder, sql } from 'kysely';
import type { DeviceRecord, LogRecord, SessionRecord } from '../store/records.js';
import { toDevice, toLog, toSession } from '../store/row-mappers.js';
import type { Database } from '../store/schema.js';
import type { StoreDatabase } from '../store/transact.js';
import type { KeysetPosition } from './keyset-cursor.js';

export interface AdminKeyRecord {
  id: string;
  /** SHA-256 of the key (base64url); the key itself is never stored. */
  keyHash: string;
  name: string;
  createdAt: number;
}

/** A time range in epoch milliseconds: `from` included, `to` excluded. */
export interface TimeRange {
  from: number;
  to: number;
}

export interface LogSearch {
  userId?: string | undefined;
  action?: LogAction | undefined;
  ip?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

const DAY_MS = 86_400_000;
const LOGIN_ACTIONS: LogAction[] = ['login', 'login_failed'];

// PostgreSQL returns counts and sums of bigint columns as strings.
const num = (value: number | string | bigint | null): number => Number(value ?? 0);

/**
 * The admin API's reads (and its keys' writes) over the shared database. Every query here is
 * shaped for one of the indexes of migrations 0001 and 0004, and says which: the admin API must
 * stay fast on a log of millions of rows (bench row 11 checks it). Each method is one statement,
 * so each answer is consistent in itself.
 */
export class AdminStore {
  constructor(private readonly database: StoreDatabase) {}

  /** Inserts a key (its hash only); durable when the promise resolves. */
  async addKey(key: AdminKeyRecord): Promise<void> {
    await this.database.transact((trx) => trx.insertInto('adminKeys').values(key).execute());
  }

  /** By the unique index on `key_hash`. */
  async findKeyByHash(keyHash: string): Promise<AdminKeyRecord | undefined> {
    const row = await this.database.db
      .selectFrom('adminKeys')
      .selectAll()
      .where('keyHash', '=', keyHash)
      .executeTakeFirst();
    return row && { ...row, createdAt: num(row.createdAt) };
  }

  async listKeys(): Promise<AdminKeyRecord[]> {
    const rows = await this.database.db.selectFrom('adminKeys').selectAll().orderBy('createdAt').execute();
    return rows.map((row) => ({ ...row, createdAt: num(row.createdAt) }));
  }

  /** Deletes a key; false if there was none with that id. Requests with it fail from then on. */
  async deleteKey(id: string): Promise<boolean> {
    const result = await this.database.transact((trx) =>
      trx.deleteFrom('adminKeys').where('id', '=', id).executeTakeFirst(),
    );
    return num(result.numDeletedRows) > 0;
  }

  /** An erased account's tombstone is nobody's (decision 036). */
  async findUser(userId: string): Promise<{ id: string; email: string } | undefined> {
    return this.database.db
      .selectFrom('users')
      .select(['id', 'email'])
      .where('id', '=', userId)
      .where('erasedAt', 'is', null)
      .executeTakeFirst();
  }

  /**
   * A user's sessions, newest first (created_at, id), after `after`; `liveAt` keeps only those
   * live at that time. By `sessions_user_live_idx` (user_id, ended_at, idle_expires_at), then a sort of that user's rows.
   */
  async listSessions(
    userId: string,
    page: { limit: number; after?: KeysetPosition<string> | undefined; liveAt?: number | undefined },
  ): Promise<SessionRecord[]> {
    let query = this.database.db.selectFrom('sessions').selectAll().where('userId', '=', userId);
    const { after, liveAt } = page;
    if (liveAt !== undefined) {
      query = query
        .where('endedAt', 'is', null)
        .where('idleExpiresAt', '>', liveAt)
        .where('expiresAt', '>', liveAt);
    }
    if (after) query = query.where((eb) => before(eb, sql.ref<number>('createdAt'), after));
    const rows = await query.orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toSession);
  }

  /** A user's devices, most recently seen first (last_seen_at, id). By the primary key (user_id, id). */
  async listDevices(
    userId: string,
    page: { limit: number; after?: KeysetPosition<string> | undefined },
  ): Promise<DeviceRecord[]> {
    let query = this.database.db.selectFrom('devices').selectAll().where('userId', '=', userId);
    const { after } = page;
    if (after) query = query.where((eb) => before(eb, sql.ref<number>('lastSeenAt'), after));
    const rows = await query.orderBy('lastSeenAt', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toDevice);
  }

  /**
   * The log, newest first (created_at, id), filtered, after `after`. One index leads, the most
   * selective one given: (user_id, id), else (ip, created_at), else (action, created_at), else
   * (created_at); the other filters only check the rows it yields. SQLite, without statistics,
   * cannot tell that a user has far fewer rows than an action and would rather pick an index that
   * spares it the sort, scanning every `refresh` row to find one user's; so the columns of the
   * filters that must not lead are wrapped (`action || ''`, `created_at + 0`), which no index
   * serves, on SQLite as on PostgreSQL. Under (ip|action, created_at) the rowid follows
   * created_at, so the order needs no sort; under the user's index the sort is of that user's rows.
   */
  async searchLogs(
    filter: LogSearch,
    page: { limit: number; after?: KeysetPosition<number> | undefined },
  ): Promise<LogRecord[]> {
    const lead: LogSearchLead =
      filter.userId !== undefined
        ? 'user'
        : filter.ip !== undefined
          ? 'ip'
          : filter.action !== undefined
            ? 'action'
            : 'time';
    const action = lead === 'action' ? sql.ref('action') : sql`action || ''`;
    const ip = sql`ip || ''`;
    const time = lead === 'user' ? sql<number>`created_at + 0` : sql.ref<number>('createdAt');
    let query = this.database.db.selectFrom('sessionLogs').selectAll();
    if (filter.userId !== undefined) query = query.where('userId', '=', filter.userId);
    if (filter.ip !== undefined) query = query.where(lead === 'ip' ? sql.ref('ip') : ip, '=', filter.ip);
    if (filter.action !== undefined) query = query.where(action, '=', filter.action);
    if (filter.from !== undefined) query = query.where(time, '>=', filter.from);
    if (filter.to !== undefined) query = query.where(time, '<', filter.to);
    const { after } = page;
    if (after) query = query.where((eb) => before(eb, time, after));
    const rows = await query.orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toLog);
  }

  /**
   * Successful and failed sign-ins per UTC day (days since the epoch). A covering range scan of
   * (action, created_at): the table itself is not read.
   */
  async loginsPerDay(range: TimeRange): Promise<Array<{ day: number; action: LogAction; count: number }>> {
    const day = sql<number>`created_at / ${sql.lit(DAY_MS)}`;
    const rows = await this.database.db
      .selectFrom('sessionLogs')
      .select((eb) => ['action', day.as('day'), eb.fn.countAll<number>().as('count')])
      .where('action', 'in', LOGIN_ACTIONS)
      .where('createdAt', '>=', range.from)
      .where('createdAt', '<', range.to)
      .groupBy(['action', day])
      .execute();
    return rows.map((row) => ({ day: num(row.day), action: row.action as LogAction, count: num(row.count) }));
  }

  /**
   * Sessions live at `now`, by their device's type (null: unknown). A range scan of
   * `sessions_live_idle_idx` (ended_at IS NULL, idle_expires_at > now), each joined to its device
   * by the primary key.
   */
  async liveSessionsByDeviceType(
    now: number,
  ): Promise<Array<{ deviceType: string | null; sessions: number }>> {
    const rows = await this.database.db
      .selectFrom('sessions')
      .leftJoin('devices', (join) =>
        join.onRef('devices.userId', '=', 'sessions.userId').onRef('devices.id', '=', 'sessions.deviceId'),
      )
      .select((eb) => ['devices.deviceType', eb.fn.countAll<number>().as('sessions')])
      .where('sessions.endedAt', 'is', null)
      .where('sessions.idleExpiresAt', '>', now)
      .where('sessions.expiresAt', '>', now)
      .groupBy('devices.deviceType')
      .execute();
    return rows.map((row) => ({ deviceType: row.deviceType, sessions: num(row.sessions) }));
  }

  /**
   * Sessions marked ended in the range, by end reason, with their summed durations. A session
   * lasts from creation until it stopped being usable: its deadline when it timed out (the
   * sweeper may notice later), else the moment it was ended. A range scan of
   * `sessions_live_idle_idx` on ended_at.
   */
  async endedSessionDurations(
    range: TimeRange,
  ): Promise<Array<{ reason: SessionEndReason; sessions: number; totalMs: number }>> {
    const end = sql<number>`case end_reason when 'idle_timeout' then idle_expires_at when 'absolute_timeout' then expires_at else ended_at end`;
    const rows = await this.database.db
      .selectFrom('sessions')
      .select((eb) => [
        'endReason',
        eb.fn.countAll<number>().as('sessions'),
        eb.fn.sum<number>(sql`${end} - created_at`).as('totalMs'),
      ])
      .where('endedAt', '>=', range.from)
      .where('endedAt', '<', range.to)
      .groupBy('endReason')
      .execute();
    return rows.map((row) => ({
      reason: row.endReason as SessionEndReason,
      sessions: num(row.sessions),
      totalMs: num(row.totalMs),
    }));
  }

  /**
   * The users with the most failed sign-ins in the range (unknown emails have no user and are
   * left out). A range scan of (action, created_at), reading each failure's row for its user.
   */
  async topFailedLogins(
    range: TimeRange,
    limit: number,
  ): Promise<Array<{ userId: string; email: string | null; failed: number; lastAt: number }>> {
    const { db } = this.database;
    const rows = await db
      .selectFrom('sessionLogs')
      .select((eb) => [
        'userId',
        eb.fn.countAll<number>().as('failed'),
        eb.fn.max<number>('createdAt').as('lastAt'),
      ])
      .where('action', '=', 'login_failed')
      .where('createdAt', '>=', range.from)
      .where('createdAt', '<', range.to)
      .where('userId', 'is not', null)
      .groupBy('userId')
      .orderBy('failed', 'desc')
      .orderBy('userId')
      .limit(limit)
      .execute();
    const ids = rows.map((row) => row.userId as string);
    const users =
      ids.length === 0
        ? []
        : await db.selectFrom('users').select(['id', 'email']).where('id', 'in', ids).execute();
    const emails = new Map(users.map((user) => [user.id, user.email]));
    return rows.map((row) => ({
      userId: row.userId as string,
      email: emails.get(row.userId as string) ?? null,
      failed: num(row.failed),
      lastAt: num(row.lastAt),
    }));
  }

  /**
   * The IPs with the most sign-in attempts (successful or not) in the range, with at least
   * `minAttempts`. A range scan of (action, created_at), reading each attempt's row for its IP.
   */
  async topLoginIPs(
    range: TimeRange,
    page: { limit: number; minAttempts: number },
  ): Promise<Array<{ ip: string; attempts: number; failed: number; users: number }>> {
    const attempts = sql<number>`count(*)`;
    const rows = await this.database.db
      .selectFrom('sessionLogs')
      .select((eb) => [
        'ip',
        attempts.as('attempts'),
        eb.fn
          .sum<number>(eb.case().when('action', '=', 'login_failed').then(sql.lit(1)).else(sql.lit(0)).end())
          .as('failed'),
        eb.fn.count<number>('userId').distinct().as('users'),
      ])
      .where('action', 'in', LOGIN_ACTIONS)
      .where('createdAt', '>=', range.from)
      .where('createdAt', '<', range.to)
      .where('ip', 'is not', null)
      .groupBy('ip')
      .having(attempts, '>=', page.minAttempts)
      .orderBy('attempts', 'desc')
      .orderBy('ip')
      .limit(page.limit)
      .execute();
    return rows.map((row) => ({
      ip: row.ip as string,
      attempts: num(row.attempts),
      failed: num(row.failed),
      users: num(row.users),
    }));
  }
}

/**
 * Strictly after `position` in (time desc, id desc) order. `time <= at` bounds the index range;
 * the disjunction only filters the rows of that one millisecond.
 */
function before<T extends 'sessions' | 'devices' | 'sessionLogs'>(
  eb: ExpressionBuilder<Database, T>,
  time: Expression<number>,
  position: KeysetPosition<string | number>,
) {
  const id = sql.ref('id');
  return eb.and([eb(time, '<=', position.at), eb.or([eb(time, '<', position.at), eb(id, '<', position.id)])]);
}

type LogSearchLead = 'user' | 'ip' | 'action' | 'time';
