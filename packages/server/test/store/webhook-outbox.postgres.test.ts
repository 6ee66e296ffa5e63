import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KyselySessionStore } from '../../src/store/kysely-store.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { WebhookStore } from '../../src/webhooks/webhook-store.js';
import { createTestSchema, type TestSchema } from '../helpers/postgres.js';

/**
 * The audit log as webhook outbox on PostgreSQL, where ids are drawn before commit: a row must
 * never be passed over because a higher id committed first, and one node delivers at a time.
 */
describe('webhook outbox on PostgreSQL', () => {
  let schema: TestSchema;
  let store: KyselySessionStore;
  let outbox: WebhookStore;

  beforeEach(async () => {
    schema = await createTestSchema();
    store = await openPostgresStore(schema.url, { poolSize: 4 });
    outbox = new WebhookStore(store.database);
  });
  afterEach(async () => {
    await store.close();
    await schema.drop();
  });

  const insertLog = (client: pg.Client, action: string) =>
    client.query(`INSERT INTO session_logs (action, success, created_at) VALUES ($1, 1, 0) RETURNING id`, [
      action,
    ]);

  it('reads no row past one whose transaction is still open, then both in a stable order', async () => {
    await outbox.ensureCursors(['https://hooks.example/a']);
    const cursor = (await outbox.findCursor('https://hooks.example/a'))!;
    const slow = new pg.Client({ connectionString: schema.url });
    const fast = new pg.Client({ connectionString: schema.url });
    await Promise.all([slow.connect(), fast.connect()]);
    try {
      await slow.query('BEGIN');
      const lowId = Number((await insertLog(slow, 'login')).rows[0].id);
      await fast.query('BEGIN');
      const highId = Number((await insertLog(fast, 'logout')).rows[0].id);
      await fast.query('COMMIT');
      expect(lowId).toBeLessThan(highId);
      // The higher id is committed and visible, but reading it now would skip the lower one
      // for good once the cursor moved past it.
      expect(await outbox.logsAfter(cursor.position, 10)).toEqual([]);

      await slow.query('COMMIT');
      // Transactions anywhere on the server (other databases too) can hold the horizon back a
      // moment: the rows come once every older transaction has finished.
      let rows = await outbox.logsAfter(cursor.position, 10);
      for (let tries = 0; rows.length < 2 && tries < 100; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        rows = await outbox.logsAfter(cursor.position, 10);
      }
      expect(rows.map((row) => row.log.id).sort()).toEqual([lowId, highId].sort());
      // Past the first row, the second remains: positions order the rows for good.
      expect((await outbox.logsAfter(rows[0]!.position, 10)).map((row) => row.log.id)).toEqual([
        rows[1]!.log.id,
      ]);
    } finally {
      await Promise.all([slow.end(), fast.end()]);
    }
  });

  it('lets one node hold an endpoint’s delivery lease until it releases it or it runs out', async () => {
    await outbox.ensureCursors(['https://hooks.example/a']);
    const endpoint = 'https://hooks.example/a';
    const now = 1_000_000;
    const claims = await Promise.all(
      ['node-a', 'node-b', 'node-c'].map((node) => outbox.lease(endpoint, node, now, 30_000)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    const holder = ['node-a', 'node-b', 'node-c'][claims.indexOf(true)]!;
    const other = holder === 'node-a' ? 'node-b' : 'node-a';
    expect(await outbox.lease(endpoint, holder, now + 10_000, 30_000)).toBe(true);
    expect(await outbox.lease(endpoint, other, now + 20_000, 30_000)).toBe(false);
    // The holder vanished: its lease runs out and another node takes over.
    expect(await outbox.lease(endpoint, other, now + 40_000, 30_000)).toBe(true);
    await outbox.release(endpoint, other);
    expect(await outbox.lease(endpoint, holder, now + 40_001, 30_000)).toBe(true);
  });
});
