import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { applyStateOperation, type JSONObject, type StateOperation } from '@sessiond/protocol';
import { refresh, request } from '../helpers/api.js';
import type { ChaosDatabase } from './chaos-database.js';
import type { LoadRecord } from './load.js';

/**
 * The invariants every chaos scenario ends with, read from the database itself (past every
 * server and cache) and, for revocation, asked of every node that runs:
 * 1. durable: every 2xx refresh, revoke, logout and state operation is in the database;
 * 2. at most one live refresh token per session (none for an ended one);
 * 3. revocation is monotonic: a session acknowledged as ended is ended, and refused, after
 *    every restart the fault caused;
 * 4. the audit log matches the state: one login row per session, one end row per ended
 *    session and none for a live one, one `refresh` row per rotation counted on the session;
 * 5. every acknowledged state operation is applied exactly once, under the seq it was
 *    acknowledged with; nothing is applied that was not sent; seqs have no hole; each document
 *    is its stored operations applied in order.
 * `lost` counts breaches of 1 and 5's "acknowledged but not there"; `violations` lists every breach.
 */
export interface InvariantReport {
  lost: number;
  violations: string[];
}

const sha256 = (token: string): string => createHash('sha256').update(token).digest('base64url');

const END_ACTIONS = [
  'logout',
  'session_revoked',
  'refresh_reuse_detected',
  'session_expired',
  'device_forgotten',
];

export async function checkInvariants(
  db: ChaosDatabase,
  record: LoadRecord,
  options: { nodeURLs: readonly string[] },
): Promise<InvariantReport> {
  const violations: string[] = [];
  let lost = 0;
  const breach = (message: string, options: { lost?: boolean } = {}): void => {
    violations.push(message);
    if (options.lost) lost += 1;
  };
  // A client can only be told a 5xx was "nothing kept" or a 2xx was kept; anything else it saw
  // (a 500, a valid token refused) is a breach of the contract on its own.
  for (const unexpected of record.unexpected) breach(`unexpected answer: ${unexpected}`);

  await checkSessions(db, record, breach);
  await checkOneLiveToken(db, breach);
  await checkRevocationsRefused(record, options.nodeURLs, breach);
  await checkAuditLog(db, record, breach);
  await checkOperations(db, record, breach);
  return { lost, violations };
}

type Breach = (message: string, options?: { lost?: boolean }) => void;

async function checkSessions(db: ChaosDatabase, record: LoadRecord, breach: Breach): Promise<void> {
  for (const session of record.sessions.values()) {
    const [row] = await db.query<{ ended_at: number | string | null; end_reason: string | null }>(
      'SELECT ended_at, end_reason FROM sessions WHERE id = ?',
      [session.sessionId],
    );
    if (!row) {
      breach(`session ${session.sessionId}: acknowledged by a sign-in, not stored`, { lost: true });
      continue;
    }
    if (session.ended && row.ended_at === null) {
      breach(`session ${session.sessionId}: its ${session.ended} was acknowledged, it is live`, {
        lost: true,
      });
    }
    for (const [generation, token] of session.refreshTokens.entries()) {
      const [stored] = await db.query<{ session_id: string; status: string }>(
        'SELECT session_id, status FROM refresh_tokens WHERE token_hash = ?',
        [sha256(token)],
      );
      if (!stored || stored.session_id !== session.sessionId) {
        breach(`session ${session.sessionId}: refresh token #${generation} was handed out, not stored`, {
          lost: true,
        });
        continue;
      }
      const latest = generation === session.refreshTokens.length - 1;
      if (latest && row.ended_at === null && stored.status !== 'active') {
        breach(`session ${session.sessionId}: the latest token handed out is ${stored.status}, not active`, {
          lost: true,
        });
      }
    }
  }
}

async function checkOneLiveToken(db: ChaosDatabase, breach: Breach): Promise<void> {
  const doubles = await db.query<{ session_id: string; live: number | string }>(
    "SELECT session_id, COUNT(*) AS live FROM refresh_tokens WHERE status = 'active' GROUP BY session_id HAVING COUNT(*) > 1",
  );
  for (const row of doubles) breach(`session ${row.session_id}: ${row.live} live refresh tokens`);
  const afterEnd = await db.query<{ session_id: string }>(
    "SELECT t.session_id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.status = 'active' AND s.ended_at IS NOT NULL",
  );
  for (const row of afterEnd) breach(`session ${row.session_id}: ended, yet a refresh token is live`);
}

/** Every node still refuses every session it was told had ended, by refresh and by access token. */
async function checkRevocationsRefused(
  record: LoadRecord,
  nodeURLs: readonly string[],
  breach: Breach,
): Promise<void> {
  for (const session of record.sessions.values()) {
    if (!session.ended) continue;
    for (const url of nodeURLs) {
      const refreshed = await untilAnswered(() => refresh(url, session.refreshTokens.at(-1)!));
      if (refreshed.status === 200)
        breach(`session ${session.sessionId} (${session.ended}): refreshed on ${url}`);
      const status = await untilAnswered(() =>
        request(url, 'GET', '/api/auth/session/status', { token: session.accessToken }),
      );
      if (status.status === 200)
        breach(`session ${session.sessionId} (${session.ended}): accepted on ${url}`);
    }
  }
}

