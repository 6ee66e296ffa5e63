import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL the suites share, started by `npm test` (scripts/services.sh). A suite that
 * needs it and does not find it fails with this message: nothing is skipped silently.
 */
export function testDatabaseURL(): string {
  const url = process.env.SESSIOND_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'SESSIOND_TEST_DATABASE_URL is not set: run the suite with `npm test` (it starts PostgreSQL and Redis), or point it at a PostgreSQL you can create schemas in',
    );
  }
  return url;
}

export function testRedisURL(): string {
  const url = process.env.SESSIOND_TEST_REDIS_URL;
  if (!url) {
    throw new Error(
      'SESSIOND_TEST_REDIS_URL is not set: run the suite with `npm test` (it starts PostgreSQL and Redis), or point it at a Redis',
    );
  }
  return url;
}

/** True when the whole suite runs on PostgreSQL (the second pass of `npm test`). */
export function suiteOnPostgres(): boolean {
  return process.env.SESSIOND_TEST_STORE === 'postgres';
}

export interface TestSchema {
  /** A connection URL whose search_path is the new schema: a database of its own, in effect. */
  url: string;
  name: string;
  /** Runs SQL against the schema (assertions on what is stored). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** A fresh, empty schema on the test PostgreSQL: cheap isolation for each server or store. */
export async function createTestSchema(): Promise<TestSchema> {
  const base = testDatabaseURL();
  const name = `t_${randomBytes(8).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: url.toString(),
    name,
    async query(text, values) {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
