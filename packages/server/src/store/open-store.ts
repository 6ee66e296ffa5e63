import { join } from 'node:path';
import type { Config } from '../config.js';
import type { KyselySessionStore } from './kysely-store.js';
import { openPostgresStore } from './postgres.js';
import { openSQLiteStore } from './sqlite.js';

/**
 * The store the configuration names: PostgreSQL when SESSIOND_DATABASE_URL is set (several
 * nodes may share it), else the embedded SQLite file in the data dir (one node owns it).
 */
export function openStore(config: Config): Promise<KyselySessionStore> {
  return config.databaseURL !== undefined
    ? openPostgresStore(config.databaseURL, { poolSize: config.databasePoolSize })
    : openSQLiteStore(join(config.dataDir, 'sessiond.db'));
}

/** Whether this process is the database's only writer (the embedded SQLite file, locked). */
export function isSoleWriter(config: Config): boolean {
  return config.databaseURL === undefined;
}
