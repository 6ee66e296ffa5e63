import type { Database as SQLiteDatabase, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

const MAX_STATEMENTS = 512;

/**
 * Kysely's SQLite driver prepares every query anew, which was a tenth of a refresh's CPU time.
 * Kysely emits the same SQL text for the same query shape, so prepared statements can be
 * reused. A statement still being iterated (streaming) is busy and is never handed out twice.
 */
export function withStatementCache(database: SQLiteDatabase): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = database.prepare(sql);
      if (!cached) {
        if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
