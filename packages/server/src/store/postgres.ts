import { CamelCasePlugin, Kysely } from 'kysely';
import pg from 'pg';
import { KyselySessionStore } from './kysely-store.js';
import { migrateToLatest } from './migrate.js';
import { OwnSchemaPostgresDialect } from './own-schema-dialect.js';
import type { Database } from './schema.js';
import { transactionPerWork } from './transact.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Times are epoch milliseconds in BIGINT columns and sums come back as NUMERIC; node-postgres
 * hands both over as strings to be safe with 64-bit values. Every value sessiond stores is far
 * below 2^53, so numbers are exact and the row mappers see the same types as on SQLite.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

export interface PostgresOptions {
  /** Connections per node; several nodes share the server's max_connections. */
  poolSize?: number;
}

/**
 * Opens the PostgreSQL store and brings its schema up to date. Several nodes may start at
 * once: Kysely's migrator holds an advisory lock while it migrates, so one migrates and the
 * others find the work done. Each unit of work is its own transaction (PostgreSQL group-commits
 * concurrent commits itself); races are decided by conditional updates and row locks inside the
 * store (docs/decisions/012).
 */
export async function openPostgresStore(
  url: string,
  options: PostgresOptions = {},
): Promise<KyselySessionStore> {
  // A database that drops packets must fail requests (and /readyz) in seconds, not hang them.
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    types,
  });
  // An idle client losing its connection (a database restart) must not crash the process; the
  // pool replaces it and the next query reports the failure to its caller.
  pool.on('error', () => {});
  // A client checked out of the pool has no error listener of the pool's (only idle ones do), and
  // node-postgres also emits 'error' on it when its connection dies: with no listener that is
  // an uncaught exception, and a PostgreSQL restart with a query in flight killed the node
  // (found by the chaos suite). The query itself is rejected, and answered 503; the dead
  // client is not queryable any more, so the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({
    dialect: new OwnSchemaPostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()],
  });
  try {
    await migrateToLatest(db, 'postgres');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselySessionStore(db, transactionPerWork(db), 'postgres');
}
