import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetentionStore } from '../../src/retention/retention-store.js';
import type { KyselySessionStore } from '../../src/store/kysely-store.js';
import type { NewLogEntry, SessionRecord } from '../../src/store/records.js';
import { WebhookStore } from '../../src/webhooks/webhook-store.js';
import type { FreshStore } from './fresh-stores.js';

const T0 = 1_800_000_000_000;
const DAY = 86_400_000;

/**
 * Retention's deletions (decision 034) on a real store of each dialect: only rows past their
 * time go, at most `limit` per call, never an audit row the slowest outbox has not passed, never
 * what a session not yet ended needs.
 */
export function describeRetentionConformance(name: string, open: () => Promise<FreshStore>): void {
  describe(`retention: ${name}`, () => {
    let store: KyselySessionStore;
    let retention: RetentionStore;
    let dispose: () => Promise<void>;

    beforeEach(async () => {
      ({ store, dispose } = await open());
      retention = new RetentionStore(store.database);
    });
    afterEach(async () => {
      await dispose();
    });

    async function newUser(): Promise<string> {
      const id = randomUUID();
      await store.createUser({ id, email: `${id}@example.com`, passwordHash: 'hash', createdAt: T0 });
      return id;
    }

    function entry(userId: string, at: number, action: NewLogEntry['action'] = 'login'): NewLogEntry {
      return { action, success: true, userId, ip: '192.0.2.1', userAgent: 'test', createdAt: at };
    }

    /** A session opened at `at` on `deviceId`, with `refreshes` rotated refresh tokens behind its live one. */
    async function newSession(
      userId: string,
      options: { at?: number; deviceId?: string; ssoSessionId?: string; refreshes?: number } = {},
    ): Promise<SessionRecord> {
      const at = options.at ?? T0;
      const session: SessionRecord = {
        id: randomUUID(),
        userId,
        deviceId: options.deviceId ?? 'device-1',
        clientId: 'default',
        acr: 'aal1',
        ip: '192.0.2.1',
        userAgent: 'test',
        authTime: at,
        createdAt: at,
        lastActivityAt: at,
        idleTimeoutMs: 30 * DAY,
        idleExpiresAt: at + 30 * DAY,
        expiresAt: at + 30 * DAY,
        endedAt: null,
        endReason: null,
        stepUpRequired: false,
        refreshCount: 0,
        reauthAt: null,
        reauthFactor: null,
        amr: null,
        claims: null,
        ssoSessionId: options.ssoSessionId ?? null,
        scope: null,
      };
      let tokenHash = `hash-${randomUUID()}`;
      await store.createSession({
        session,
        refreshToken: { id: randomUUID(), sessionId: session.id, tokenHash, createdAt: at },
        logs: [],
      });
      for (let i = 0; i < (options.refreshes ?? 0); i += 1) {
        const successor = { id: randomUUID(), tokenHash: `hash-${randomUUID()}`, sealed: 'sealed' };
        const outcome = await store.rotateRefreshToken({
          tokenHash,
          successor,
          now: at + i + 1,
          graceMs: 10_000,
          ip: null,
          userAgent: null,
        });
        expect(outcome.kind).toBe('rotated');
        tokenHash = successor.tokenHash;
      }
      return session;
    }

    async function end(session: SessionRecord, at: number): Promise<void> {
      await store.endSession({
        sessionId: session.id,
        reason: 'logout',
        now: at,
        log: entry(session.userId, at, 'logout'),
      });
    }

    async function sighting(userId: string, id: string, at: number): Promise<void> {
      await store.recordDeviceSighting({
        userId,
        id,
        name: null,
        platform: null,
        browser: null,
        os: null,
        deviceType: null,
        userAgent: null,
        ip: null,
        now: at,
        secretHash: `secret-${id}`,
        presentedSecretHash: `secret-${id}`,
      });
    }

    async function logIds(userId: string): Promise<number[]> {
      const rows = await store.database.db
        .selectFrom('sessionLogs')
        .select('id')
        .where('userId', '=', userId)
        .orderBy('id')
        .execute();
      return rows.map((row) => Number(row.id));
    }

    async function tokenCount(sessionId: string): Promise<number> {
      const rows = await store.database.db
        .selectFrom('refreshTokens')
        .select('id')
        .where('sessionId', '=', sessionId)
        .execute();
      return rows.length;
    }

    describe('audit log', () => {
      it('deletes only rows older than the cutoff, at most `limit` per call, oldest first', async () => {
        const userId = await newUser();
        for (let day = 0; day < 5; day += 1) await store.appendLog(entry(userId, T0 + day * DAY));
        const before = await logIds(userId);

        expect(await retention.deleteAuditLogs({ before: T0 + 3 * DAY, limit: 2 })).toBe(2);
        expect(await logIds(userId)).toEqual(before.slice(2));
        expect(await retention.deleteAuditLogs({ before: T0 + 3 * DAY, limit: 2 })).toBe(1);
        expect(await retention.deleteAuditLogs({ before: T0 + 3 * DAY, limit: 2 })).toBe(0);
        // The rows of days 3 and 4 are not past the cutoff.
        expect(await logIds(userId)).toEqual(before.slice(3));
      });

      it('never deletes a row the slowest named outbox cursor has not passed', async () => {
        const userId = await newUser();
        const webhooks = new WebhookStore(store.database);
        // An endpoint no longer configured: its cursor, behind everything, is not asked about.
        await webhooks.ensureCursors(['removed-endpoint']);
        for (let i = 0; i < 3; i += 1) await store.appendLog(entry(userId, T0 + i));
        await webhooks.ensureCursors(['slow']);
        const delivered = await logIds(userId);
        for (let i = 3; i < 6; i += 1) await store.appendLog(entry(userId, T0 + i));
        await webhooks.ensureCursors(['fast']);
        const fast = await webhooks.findCursor('fast');
        expect(fast).toBeDefined();

        const hold = await retention.outboxHold(['slow', 'fast']);
        expect(hold?.position.logId).toBe(delivered.at(-1));
        expect(hold?.pendingSince).toBe(T0 + 3);
        const n = await retention.deleteAuditLogs({
          before: T0 + DAY,
          delivered: hold!.position,
          limit: 100,
        });
        expect(n).toBe(3);
        expect((await logIds(userId)).length).toBe(3);

        // Once the slow endpoint has passed everything, the rest may go.
        const slow = await webhooks.findCursor('slow');
        await webhooks.advance('slow', slow!.position, fast!.position);
        const caughtUp = await retention.outboxHold(['slow', 'fast']);
        expect(caughtUp?.pendingSince).toBeUndefined();
        await retention.deleteAuditLogs({ before: T0 + DAY, delivered: caughtUp!.position, limit: 100 });
        expect(await logIds(userId)).toEqual([]);
      });

      it('holds nothing back for cursors it is not told about, and nothing without cursors', async () => {
        const userId = await newUser();
        await store.appendLog(entry(userId, T0));
        await new WebhookStore(store.database).ensureCursors(['removed-endpoint']);
        await store.appendLog(entry(userId, T0 + 1));
        expect(await retention.outboxHold([])).toBeUndefined();
        expect(await retention.outboxHold(['never-started'])).toBeUndefined();
        expect(await retention.outboxHold(['removed-endpoint'])).toBeDefined();
      });
    });

    describe('ended sessions', () => {
      it('deletes sessions ended before the cutoff with every refresh token, and nothing else', async () => {
        const userId = await newUser();
        const old = await newSession(userId, { refreshes: 4 });
        await end(old, T0 + DAY);
        const recent = await newSession(userId);
        await end(recent, T0 + 5 * DAY);
        const live = await newSession(userId);
        expect(await tokenCount(old.id)).toBe(5);

        // limit 2: the old session's five tokens go in three statements, then the session.
        const deleted = await retention.deleteEndedSessions({ endedBefore: T0 + 3 * DAY, limit: 2 });
        expect(deleted).toEqual({ sessions: 1, refreshTokens: 5 });
        expect(await store.findSession(old.id)).toBeUndefined();
        expect(await tokenCount(old.id)).toBe(0);
        expect(await store.findSession(recent.id)).toBeDefined();
        expect(await tokenCount(recent.id)).toBe(1);
        expect(await store.findSession(live.id)).toBeDefined();
        expect(await tokenCount(live.id)).toBe(1);
        expect(await retention.deleteEndedSessions({ endedBefore: T0 + 3 * DAY, limit: 2 })).toEqual({
          sessions: 0,
          refreshTokens: 0,
        });
      });

      it('deletes at most `limit` sessions per call, the longest ended first', async () => {
        const userId = await newUser();
        const sessions: SessionRecord[] = [];
        for (let i = 0; i < 3; i += 1) {
          const session = await newSession(userId);
          await end(session, T0 + (3 - i) * 1000);
          sessions.push(session);
        }
        expect((await retention.deleteEndedSessions({ endedBefore: T0 + DAY, limit: 2 })).sessions).toBe(2);
        // The last one ended first, so it went first; the first one ended last and is left.
        expect(await store.findSession(sessions[2]!.id)).toBeUndefined();
        expect(await store.findSession(sessions[1]!.id)).toBeUndefined();
        expect(await store.findSession(sessions[0]!.id)).toBeDefined();
      });

      it('keeps an ended SSO session while a session opened from it has not ended', async () => {
        const userId = await newUser();
        const sso = await newSession(userId);
        const app = await newSession(userId, { ssoSessionId: sso.id });
        await end(sso, T0);
        const kept = await retention.deleteEndedSessions({ endedBefore: T0 + DAY, limit: 10 });
        expect(kept.sessions).toBe(0);
        expect(await store.findSession(sso.id)).toBeDefined();
        await end(app, T0);
        expect((await retention.deleteEndedSessions({ endedBefore: T0 + DAY, limit: 10 })).sessions).toBe(2);
      });
    });

    describe('devices', () => {
      it('deletes devices not seen since the cutoff that have no session left that has not ended', async () => {
        const userId = await newUser();
        await sighting(userId, 'quiet', T0);
        await sighting(userId, 'quiet-ended', T0);
        await end(await newSession(userId, { deviceId: 'quiet-ended' }), T0 + 1);
        await sighting(userId, 'quiet-live', T0);
        await newSession(userId, { deviceId: 'quiet-live' });
        await sighting(userId, 'recent', T0 + 10 * DAY);

        expect(await retention.deleteIdleDevices({ lastSeenBefore: T0 + 5 * DAY, limit: 10 })).toBe(2);
        const left = (await store.listDevices(userId)).map((device) => device.id).sort();
        expect(left).toEqual(['quiet-live', 'recent']);
      });

      it('deletes at most `limit` per call, the longest quiet first', async () => {
        const userId = await newUser();
        for (let i = 0; i < 3; i += 1) await sighting(userId, `d${i}`, T0 + i);
        expect(await retention.deleteIdleDevices({ lastSeenBefore: T0 + DAY, limit: 2 })).toBe(2);
        expect((await store.listDevices(userId)).map((device) => device.id)).toEqual(['d2']);
        expect(await retention.deleteIdleDevices({ lastSeenBefore: T0 + DAY, limit: 2 })).toBe(1);
      });
    });

    describe('state operations', () => {
      it('compacts at most `limit` per call, and catch-up from before the deleted ones is a snapshot', async () => {
        const userId = await newUser();
        for (let i = 0; i < 5; i += 1) {
          await store.applyStateOperation({
            userId,
            namespace: 'cart',
            clientOpId: `op-${i}`,
            operation: { op: 'increment', path: ['n'], value: 1 },
            now: T0 + i * DAY,
            maxDocumentBytes: 65_536,
          });
        }
        expect(await store.compactStateOperations(T0 + 3 * DAY, 2)).toBe(2);
        const afterFirst = await store.catchUpState({ userId, namespace: 'cart', since: 1, limit: 100 });
        expect(afterFirst.kind).toBe('snapshot');
        const fromTwo = await store.catchUpState({ userId, namespace: 'cart', since: 2, limit: 100 });
        expect(fromTwo).toMatchObject({ kind: 'operations', seq: 5 });
        expect(fromTwo.kind === 'operations' && fromTwo.operations.map((op) => op.seq)).toEqual([3, 4, 5]);
        expect(await store.compactStateOperations(T0 + 3 * DAY, 2)).toBe(1);
        expect(await store.compactStateOperations(T0 + 3 * DAY, 2)).toBe(0);
        const fromThree = await store.catchUpState({ userId, namespace: 'cart', since: 3, limit: 100 });
        expect(fromThree.kind === 'operations' && fromThree.operations.map((op) => op.seq)).toEqual([4, 5]);
        expect((await store.catchUpState({ userId, namespace: 'cart', since: 2, limit: 100 })).kind).toBe(
          'snapshot',
        );
        expect((await store.readStateDocument(userId, 'cart')).document).toEqual({ n: 5 });
      });
    });
  });
}
