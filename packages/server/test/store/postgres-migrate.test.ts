import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres.js';
import { createTestSchema, queryOnce, type TestSchema, testDatabaseURL } from '../helpers/postgres.js';

// Issue 7: nodes start against a database that may hold other schemas. Kysely's Migrator
// introspects before it migrates, and Kysely's own PostgreSQL introspector resolved every table
// of the database by name: a table someone else dropped meanwhile failed a node's start (seen in
// the suite, a test dropping its schema while another's server started). sessiond's dialect
// introspects its own schema only (store/own-schema-dialect.ts).
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Creates and drops tables in a schema of its own, as fast as it can, until stopped. */
function churnTables(schema: string): { stop(): Promise<number> } {
  let running = true;
  const client = new pg.Client({ connectionString: testDatabaseURL() });
  const done = (async () => {
    await client.connect();
    let drops = 0;
    try {
      for (let i = 0; running; i++) {
        await client.query(`CREATE TABLE ${schema}.t${i} (id serial PRIMARY KEY, a text, b text, c text)`);
        await client.query(`DROP TABLE ${schema}.t${i}`);
        drops += 1;
      }
    } finally {
      await client.end();
    }
    return drops;
  })();
  return {
    stop: async () => {
      running = false;
      return done;
    },
  };
}

it('starts while tables elsewhere in the database are dropped under its introspection', async () => {
  const other = `other_${randomBytes(6).toString('hex')}`;
  await queryOnce(`CREATE SCHEMA ${other}`);
  cleanups.push(async () => {
    await queryOnce(`DROP SCHEMA IF EXISTS ${other} CASCADE`);
  });
  const churn = churnTables(other);
  const failures: string[] = [];
  const starts = 15;
  try {
    for (let i = 0; i < starts; i++) {
      const schema: TestSchema = await createTestSchema();
      cleanups.push(() => schema.drop());
      try {
        const store = await openPostgresStore(schema.url, { poolSize: 1 });
        await store.close();
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  } finally {
    expect(await churn.stop()).toBeGreaterThan(starts);
  }
  expect(failures).toEqual([]);
});
