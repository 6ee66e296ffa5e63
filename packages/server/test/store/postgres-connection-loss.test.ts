import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isStorageFailure } from '../../src/http/storage-errors.js';
import type { KyselySessionStore } from '../../src/store/kysely-store.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { createTestSchema, queryOnce, type TestSchema } from '../helpers/postgres.js';

// Found by the chaos suite (issue 12): a PostgreSQL restart with a query in flight killed the
// node. node-postgres emits 'error' on a checked-out client whose connection dies, and a
// checked-out client had no listener: an uncaught exception. The query must fail instead (a
// storage failure, answered 503), the process must live, and the pool must carry on.
let schema: TestSchema;
let store: KyselySessionStore;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => {
  uncaught.push(error);
};
beforeAll(async () => {
  schema = await createTestSchema();
  store = await openPostgresStore(schema.url, { poolSize: 2 });
  process.on('uncaughtException', onUncaught);
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await store?.close();
  await schema?.drop();
});

it('a connection cut under a running transaction fails that transaction, not the process', async () => {
  const { db } = store.database;
  const marker = `chaos_${Date.now()}`;
  // Inside a transaction, as every write is: the client stays checked out for the ROLLBACK.
  const running = db.transaction().execute((trx) => sql`SELECT pg_sleep(10), ${marker}::text`.execute(trx));
  const outcome = running.then(
    () => 'finished',
    (error: unknown) => error,
  );
  // Wait for the query to reach the server, then end its backend as a shutdown would (57P01).
  for (let i = 0; i < 100; i++) {
    const [row] = await queryOnce<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(10)%' AND pid <> pg_backend_pid()",
    );
    if (Number(row?.n) > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await queryOnce(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(10)%' AND pid <> pg_backend_pid()",
  );
  const error = await outcome;
  expect(error).toBeInstanceOf(Error);
  expect(isStorageFailure(error)).toBe(true);
  // Give the client's 'end' (the late 'error' event) time to fire.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(uncaught).toEqual([]);
  // The dead client was dropped: the store answers on a fresh connection.
  expect(await store.findUserById('nobody')).toBeUndefined();
  await store.ping();
});
