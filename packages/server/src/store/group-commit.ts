import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Transact, TransactionWork } from './transact.js';

interface Pending {
  work: TransactionWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 256;

/** The raw connection under Kysely, for statements too small to be worth a query builder. */
export interface RawConnection {
  exec(sql: string): unknown;
}

/**
 * Group commit for SQLite (docs/decisions/005). With synchronous=FULL every COMMIT fsyncs, and
 * better-sqlite3 blocks the event loop while it does; one fsync per request capped refresh at a
 * third of its ceiling. Units of work that arrive while the loop is busy are queued; at the next
 * check phase they run one after another inside ONE transaction, each under its own savepoint
 * (a failing unit rolls back alone), and a single COMMIT makes them all durable before any of
 * them is answered. Units run strictly in order, so compare-and-set races keep their winner.
 */
export class GroupCommit {
  #queue: Pending[] = [];
  #draining = false;

  /**
   * `raw` must be the very connection Kysely's SQLite driver uses: while a batch runs, Kysely
   * holds that connection for the batch's transaction, so raw savepoint statements interleave
   * with the units' queries in order. (Kysely's own savepoint API cost 60 µs a unit.)
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly raw: RawConnection,
  ) {}

  readonly transact: Transact = <T>(work: TransactionWork<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#draining) {
        this.#draining = true;
        // setImmediate runs after the poll phase, so every request already read joins this batch.
        setImmediate(() => void this.#drain());
      }
    });

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        await this.#commit(batch);
      }
    } finally {
      this.#draining = false;
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let trx: Awaited<ReturnType<ReturnType<Kysely<Database>['startTransaction']>['execute']>> | undefined;
    try {
      trx = await this.db.startTransaction().execute();
      for (const pending of batch) {
        this.raw.exec('SAVEPOINT unit');
        try {
          const value = await pending.work(trx);
          this.raw.exec('RELEASE unit');
          outcomes.push({ ok: true, value });
        } catch (error) {
          this.raw.exec('ROLLBACK TO unit');
          this.raw.exec('RELEASE unit');
          outcomes.push({ ok: false, error });
        }
      }
      await trx.commit().execute();
    } catch (error) {
      // Nothing in this batch is durable: every caller hears about it.
      await trx
        ?.rollback()
        .execute()
        .catch(() => undefined);
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  }
}
