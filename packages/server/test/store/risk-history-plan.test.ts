import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { CamelCasePlugin, Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GroupCommit } from '../../src/store/group-commit.js';
import { KyselySessionStore } from '../../src/store/kysely-store.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { Database } from '../../src/store/schema.js';

// Every sign-in reads the user's risk history. Its queries must use the user's own rows (and the
// IP's failed logins), never an index over everyone's: with the global (action, created_at),
// (ip, created_at) and (ended_at, idle_expires_at) indexes, sign-in slowed as the server filled
// (bench row 3b fell from 435 to 47 req/s over three runs). The plans SQLite chooses, read for
// the statements the store really runs.
const dir = mkdtempSync(join(tmpdir(), 'sessiond-plan-'));
const statements: Array<{ sql: string; parameters: readonly unknown[] }> = [];
let sqlite: SQLite.Database;
let store: KyselySessionStore;

beforeAll(async () => {
  sqlite = new SQLite(join(dir, 'plan.db'));
  const db = new Kysely<Database>({
    // The statements as prepared, with their parameters: a partial index that a literal would
    // reach can be out of reach of the same query with a bound parameter.
    log: (event) => {
      if (event.level === 'query')
        statements.push({ sql: event.query.sql, parameters: event.query.parameters });
    },
    dialect: new SqliteDialect({ database: sqlite }),
    plugins: [new CamelCasePlugin()],
  });
  await migrateToLatest(db, 'sqlite');
  store = new KyselySessionStore(db, new GroupCommit(db, sqlite).transact, 'sqlite');
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('reads the risk history through per-user and per-IP indexes only', async () => {
  statements.length = 0;
  await store.riskHistory({ userId: 'u-1', ip: '203.0.113.9', since: 0, now: 1 });
  const queries = statements.filter((statement) => /^select/i.test(statement.sql));
  expect(queries.length).toBeGreaterThanOrEqual(5);
  for (const { sql: text, parameters } of queries) {
    const plan = sqlite
      .prepare(`EXPLAIN QUERY PLAN ${text}`)
      .all(...(parameters as unknown[]))
      .map((row) => (row as { detail: string }).detail)
      .join(' | ');
    expect(plan, text).toMatch(
      /USING (COVERING )?INDEX (session_logs_user_\w+|session_logs_failed_ip_idx|sessions_user_live_idx)/,
    );
    expect(plan, text).not.toMatch(/SCAN |TEMP B-TREE/);
  }
});
