import type { LogAction } from '@sessiond/protocol';
import { type ExpressionBuilder, sql } from 'kysely';
import type { LogRecord } from '../store/records.js';
import { toLog } from '../store/row-mappers.js';
import type { Database } from '../store/schema.js';
import type { StoreDatabase } from '../store/transact.js';

/**
 * A place in the log: (transaction id, log id). Rows are read in that order; on SQLite the
 * transaction id is always 0, so it is plain id order there.
 */
export interface LogPosition {
  txId: number;
  logId: number;
}

/** A log row and its position. */
export interface PositionedLog {
  position: LogPosition;
  log: LogRecord;
}

/** Where one endpoint stands in the audit log, and how its retries stand. */
export interface WebhookCursor {
  endpoint: string;
  /** The last log row delivered (or passed over as not a webhook event). */
  position: LogPosition;
  /** Failed attempts at the row after `lastLogId`; 0 when the last attempt succeeded. */
  attempts: number;
  /** No attempt before this time (ms); 0 means at once. */
  nextAttemptAt: number;
  lastError: string | null;
}

/**
 * The webhook outbox: the audit log (`session_logs`), whose rows commit in the same transaction
 * as the change they record, and one cursor per endpoint (`webhook_cursors`). On SQLite one
 * process writes and ids follow commit order. On PostgreSQL they do not (ids are drawn before
 * commit): rows are read in (transaction id, id) order and only from transactions older than
 * every running one, a prefix of the log no later commit can add to (docs/decisions/012).
 * Several nodes share the cursors; a lease says which one delivers an endpoint's webhooks.
 */
export class WebhookStore {
  constructor(private readonly database: StoreDatabase) {}

  /**
   * Gives each endpoint that has none a cursor at the newest log row, so a new endpoint hears
   * what happens from now on, not the history. Existing cursors are left as they are. Atomic:
   * the newest id is read in the transaction that inserts the cursors.
   */
  async ensureCursors(endpoints: readonly string[]): Promise<void> {
    if (endpoints.length === 0) return;
    await this.database.transact(async (trx) => {
      const newest = await trx
        .selectFrom('sessionLogs')
        .select(['txId', 'id'])
        .orderBy('txId', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      const lastTxId = Number(newest?.txId ?? 0);
      const lastLogId = Number(newest?.id ?? 0);
      await trx
        .insertInto('webhookCursors')
        .values(
          endpoints.map((endpoint) => ({ endpoint, lastTxId, lastLogId, lastError: null, leasedBy: null })),
        )
        .onConflict((conflict) => conflict.column('endpoint').doNothing())
        .execute();
    });
  }

  async findCursor(endpoint: string): Promise<WebhookCursor | undefined> {
    const row = await this.database.db
      .selectFrom('webhookCursors')
      .selectAll()
      .where('endpoint', '=', endpoint)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      endpoint: row.endpoint,
      position: { txId: Number(row.lastTxId), logId: Number(row.lastLogId) },
      attempts: Number(row.attempts),
      nextAttemptAt: Number(row.nextAttemptAt),
      lastError: row.lastError,
    };
  }

  /**
   * Takes or renews the endpoint's delivery lease for `node` until `now + ttlMs`: true when this
   * node holds it (it had it, or the holder's lease ran out: that node is gone or stuck).
   */
  async lease(endpoint: string, node: string, now: number, ttlMs: number): Promise<boolean> {
    const result = await this.database.transact((trx) =>
      trx
        .updateTable('webhookCursors')
        .set({ leasedBy: node, leasedUntil: now + ttlMs })
        .where('endpoint', '=', endpoint)
        .where((eb) => eb.or([eb('leasedBy', '=', node), eb('leasedUntil', '<=', now)]))
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives the lease up (shutdown), so another node takes over at once. */
  async release(endpoint: string, node: string): Promise<void> {
    await this.database.transact((trx) =>
      trx
        .updateTable('webhookCursors')
        .set({ leasedBy: null, leasedUntil: 0 })
        .where('endpoint', '=', endpoint)
        .where('leasedBy', '=', node)
        .execute(),
    );
  }

  /** Up to `limit` settled log rows after `after`, in log order. */
  async logsAfter(after: LogPosition, limit: number): Promise<PositionedLog[]> {
    let query = this.database.db
      .selectFrom('sessionLogs')
      .selectAll()
      .where((eb) => afterPosition(eb, after))
      .orderBy('txId', 'asc')
      .orderBy('id', 'asc')
      .limit(limit);
    if (this.database.dialect === 'postgres') {
      // Only transactions older than every running one: their rows are all there is to see.
      query = query.where('txId', '<', sql<number>`pg_snapshot_xmin(pg_current_snapshot())::text::bigint`);
    }
    const rows = await query.execute();
    return rows.map((row) => ({
      position: { txId: Number(row.txId), logId: Number(row.id) },
      log: toLog(row),
    }));
  }

  /**
   * Moves an endpoint's cursor from `from` to `to` and clears its retry state. Compare-and-set:
   * false (and nothing changed) if the cursor is no longer at `from`.
   */
  async advance(endpoint: string, from: LogPosition, to: LogPosition): Promise<boolean> {
    const result = await this.database.transact((trx) =>
      trx
        .updateTable('webhookCursors')
        .set({ lastTxId: to.txId, lastLogId: to.logId, attempts: 0, nextAttemptAt: 0, lastError: null })
        .where('endpoint', '=', endpoint)
        .where('lastTxId', '=', from.txId)
        .where('lastLogId', '=', from.logId)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records a failed attempt at the row after the cursor, and when to try again. */
  async recordFailure(
    endpoint: string,
    at: LogPosition,
    failure: { attempts: number; nextAttemptAt: number; error: string },
  ): Promise<void> {
    await this.database.transact((trx) =>
      trx
        .updateTable('webhookCursors')
        .set({ attempts: failure.attempts, nextAttemptAt: failure.nextAttemptAt, lastError: failure.error })
        .where('endpoint', '=', endpoint)
        .where('lastTxId', '=', at.txId)
        .where('lastLogId', '=', at.logId)
        .execute(),
    );
  }

  /**
   * Log rows of the given actions after the cursor of the endpoint furthest behind: what is
   * still to be delivered somewhere. 0 with no endpoints or before their cursors exist.
   */
  async backlog(endpoints: readonly string[], actions: readonly LogAction[]): Promise<number> {
    if (endpoints.length === 0) return 0;
    const furthest = await this.database.db
      .selectFrom('webhookCursors')
      .select(['lastTxId', 'lastLogId'])
      .where('endpoint', 'in', endpoints)
      .orderBy('lastTxId', 'asc')
      .orderBy('lastLogId', 'asc')
      .limit(1)
      .executeTakeFirst();
    if (!furthest) return 0;
    const after = { txId: Number(furthest.lastTxId), logId: Number(furthest.lastLogId) };
    const pending = await this.database.db
      .selectFrom('sessionLogs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where((eb) => afterPosition(eb, after))
      .where('action', 'in', actions)
      .executeTakeFirstOrThrow();
    return Number(pending.n);
  }
}

/** Rows after `after` in (tx_id, id) order: a row-value comparison both dialects serve from one index. */
function afterPosition(_eb: ExpressionBuilder<Database, 'sessionLogs'>, after: LogPosition) {
  return sql<boolean>`(tx_id, id) > (${after.txId}, ${after.logId})`;
}
