import type { LogAction } from '@sessiond/protocol';
import type { LogRecord } from '../store/records.js';
import { toLog } from '../store/row-mappers.js';
import type { StoreDatabase } from '../store/transact.js';

/** Where one endpoint stands in the audit log, and how its retries stand. */
export interface WebhookCursor {
  endpoint: string;
  /** The last log row delivered (or passed over as not a webhook event). */
  lastLogId: number;
  /** Failed attempts at the row after `lastLogId`; 0 when the last attempt succeeded. */
  attempts: number;
  /** No attempt before this time (ms); 0 means at once. */
  nextAttemptAt: number;
  lastError: string | null;
}

/**
 * The webhook outbox: the audit log (`session_logs`), whose rows commit in the same transaction
 * as the change they record, read in id order, and one cursor per endpoint (`webhook_cursors`).
 * Ids are read as commit order: true on SQLite, where one process writes (decision 009 says what
 * PostgreSQL would need).
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
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirst();
      const lastLogId = Number(newest?.id ?? 0);
      await trx
        .insertInto('webhookCursors')
        .values(endpoints.map((endpoint) => ({ endpoint, lastLogId, lastError: null })))
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
      lastLogId: Number(row.lastLogId),
      attempts: Number(row.attempts),
      nextAttemptAt: Number(row.nextAttemptAt),
      lastError: row.lastError,
    };
  }

  /** Up to `limit` log rows after `afterId`, oldest first. */
  async logsAfter(afterId: number, limit: number): Promise<LogRecord[]> {
    const rows = await this.database.db
      .selectFrom('sessionLogs')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toLog);
  }

  /**
   * Moves an endpoint's cursor from `fromLogId` to `toLogId` and clears its retry state.
   * Compare-and-set: false (and nothing changed) if the cursor is no longer at `fromLogId`.
   */
  async advance(endpoint: string, fromLogId: number, toLogId: number): Promise<boolean> {
    const result = await this.database.transact((trx) =>
      trx
        .updateTable('webhookCursors')
        .set({ lastLogId: toLogId, attempts: 0, nextAttemptAt: 0, lastError: null })
        .where('endpoint', '=', endpoint)
        .where('lastLogId', '=', fromLogId)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records a failed attempt at the row after the cursor, and when to try again. */
  async recordFailure(
    endpoint: string,
    atLogId: number,
    failure: { attempts: number; nextAttemptAt: number; error: string },
  ): Promise<void> {
    await this.database.transact((trx) =>
      trx
        .updateTable('webhookCursors')
        .set({ attempts: failure.attempts, nextAttemptAt: failure.nextAttemptAt, lastError: failure.error })
        .where('endpoint', '=', endpoint)
        .where('lastLogId', '=', atLogId)
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
      .select((eb) => eb.fn.min('lastLogId').as('id'))
      .where('endpoint', 'in', endpoints)
      .executeTakeFirst();
    if (furthest?.id === null || furthest?.id === undefined) return 0;
    const pending = await this.database.db
      .selectFrom('sessionLogs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('id', '>', Number(furthest.id))
      .where('action', 'in', actions)
      .executeTakeFirstOrThrow();
    return Number(pending.n);
  }
}
