import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KyselySessionStore } from '../../src/store/kysely-store.js';
import type { NewLogEntry, SessionRecord } from '../../src/store/records.js';
import type { RotationOutcome } from '../../src/store/session-store.js';
import { refresh, signUpAndIn } from '../helpers/api.js';
import { PostgresRoundTrips } from '../helpers/counting-postgres.js';
import { startTestServer } from '../helpers/test-server.js';
import { type FreshStore, freshPostgresStore, freshSQLiteStore } from './fresh-stores.js';

// Issue 18 (decision 038): on PostgreSQL a rotation is one statement, a stored function, so one
// round trip whatever its outcome; a whole refresh over HTTP at most two (the rotation and the
// device's trust). The function must keep decision 001's rules and write what the Kysely path
// writes on SQLite: the same outcomes, the same session, the same log rows.

const T0 = 1_800_000_000_000;
const IDLE = 30 * 60_000;
const GRACE = 10_000;

let roundTrips: PostgresRoundTrips;
beforeAll(() => {
  roundTrips = new PostgresRoundTrips();
});
afterAll(() => roundTrips.restore());

async function newSession(store: KyselySessionStore, overrides: Partial<SessionRecord> = {}) {
  const user = {
    id: randomUUID(),
    email: `${randomUUID()}@example.com`,
    passwordHash: 'hash',
    createdAt: T0,
  };
  await store.createUser(user);
  const session: SessionRecord = {
    id: randomUUID(),
    userId: user.id,
    deviceId: 'device-0001',
    clientId: 'default',
    acr: 'aal1',
    ip: '127.0.0.1',
    userAgent: 'first agent',
    authTime: T0,
    createdAt: T0,
    lastActivityAt: T0,
    idleTimeoutMs: IDLE,
    idleExpiresAt: T0 + IDLE,
    expiresAt: T0 + 14 * 86_400_000,
    endedAt: null,
    endReason: null,
    stepUpRequired: false,
    refreshCount: 0,
    reauthAt: null,
    reauthFactor: null,
    amr: ['pwd'],
    claims: { plan: 'pro' },
    ssoSessionId: null,
    scope: null,
    ...overrides,
  };
  const login: NewLogEntry = {
    action: 'login',
    success: true,
    userId: user.id,
    sessionId: session.id,
    deviceId: session.deviceId,
    ip: '127.0.0.1',
    userAgent: 'first agent',
    createdAt: T0,
  };
  const tokenHash = `hash-${randomUUID()}`;
  await store.createSession({
    session,
    refreshToken: { id: randomUUID(), sessionId: session.id, tokenHash, createdAt: T0 },
    logs: [login],
  });
  return { session, tokenHash };
}

function successor() {
  const id = randomUUID();
  return { id, tokenHash: `hash-${id}`, sealed: `sealed-${id}` };
}

function rotate(store: KyselySessionStore, tokenHash: string, now: number, next = successor()) {
  return store.rotateRefreshToken({
    tokenHash,
    successor: next,
    now,
    graceMs: GRACE,
    ip: '10.0.0.9',
    userAgent: 'second agent',
  });
}

/** Every outcome once, in one session's life (and a timed-out one), as the store reports them. */
async function everyOutcome(store: KyselySessionStore): Promise<RotationOutcome[]> {
  const { tokenHash } = await newSession(store);
  const next = successor();
  const timedOut = await newSession(store);
  return [
    await rotate(store, tokenHash, T0 + 1000, next),
    await rotate(store, tokenHash, T0 + 2000),
    await rotate(store, tokenHash, T0 + 1000 + GRACE),
    await rotate(store, next.tokenHash, T0 + 1000 + GRACE + 1),
    await rotate(store, 'hash-unknown', T0),
    await rotate(store, timedOut.tokenHash, T0 + IDLE),
  ];
}

/** What an outcome says, without the ids that differ from one run to the next. */
function comparable(outcome: RotationOutcome): unknown {
  if (outcome.kind === 'not_found') return outcome;
  const { id: _id, userId: _user, ...session } = outcome.session;
  return {
    ...outcome,
    session,
    ...(outcome.kind === 'grace' ? { successorSealed: outcome.successorSealed.startsWith('sealed-') } : {}),
  };
}

async function logRows(store: KyselySessionStore) {
  const rows = await store.database.db
    .selectFrom('sessionLogs')
    .select(['action', 'success', 'error', 'ip', 'userAgent', 'actor', 'detail', 'createdAt'])
    .orderBy('id')
    .execute();
  return rows;
}

