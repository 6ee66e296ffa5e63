import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KyselySessionStore } from '../../src/store/kysely-store.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import { openSQLiteStore } from '../../src/store/sqlite.js';
import { createTestSchema, type TestSchema } from '../helpers/postgres.js';

// Issue 7: one set of migrations gives both dialects the same schema, so the store code (and any
// SQL an operator writes against it) means the same thing on either. Compared as each database
// describes itself after migrating: tables, columns, primary keys and the indexes we create.

/** A column as both dialects can describe it: its type reduced to the family the code relies on. */
interface ColumnShape {
  name: string;
  type: 'text' | 'integer' | 'other';
  nullable: boolean;
  /** A value of its own when none is given: a constant, or a generated key. */
  default: 'none' | 'value' | 'generated';
}

interface SchemaShape {
  tables: Record<string, ColumnShape[]>;
  primaryKeys: Record<string, string[]>;
  /** Our own indexes (not those behind a primary key or unique constraint): name → table(columns). */
  indexes: Record<string, string>;
}

function typeFamily(dataType: string): ColumnShape['type'] {
  const type = dataType.toLowerCase();
  if (type === 'text') return 'text';
  if (['integer', 'bigint', 'int4', 'int8'].includes(type)) return 'integer';
  return 'other';
}

async function tablesOf(db: Kysely<Database>): Promise<SchemaShape['tables']> {
  const tables = await db.introspection.getTables();
  return Object.fromEntries(
    tables
      .map((table) => [
        table.name,
        table.columns
          .map((column) => ({
            name: column.name,
            type: typeFamily(column.dataType),
            nullable: column.isNullable,
            // A PostgreSQL serial key has a default (nextval); SQLite's AUTOINCREMENT key does not.
            default: column.isAutoIncrementing ? 'generated' : column.hasDefaultValue ? 'value' : 'none',
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      ])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
}

async function sqliteShape(db: Kysely<Database>): Promise<SchemaShape> {
  const tables = await tablesOf(db);
  const primaryKeys: SchemaShape['primaryKeys'] = {};
  for (const table of Object.keys(tables)) {
    const { rows } = await sql<{
      name: string;
      pk: number;
    }>`SELECT name, pk FROM pragma_table_info(${table})`.execute(db);
    primaryKeys[table] = rows
      .filter((row) => row.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((row) => row.name);
  }
  // SQLite's one known divergence: a PRIMARY KEY that is not an INTEGER one accepts NULL unless
  // declared NOT NULL (a legacy SQLite quirk; PostgreSQL implies NOT NULL). sessiond always
  // writes its keys, so the two behave the same for it; the shape records what PostgreSQL says.
  for (const [table, columns] of Object.entries(tables)) {
    for (const column of columns) {
      if (primaryKeys[table]?.includes(column.name)) column.nullable = false;
    }
  }
  const { rows: indexRows } = await sql<{ name: string; table: string; columns: string }>`
    SELECT m.name AS name, m.tbl_name AS "table",
           (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(m.name) ORDER BY seqno)) AS columns
    FROM sqlite_master m
    WHERE m.type = 'index' AND m.name NOT LIKE 'sqlite_autoindex_%' AND m.tbl_name NOT LIKE 'kysely_%'`.execute(
    db,
  );
  return { tables, primaryKeys, indexes: indexMap(indexRows) };
}

async function postgresShape(db: Kysely<Database>): Promise<SchemaShape> {
  const tables = await tablesOf(db);
  const { rows: keyRows } = await sql<{ table: string; column: string }>`
    SELECT k.table_name AS "table", k.column_name AS "column"
    FROM information_schema.table_constraints c
    JOIN information_schema.key_column_usage k
      ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema
    WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema()
      AND k.table_name NOT LIKE 'kysely_%'
    ORDER BY k.table_name, k.ordinal_position`.execute(db);
  const primaryKeys: SchemaShape['primaryKeys'] = Object.fromEntries(Object.keys(tables).map((t) => [t, []]));
  for (const row of keyRows) primaryKeys[row.table]?.push(row.column);
  // Indexes that back no constraint (a primary key or UNIQUE makes its own, named by the dialect).
  const { rows: indexRows } = await sql<{ name: string; table: string; columns: string }>`
    SELECT i.relname AS name, t.relname AS "table",
           string_agg(a.attname, ',' ORDER BY k.ordinality) AS columns
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ordinality)
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
    WHERE n.nspname = current_schema() AND t.relname NOT LIKE 'kysely_%'
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
    GROUP BY i.relname, t.relname`.execute(db);
  return { tables, primaryKeys, indexes: indexMap(indexRows) };
}

function indexMap(
  rows: ReadonlyArray<{ name: string; table: string; columns: string }>,
): Record<string, string> {
  return Object.fromEntries(
    rows.map((row) => [row.name, `${row.table}(${row.columns})`]).sort(([a], [b]) => a!.localeCompare(b!)),
  );
}

let sqliteStore: KyselySessionStore;
let postgresStore: KyselySessionStore;
let schema: TestSchema;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sessiond-parity-'));
  sqliteStore = await openSQLiteStore(join(dir, 'parity.db'));
  schema = await createTestSchema();
  postgresStore = await openPostgresStore(schema.url, { poolSize: 2 });
});
afterAll(async () => {
  await sqliteStore?.close();
  await postgresStore?.close();
  await schema?.drop();
  rmSync(dir, { recursive: true, force: true });
});

it('the migrations give SQLite and PostgreSQL the same tables, columns, keys and indexes', async () => {
  const onSQLite = await sqliteShape(sqliteStore.database.db);
  const onPostgres = await postgresShape(postgresStore.database.db);

  // Not vacuous: the schema has its tables, and the indexes the queries rely on.
  expect(Object.keys(onSQLite.tables)).toEqual(
    expect.arrayContaining(['users', 'sessions', 'refresh_tokens']),
  );
  expect(Object.keys(onSQLite.indexes).length).toBeGreaterThan(3);
  // Every column's type is one the code handles the same way on both (text or a whole number).
  const otherTypes = Object.entries(onPostgres.tables).flatMap(([table, columns]) =>
    columns.filter((column) => column.type === 'other').map((column) => `${table}.${column.name}`),
  );
  expect(otherTypes).toEqual([]);

  expect(onPostgres.tables).toEqual(onSQLite.tables);
  expect(onPostgres.primaryKeys).toEqual(onSQLite.primaryKeys);
  expect(onPostgres.indexes).toEqual(onSQLite.indexes);
});
