import { type Kysely, Migrator, sql } from 'kysely';
import { type Dialect, migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one: name the
  // schema the connection works in, so databases sharing a server (or schemas sharing a
  // database) never mistake each other's migrations for their own.
  const schema =
    dialect === 'postgres'
      ? (await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
