import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sqliteDatabase } from './chaos-database.js';
import { checkInvariants } from './invariants.js';
import { LoadGenerator, type LoadRecord } from './load.js';
import { pause } from './scenario.js';

// The checker's own rejection paths: a run without a fault passes it, and each way the database
// could break an invariant is reported (a checker that finds nothing proves nothing).
let server: TestServer;
let record: LoadRecord;
let file: string;
beforeAll(async () => {
  server = await startTestServer({
    env: { SESSIOND_STATE_OPS_PER_SECOND: '100000', SESSIOND_STATE_OPS_BURST: '100000' },
  });
  file = join(server.dataDir, 'sessiond.db');
  const load = new LoadGenerator({ urls: () => [server.url] }, { clients: 2, endEvery: 2 });
  await load.start();
  await pause(400);
  record = await load.stop();
});
afterAll(async () => {
  await server?.close();
});

const sha256 = (token: string): string => createHash('sha256').update(token).digest('base64url');

async function violationsAfter(tamper: (db: SQLite.Database) => void): Promise<string[]> {
  const writable = new SQLite(file);
  writable.exec('BEGIN');
  try {
    tamper(writable);
    const db = sqliteDatabase(file);
    try {
      // Read-only connections see the tampered state only once committed; undo it afterwards.
      writable.exec('COMMIT');
      return (await checkInvariants(db, record, { nodeURLs: [] })).violations;
    } finally {
      await db.close();
    }
  } finally {
    writable.close();
  }
}

it('an honest run has no violation', async () => {
  expect(record.acknowledged).toBeGreaterThan(10);
  expect([...record.sessions.values()].some((session) => session.ended)).toBe(true);
  const db = sqliteDatabase(file);
  expect(await checkInvariants(db, record, { nodeURLs: [server.url] })).toEqual({ lost: 0, violations: [] });
  await db.close();
});

const acked = () => record.operations.find((operation) => operation.ackedSeq !== undefined)!;
const ended = () => [...record.sessions.values()].find((session) => session.ended)!;
const live = () => [...record.sessions.values()].find((session) => !session.ended)!;

it('reports an acknowledged operation that is not stored, as lost', async () => {
  const operation = acked();
  const snapshot = new SQLite(file, { readonly: true })
    .prepare('SELECT * FROM state_operations WHERE user_id = ? AND client_op_id = ?')
    .get(operation.userId, operation.clientOpId) as Record<string, unknown>;
  const violations = await violationsAfter((db) =>
    db
      .prepare('DELETE FROM state_operations WHERE user_id = ? AND client_op_id = ?')
      .run(operation.userId, operation.clientOpId),
  );
  expect(violations.join('\n')).toContain(
    `op ${operation.clientOpId} (${operation.via}): acknowledged, not stored`,
  );
  await violationsAfter((db) => {
    const columns = Object.keys(snapshot);
    db.prepare(
      `INSERT INTO state_operations (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    ).run(...Object.values(snapshot));
  });
});

it('reports a second live refresh token', async () => {
  const session = live();
  const violations = await violationsAfter((db) =>
    db
      .prepare(
        "INSERT INTO refresh_tokens (id, session_id, token_hash, status, created_at) VALUES (?, ?, ?, 'active', 0)",
      )
      .run(randomUUID(), session.sessionId, sha256(randomUUID())),
  );
  expect(violations).toContain(`session ${session.sessionId}: 2 live refresh tokens`);
  await violationsAfter((db) =>
    db.prepare('DELETE FROM refresh_tokens WHERE session_id = ? AND created_at = 0').run(session.sessionId),
  );
});

it('reports a session acknowledged as ended that is live again', async () => {
  const session = ended();
  const [row] = new SQLite(file, { readonly: true })
    .prepare('SELECT ended_at, end_reason FROM sessions WHERE id = ?')
    .all(session.sessionId) as Array<{ ended_at: number; end_reason: string }>;
  const violations = await violationsAfter((db) =>
    db.prepare('UPDATE sessions SET ended_at = NULL WHERE id = ?').run(session.sessionId),
  );
  expect(violations).toContain(
    `session ${session.sessionId}: its ${session.ended} was acknowledged, it is live`,
  );
  expect(violations).toContain(`session ${session.sessionId}: live with 1 end rows`);
  await violationsAfter((db) =>
    db.prepare('UPDATE sessions SET ended_at = ? WHERE id = ?').run(row!.ended_at, session.sessionId),
  );
});

it('reports a document that is not its operations applied in order', async () => {
  const operation = acked();
  const read = new SQLite(file, { readonly: true });
  const [row] = read
    .prepare('SELECT document FROM state_documents WHERE user_id = ? AND namespace = ?')
    .all(operation.userId, operation.namespace) as Array<{ document: string }>;
  read.close();
  const violations = await violationsAfter((db) =>
    db
      .prepare("UPDATE state_documents SET document = '{}' WHERE user_id = ? AND namespace = ?")
      .run(operation.userId, operation.namespace),
  );
  expect(violations).toContain(
    `user ${operation.userId} ${operation.namespace}: the document is not its operations applied in order`,
  );
  await violationsAfter((db) =>
    db
      .prepare('UPDATE state_documents SET document = ? WHERE user_id = ? AND namespace = ?')
      .run(row!.document, operation.userId, operation.namespace),
  );
});

it('reports an audit log that does not match the sessions', async () => {
  const session = live();
  const violations = await violationsAfter((db) =>
    db.prepare('UPDATE sessions SET refresh_count = refresh_count + 1 WHERE id = ?').run(session.sessionId),
  );
  expect(violations.join('\n')).toMatch(
    new RegExp(`session ${session.sessionId}: refresh_count \\d+, \\d+ refresh rows`),
  );
});
