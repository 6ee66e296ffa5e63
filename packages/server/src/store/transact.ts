import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from './migrations.js';
import type { Database } from './schema.js';

export type TransactionWork<T> = (trx: Transaction<Database>) => Promise<T>;

/** Runs `work` atomically; resolves only once its writes are durable. */
export type Transact = <T>(work: TransactionWork<T>) => Promise<T>;

/** One database transaction per unit of work: right for PostgreSQL, which group-commits itself. */
export function transactionPerWork(db: Kysely<Database>): Transact {
  return (work) => db.transaction().execute(work);
}

/** A database as the stores see it: reads go to `db`, every write through `transact`. */
export interface StoreDatabase {
  readonly db: Kysely<Database>;
  /** For the few queries that must differ (webhook order on PostgreSQL); domain code never asks. */
  readonly dialect: Dialect;
  readonly transact: Transact;
}