/** A node the fault hook still kills now and then is started again by its supervisor: ask again. */
async function untilAnswered<T extends { status: number }>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const answer = await call();
      if (answer.status !== 503 || Date.now() > deadline) return answer;
    } catch (error) {
      if (!(error instanceof TypeError) || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function checkAuditLog(db: ChaosDatabase, record: LoadRecord, breach: Breach): Promise<void> {
  const userIds = [...new Set([...record.sessions.values()].map((session) => session.userId))];
  for (const userId of userIds) {
    const sessions = await db.query<{ id: string; ended_at: unknown; refresh_count: number | string }>(
      'SELECT id, ended_at, refresh_count FROM sessions WHERE user_id = ?',
      [userId],
    );
    const logs = await db.query<{
      session_id: string;
      action: string;
      success: number;
      detail: string | null;
    }>('SELECT session_id, action, success, detail FROM session_logs WHERE user_id = ?', [userId]);
    for (const session of sessions) {
      const mine = logs.filter((log) => log.session_id === session.id);
      const logins = mine.filter((log) => log.action === 'login').length;
      if (logins !== 1) breach(`session ${session.id}: ${logins} login rows`);
      const ends = mine.filter((log) => END_ACTIONS.includes(log.action)).length;
      const ended = session.ended_at !== null;
      if (ends !== (ended ? 1 : 0))
        breach(`session ${session.id}: ${ended ? 'ended' : 'live'} with ${ends} end rows`);
      // A grace answer is logged as a refresh too, but rotates nothing (detail.grace).
      const rotations = mine.filter(
        (log) =>
          log.action === 'refresh' &&
          Number(log.success) === 1 &&
          !String(log.detail ?? '').includes('"grace"'),
      ).length;
      if (rotations !== Number(session.refresh_count)) {
        breach(`session ${session.id}: refresh_count ${session.refresh_count}, ${rotations} refresh rows`);
      }
    }
  }
}

async function checkOperations(db: ChaosDatabase, record: LoadRecord, breach: Breach): Promise<void> {
  const sentBy = new Map<string, Map<string, (typeof record.operations)[number]>>();
  for (const operation of record.operations) {
    const forUser = sentBy.get(operation.userId) ?? new Map();
    forUser.set(operation.clientOpId, operation);
    sentBy.set(operation.userId, forUser);
  }
  for (const [userId, sent] of sentBy) {
    const stored = await db.query<{
      seq: number | string;
      namespace: string;
      client_op_id: string;
      operation: string;
    }>(
      'SELECT seq, namespace, client_op_id, operation FROM state_operations WHERE user_id = ? ORDER BY seq',
      [userId],
    );
    const seqs = stored.map((row) => Number(row.seq));
    if (seqs.some((seq, i) => seq !== i + 1))
      breach(`user ${userId}: seqs are not 1..${seqs.length}: ${seqs}`);
    const storedAt = new Map<string, number[]>();
    for (const row of stored)
      storedAt.set(row.client_op_id, [...(storedAt.get(row.client_op_id) ?? []), Number(row.seq)]);
    for (const [clientOpId, at] of storedAt) {
      if (at.length > 1) breach(`op ${clientOpId}: applied ${at.length} times (seqs ${at})`);
      if (!sent.has(clientOpId)) breach(`op ${clientOpId}: applied, never sent`);
    }
    for (const operation of sent.values()) {
      if (operation.ackedSeq === undefined) continue;
      const at = storedAt.get(operation.clientOpId);
      if (!at)
        breach(`op ${operation.clientOpId} (${operation.via}): acknowledged, not stored`, { lost: true });
      else if (at[0] !== operation.ackedSeq) {
        breach(`op ${operation.clientOpId}: acknowledged as seq ${operation.ackedSeq}, stored as ${at[0]}`);
      }
    }
    for (const namespace of new Set(stored.map((row) => row.namespace))) {
      const expected = stored
        .filter((row) => row.namespace === namespace)
        .reduce<JSONObject>(
          (document, row) => applyStateOperation(document, JSON.parse(row.operation) as StateOperation),
          {},
        );
      const [document] = await db.query<{ document: string; version: number | string }>(
        'SELECT document, version FROM state_documents WHERE user_id = ? AND namespace = ?',
        [userId, namespace],
      );
      if (!document || !isDeepStrictEqual(JSON.parse(document.document), expected)) {
        breach(`user ${userId} ${namespace}: the document is not its operations applied in order`);
      }
    }
  }
}
