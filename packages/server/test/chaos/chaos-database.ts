import SQLite from 'better-sqlite3';
import pg from 'pg';

/**
 * The database the invariant checker reads directly, past every server: the SQLite file or the
 * cluster's PostgreSQL database. SQL is written once with `?` placeholders.
 */
export interface ChaosDatabase {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export function postgresDatabase(url: string): ChaosDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  return {
    async query<R>(text: string, values: unknown[] = []): Promise<R[]> {
      let n = 0;
      const numbered = text.replace(/\?/g, () => `$${++n}`);
      return (await pool.query(numbered, values)).rows as R[];
    },
    close: () => pool.end(),
  };
}

/** Read-only, so the checker can never be the one that repairs what a crash left. */
export function sqliteDatabase(file: string): ChaosDatabase {
  const database = new SQLite(file, { readonly: true, fileMustExist: true });
  return {
    async query<R>(text: string, values: unknown[] = []): Promise<R[]> {
      return database.prepare(text).all(...values) as R[];
    },
    async close(): Promise<void> {
      database.close();
    },
  };
}
