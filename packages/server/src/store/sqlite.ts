import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CamelCasePlugin, Kysely, SqliteDialect } from 'kysely';
import { GroupCommit } from './group-commit.js';
import { KyselySessionStore } from './kysely-store.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';
import { withStatementCache } from './statement-cache.js';

/**
 * Opens (creating if needed) the SQLite database and brings its schema up to date.
 * WAL lets readers proceed during a write; synchronous=FULL fsyncs the WAL at every commit so
 * an acknowledged write survives power loss, not only a crash (docs/decisions/002); group commit
 * shares one fsync among the writes that arrive together (docs/decisions/005).
 */
export async function openSQLiteStore(file: string): Promise<KyselySessionStore> {
  mkdirSync(dirname(file), { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(database) }),
    plugins: [new CamelCasePlugin()],
  });
  await migrateToLatest(db, 'sqlite');
  return new KyselySessionStore(db, new GroupCommit(db, database).transact, 'sqlite');
}