describe('refresh rotation on PostgreSQL in one statement (issue 18)', () => {
  let postgres: FreshStore;
  beforeAll(async () => {
    postgres = await freshPostgresStore();
  });
  afterAll(async () => {
    await postgres.dispose();
  });

  it('takes one round trip whatever the outcome: rotated, grace, reused, ended, unknown, timed out', async () => {
    const store = postgres.store;
    const { tokenHash } = await newSession(store);
    const next = successor();
    const timedOut = await newSession(store);
    const cases: Array<[RotationOutcome['kind'], () => Promise<RotationOutcome>]> = [
      ['rotated', () => rotate(store, tokenHash, T0 + 1000, next)],
      ['grace', () => rotate(store, tokenHash, T0 + 2000)],
      ['reused', () => rotate(store, tokenHash, T0 + 1000 + GRACE)],
      ['session_ended', () => rotate(store, next.tokenHash, T0 + 1000 + GRACE + 1)],
      ['not_found', () => rotate(store, 'hash-unknown', T0)],
      ['session_ended', () => rotate(store, timedOut.tokenHash, T0 + IDLE)],
    ];
    for (const [kind, run] of cases) {
      const { result, statements } = await roundTrips.during(run);
      expect(result.kind).toBe(kind);
      expect(statements, kind).toHaveLength(1);
    }
  });

  it('answers and writes what the SQLite path does: outcomes, sessions, log rows and their detail text', async () => {
    const sqlite = await freshSQLiteStore();
    try {
      const onPostgres = await everyOutcome(postgres.store);
      const onSQLite = await everyOutcome(sqlite.store);
      expect(onPostgres.map((o) => o.kind)).toEqual([
        'rotated',
        'grace',
        'reused',
        'session_ended',
        'not_found',
        'session_ended',
      ]);
      expect(onPostgres.map(comparable)).toEqual(onSQLite.map(comparable));
      // The log rows of this test's sessions (the store is shared with the other test: the last ones).
      const sqliteRows = await logRows(sqlite.store);
      const postgresRows = (await logRows(postgres.store)).slice(-sqliteRows.length);
      expect(postgresRows).toEqual(sqliteRows);
      expect(postgresRows.map((row) => row.detail)).toContain('{"grace":true}');
      expect(postgresRows.map((row) => row.detail)).toContain(
        `{"rotated_at":${T0 + 1000},"grace_ms":${GRACE}}`,
      );
    } finally {
      await sqlite.dispose();
    }
  });

  it('returns the session as a read of it afterwards does, and the rotated token as the store keeps it', async () => {
    const store = postgres.store;
    const { session, tokenHash } = await newSession(store);
    const next = successor();
    const outcome = await rotate(store, tokenHash, T0 + 5000, next);
    expect(outcome).toEqual({
      kind: 'rotated',
      session: await store.findSession(session.id),
      previous: { ip: '127.0.0.1', userAgent: 'first agent' },
    });
    if (outcome.kind !== 'rotated') return;
    expect(outcome.session).toMatchObject({ ip: '10.0.0.9', userAgent: 'second agent', refreshCount: 1 });
    expect(outcome.session.amr).toEqual(['pwd']);
    expect(outcome.session.claims).toEqual({ plan: 'pro' });
    expect(await store.findRefreshToken(tokenHash)).toMatchObject({
      status: 'rotated',
      rotatedAt: T0 + 5000,
      successorId: next.id,
      successorSealed: next.sealed,
    });
    expect(await store.findRefreshToken(next.tokenHash)).toMatchObject({
      status: 'active',
      createdAt: T0 + 5000,
    });
  });

  it('gives its log rows their transaction id, which the webhook outbox orders by (decision 012)', async () => {
    const store = postgres.store;
    const { session, tokenHash } = await newSession(store);
    await rotate(store, tokenHash, T0 + 1000);
    const rows = await store.database.db
      .selectFrom('sessionLogs')
      .select(['action', 'txId'])
      .where('sessionId', '=', session.id)
      .orderBy('id')
      .execute();
    expect(rows.map((row) => row.action)).toEqual(['login', 'refresh']);
    expect(rows[1]!.txId).toBeGreaterThan(rows[0]!.txId);
  });
});

describe('a refresh over HTTP on PostgreSQL (issue 18)', () => {
  it('takes at most two round trips to PostgreSQL', async () => {
    vi.stubEnv('SESSIOND_TEST_STORE', 'postgres');
    const server = await startTestServer();
    vi.unstubAllEnvs();
    try {
      const signedIn = await signUpAndIn(server.url);
      // Warm: the pool's connections are open and the function's plan is cached.
      let token = signedIn.refresh_token;
      for (let i = 0; i < 3; i++) token = (await refresh(server.url, token)).body.refresh_token;
      const { result, statements } = await roundTrips.duringRequests(server.app.server, () =>
        refresh(server.url, token),
      );
      expect(result.status).toBe(200);
      expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(2);
      expect(statements[0]).toContain('sessiond_rotate_refresh_token');
    } finally {
      await server.close();
    }
  });
});
