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

/** Runs SQL on its own short connection to `url` (default: the test server), and answers its rows. */
export async function queryOnce<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values?: unknown[],
  url: string = testDatabaseURL(),
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A fresh, empty schema on the test PostgreSQL: cheap isolation for each server or store. */
export async function createTestSchema(): Promise<TestSchema> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  await queryOnce(`CREATE SCHEMA ${name}`);
  const url = new URL(testDatabaseURL());
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: url.toString(),
    name,
    query: (text, values) => queryOnce(text, values, url.toString()),
    drop: async () => {
      await queryOnce(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    },
  };
}
