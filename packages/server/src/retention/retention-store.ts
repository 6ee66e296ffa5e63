import { sql } from 'kysely';
import type { StoreDatabase } from '../store/transact.js';
import type { LogPosition } from '../webhooks/webhook-store.js';

/**
 * Where the slowest outbox (webhook endpoint, back-channel logout client) stands in the audit
 * log: rows after `position` are not delivered yet, and the oldest of them was written at
 * `pendingSince` (undefined: the outbox is caught up).
 */
export interface OutboxHold {
  position: LogPosition;
  pendingSince: number | undefined;
}

/**
 * Deletes what is past its retention (decision 034), a bounded batch per call: every method
 * removes at most `limit` rows per statement, each statement its own short transaction, so on
 * PostgreSQL no lock is held for long and on SQLite the group commit is never stalled. Callers
 * loop until a call deletes fewer than `limit`. Rows are chosen by their time through the
 * existing time indexes and deleted by primary key (`WHERE key IN (SELECT key ... LIMIT n)`).
 */
export class RetentionStore {
  constructor(private readonly database: StoreDatabase) {}

  /**
   * The position of the slowest of the named outbox cursors, and the time of the first row it
   * has not passed. Cursors not named (an endpoint removed from the configuration) hold nothing
   * back: decision 034. Undefined when none of them has a cursor yet (a new cursor starts at
   * the newest row, so it needs nothing older).
   */
  async outboxHold(keys: readonly string[]): Promise<OutboxHold | undefined> {
    if (keys.length === 0) return undefined;
    const slowest = await this.database.db
      .selectFrom('webhookCursors')
      .select(['lastTxId', 'lastLogId'])
      .where('endpoint', 'in', keys)
      .orderBy('lastTxId', 'asc')
      .orderBy('lastLogId', 'asc')
      .limit(1)
      .executeTakeFirst();
    if (!slowest) return undefined;
    const position = { txId: Number(slowest.lastTxId), logId: Number(slowest.lastLogId) };
    const next = await this.database.db
      .selectFrom('sessionLogs')
      .select('createdAt')
      .where(sql<boolean>`(tx_id, id) > (${position.txId}, ${position.logId})`)
      .orderBy('txId', 'asc')
      .orderBy('id', 'asc')
      .limit(1)
      .executeTakeFirst();
    return { position, pendingSince: next === undefined ? undefined : Number(next.createdAt) };
  }

  /**
   * Deletes up to `limit` audit rows written before `before`, oldest first, and only rows at or
   * before `delivered` when given (the slowest outbox cursor): an undelivered row is never lost.
   */
  async deleteAuditLogs(input: { before: number; delivered?: LogPosition; limit: number }): Promise<number> {
    const { delivered } = input;
    const result = await this.database.transact((trx) =>
      trx
        .deleteFrom('sessionLogs')
        .where('id', 'in', (eb) => {
          let old = eb
            .selectFrom('sessionLogs as old')
            .select('old.id')
            .where('old.createdAt', '<', input.before);
          if (delivered) {
            old = old.where(sql<boolean>`(old.tx_id, old.id) <= (${delivered.txId}, ${delivered.logId})`);
          }
          return old.orderBy('old.createdAt', 'asc').limit(input.limit);
        })
        .executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }

  /**
   * Deletes up to `limit` sessions that ended before `endedBefore`, and their refresh tokens
   * first (themselves `limit` at a time: a long session has one per refresh, and the foreign
   * key's cascade would take them all in one statement). An ended SSO session that a session
   * not yet ended was opened from stays: RP-initiated logout still finds it.
   */
  async deleteEndedSessions(input: {
    endedBefore: number;
    limit: number;
  }): Promise<{ sessions: number; refreshTokens: number }> {
    const { db, transact } = this.database;
    const rows = await db
      .selectFrom('sessions as s')
      .select('s.id')
      .where('s.endedAt', '<', input.endedBefore)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('sessions as a')
              .select('a.id')
              .whereRef('a.ssoSessionId', '=', 's.id')
              .where('a.endedAt', 'is', null),
          ),
        ),
      )
      .orderBy('s.endedAt', 'asc')
      .limit(input.limit)
      .execute();
    if (rows.length === 0) return { sessions: 0, refreshTokens: 0 };
    const ids = rows.map((row) => row.id);
    let refreshTokens = 0;
    for (;;) {
      const deleted = await transact((trx) =>
        trx
          .deleteFrom('refreshTokens')
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('refreshTokens as t')
              .select('t.id')
              .where('t.sessionId', 'in', ids)
              .limit(input.limit),
          )
          .executeTakeFirst(),
      );
      const n = Number(deleted.numDeletedRows);
      refreshTokens += n;
      if (n < input.limit) break;
    }
    // The conditions again: the statement decides, whatever changed since the read above.
    const deleted = await transact((trx) =>
      trx
        .deleteFrom('sessions')
        .where('id', 'in', ids)
        .where('endedAt', '<', input.endedBefore)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('sessions as a')
                .select('a.id')
                .whereRef('a.ssoSessionId', '=', 'sessions.id')
                .where('a.endedAt', 'is', null),
            ),
          ),
        )
        .executeTakeFirst(),
    );
    return { sessions: Number(deleted.numDeletedRows), refreshTokens };
  }

  /**
   * Deletes up to `limit` devices last signed in from before `lastSeenBefore` that have no
   * session left that has not ended (a live session's device is never deleted, however old its
   * last sign-in). The time is checked on the row itself too: a sign-in that moved
   * `last_seen_at` while this ran keeps its device (PostgreSQL re-checks it after the row lock).
   */
  async deleteIdleDevices(input: { lastSeenBefore: number; limit: number }): Promise<number> {
    const result = await this.database.transact((trx) =>
      trx
        .deleteFrom('devices')
        .where('lastSeenAt', '<', input.lastSeenBefore)
        .where(({ eb, refTuple, selectFrom }) =>
          eb(
            refTuple('userId', 'id'),
            'in',
            selectFrom('devices as d')
              .select(['d.userId', 'd.id'])
              .where('d.lastSeenAt', '<', input.lastSeenBefore)
              .where((inner) =>
                inner.not(
                  inner.exists(
                    inner
                      .selectFrom('sessions as s')
                      .select('s.id')
                      .whereRef('s.userId', '=', 'd.userId')
                      .whereRef('s.deviceId', '=', 'd.id')
                      .where('s.endedAt', 'is', null),
                  ),
                ),
              )
              .orderBy('d.lastSeenAt', 'asc')
              .limit(input.limit)
              .$asTuple('userId', 'id'),
          ),
        )
        .executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }
}
