import { randomUUID } from 'node:crypto';
import type { StateOperation } from '@sessiond/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewLogEntry, SessionRecord } from '../../src/store/records.js';
import { EmailTakenError, type SessionStore } from '../../src/store/session-store.js';

/**
 * The contract every SessionStore implementation must keep, races included. Run it from a
 * `<dialect>.test.ts` with a factory that opens a fresh, empty store.
 */
export function describeSessionStoreConformance(
  name: string,
  open: () => Promise<{ store: SessionStore; dispose: () => Promise<void> }>,
): void {
  describe(`SessionStore conformance: ${name}`, () => {
    let store: SessionStore;
    let dispose: () => Promise<void>;
    const T0 = 1_800_000_000_000;
    const IDLE = 30 * 60_000;
    const GRACE = 10_000;

    beforeEach(async () => {
      ({ store, dispose } = await open());
    });
    afterEach(async () => {
      await dispose();
    });

    async function newUser(email = `${randomUUID()}@example.com`) {
      const user = { id: randomUUID(), email, passwordHash: 'hash', createdAt: T0 };
      await store.createUser(user);
      return user;
    }

    function log(action: NewLogEntry['action'], session: SessionRecord, at = T0): NewLogEntry {
      return {
        action,
        success: true,
        userId: session.userId,
        sessionId: session.id,
        deviceId: session.deviceId,
        ip: '127.0.0.1',
        userAgent: 'test',
        createdAt: at,
      };
    }

    /** A user with a live session; returns the session and its first refresh token hash. */
    async function newSession(overrides: Partial<SessionRecord> = {}, userId?: string) {
      const owner = userId ?? (await newUser()).id;
      const session: SessionRecord = {
        id: randomUUID(),
        userId: owner,
        deviceId: 'device-0001',
        clientId: 'default',
        acr: 'aal1',
        ip: '127.0.0.1',
        userAgent: 'test',
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
        amr: null,
        claims: null,
        ssoSessionId: null,
        scope: null,
        ...overrides,
      };
      const tokenHash = `hash-${randomUUID()}`;
      await store.createSession({
        session,
        refreshToken: { id: randomUUID(), sessionId: session.id, tokenHash, createdAt: T0 },
        logs: [log('login', session)],
      });
      return { session, tokenHash };
    }

    function successor() {
      const id = randomUUID();
      return { id, tokenHash: `hash-${id}`, sealed: `sealed-${id}` };
    }

    function rotate(tokenHash: string, now: number, next = successor()) {
      return store.rotateRefreshToken({
        tokenHash,
        successor: next,
        now,
        graceMs: GRACE,
        ip: '10.0.0.1',
        userAgent: 'agent',
      });
    }

    describe('users linked to other sources (issue 13)', () => {
      const bare = (email: string | null = null) => ({
        id: randomUUID(),
        email,
        passwordHash: null,
        createdAt: T0,
      });

      it('keeps a user without an email or a password as such', async () => {
        const user = bare();
        await store.createUser(user);
        expect(await store.findUserById(user.id)).toMatchObject({ email: null, passwordHash: null });
        const other = bare();
        await store.createUser(other);
        expect(await store.findUserById(other.id)).toMatchObject({ email: null });
      });

      it('provisions one user for a (source, subject) however many callers race, and links it', async () => {
        const subject = `ext-${randomUUID()}`;
        const results = await Promise.all(
          Array.from({ length: 8 }, () =>
            store.linkOrProvisionUser({ source: 'backend:shop', subject, newUser: bare(), now: T0 }),
          ),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
        const id = results[0]!.user.id;
        expect((await store.findLinkedUser('backend:shop', subject))?.id).toBe(id);
        expect(await store.findLinkedUser('backend:other', subject)).toBeUndefined();
        expect(await store.listUserLinks(id)).toEqual([
          { source: 'backend:shop', subject, userId: id, createdAt: T0 },
        ]);
      });

      it('refuses to provision with an email another user has, and links an existing user once', async () => {
        const taken = await newUser();
        await expect(
          store.linkOrProvisionUser({
            source: 'backend:shop',
            subject: 'x-1',
            newUser: bare(taken.email),
            now: T0,
          }),
        ).rejects.toBeInstanceOf(EmailTakenError);
        expect(await store.findLinkedUser('backend:shop', 'x-1')).toBeUndefined();
        const link = {
          source: 'oidc:https://idp.example',
          subject: 'sub-1',
          userId: taken.id,
          createdAt: T0,
        };
        expect(await store.linkUser(link)).toBe(true);
        expect(await store.linkUser({ ...link, userId: (await newUser()).id })).toBe(false);
        expect((await store.findLinkedUser(link.source, link.subject))?.id).toBe(taken.id);
      });

      it('sets the custom claims of every live session of the user, and logs each', async () => {
        const user = await newUser();
        const { session: one } = await newSession({ claims: { plan: 'free' } }, user.id);
        const { session: two } = await newSession({}, user.id);
        const ended = (await newSession({}, user.id)).session;
        await store.endSession({
          sessionId: ended.id,
          reason: 'logout',
          now: T0 + 1,
          log: log('logout', ended),
        });
        expect((await store.findSession(one.id))?.claims).toEqual({ plan: 'free' });
        const changed = await store.setSessionClaims({
          userId: user.id,
          claims: { plan: 'pro', roles: ['admin'] },
          now: T0 + 2,
          log: (session) => log('claims_changed', session, T0 + 2),
        });
        expect(changed.map((s) => s.id).sort()).toEqual([one.id, two.id].sort());
        expect((await store.findSession(two.id))?.claims).toEqual({ plan: 'pro', roles: ['admin'] });
        expect((await store.findSession(ended.id))?.claims).toBeNull();
      });
    });

    describe('users', () => {
      it('stores and finds a user by email and id', async () => {
        const user = await newUser('ann@example.com');
        const stored = { ...user, totpSecretSealed: null, totpEnabledAt: null, totpPendingSealed: null };
        expect(await store.findUserByEmail('ann@example.com')).toEqual(stored);
        expect(await store.findUserById(user.id)).toEqual(stored);
        expect(await store.findUserByEmail('bob@example.com')).toBeUndefined();
      });

      it('keeps a TOTP enrolment pending, enables it, and accepts each time step once, racing included', async () => {
        const user = await newUser('totp@example.com');
        await store.startTOTPEnrolment(user.id, 'sealed-secret');
        expect(await store.findUserById(user.id)).toMatchObject({
          totpSecretSealed: null,
          totpPendingSealed: 'sealed-secret',
          totpEnabledAt: null,
        });
        const session = (await newSession({}, user.id)).session;
        expect(
          await store.confirmTOTPEnrolment(user.id, {
            pendingSealed: 'sealed-secret',
            now: T0,
            log: log('totp_enrolled', session),
          }),
        ).toEqual({ replaced: false });
        expect(await store.findUserById(user.id)).toMatchObject({
          totpSecretSealed: 'sealed-secret',
          totpPendingSealed: null,
          totpEnabledAt: T0,
        });
        const racing = await Promise.all(Array.from({ length: 4 }, () => store.useTOTPStep(user.id, 100)));
        expect(racing.filter(Boolean)).toHaveLength(1);
        expect(await store.useTOTPStep(user.id, 99)).toBe(false);
        expect(await store.useTOTPStep(user.id, 101)).toBe(true);
      });

      it('a new enrolment leaves the enabled factor alone until confirmed; only the latest pending one confirms', async () => {
        const user = await newUser('totp2@example.com');
        const session = (await newSession({}, user.id)).session;
        await store.startTOTPEnrolment(user.id, 'first');
        await store.confirmTOTPEnrolment(user.id, {
          pendingSealed: 'first',
          now: T0,
          log: log('totp_enrolled', session),
        });
        await store.startTOTPEnrolment(user.id, 'second');
        await store.startTOTPEnrolment(user.id, 'third');
        expect(await store.findUserById(user.id)).toMatchObject({
          totpSecretSealed: 'first',
          totpEnabledAt: T0,
        });
        expect(
          await store.confirmTOTPEnrolment(user.id, {
            pendingSealed: 'second',
            now: T0 + 1,
            log: log('totp_enrolled', session),
          }),
        ).toBeUndefined();
        expect(
          await store.confirmTOTPEnrolment(user.id, {
            pendingSealed: 'third',
            now: T0 + 2,
            log: log('totp_enrolled', session),
          }),
        ).toEqual({ replaced: true });
        expect(await store.findUserById(user.id)).toMatchObject({
          totpSecretSealed: 'third',
          totpEnabledAt: T0 + 2,
        });
        expect(await store.removeTOTP(user.id, log('totp_removed', session))).toBe(true);
        expect(await store.removeTOTP(user.id, log('totp_removed', session))).toBe(false);
        expect(await store.findUserById(user.id)).toMatchObject({
          totpSecretSealed: null,
          totpEnabledAt: null,
        });
        const actions = (await store.listLogs({ userId: user.id, limit: 20 })).map((row) => row.action);
        expect(actions.filter((a) => a === 'totp_enrolled')).toHaveLength(2);
        expect(actions.filter((a) => a === 'totp_removed')).toHaveLength(1);
      });

      it('rejects a second user with the same email, even when racing', async () => {
        const attempts = await Promise.allSettled(
          Array.from({ length: 5 }, () =>
            store.createUser({
              id: randomUUID(),
              email: 'same@example.com',
              passwordHash: 'h',
              createdAt: T0,
            }),
          ),
        );
        expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
        for (const attempt of attempts.filter((a) => a.status === 'rejected')) {
          expect((attempt as PromiseRejectedResult).reason).toBeInstanceOf(EmailTakenError);
        }
      });
    });

    describe('devices', () => {
      const sighting = (userId: string, at: number) => ({
        userId,
        id: 'device-abc-123',
        name: 'Phone',
        platform: 'ios',
        browser: 'Safari 17',
        os: 'iOS 17',
        deviceType: 'mobile',
        userAgent: 'ua',
        ip: '10.0.0.1',
        now: at,
        secretHash: 'secret-hash-1',
        presentedSecretHash: 'secret-hash-1' as string | null,
      });

      it('reports the first sighting as new and later ones, with its secret, as recognised, updating last seen', async () => {
        const user = await newUser();
        const first = await store.recordDeviceSighting({
          ...sighting(user.id, T0),
          presentedSecretHash: null,
        });
        expect(first).toMatchObject({ kind: 'new', device: { secretHash: 'secret-hash-1' } });
        const second = await store.recordDeviceSighting({
          ...sighting(user.id, T0 + 5),
          name: null,
          ip: '10.0.0.2',
          secretHash: 'unused',
        });
        expect(second.kind).toBe('recognised');
        expect(second.kind !== 'claimed' && second.device).toMatchObject({
          name: 'Phone',
          lastIP: '10.0.0.2',
          lastSeenAt: T0 + 5,
          firstSeenAt: T0,
          secretHash: 'secret-hash-1',
        });
      });

      it('refuses a sighting of a known device without its secret and leaves the device untouched', async () => {
        const user = await newUser();
        await store.recordDeviceSighting(sighting(user.id, T0));
        await store.setDeviceTrust(user.id, 'device-abc-123', {
          trusted: true,
          idleTimeoutMs: IDLE,
          log: {
            action: 'device_trusted',
            success: true,
            userId: user.id,
            ip: null,
            userAgent: null,
            createdAt: T0,
          },
        });
        for (const presentedSecretHash of [null, 'wrong-hash']) {
          const outcome = await store.recordDeviceSighting({
            ...sighting(user.id, T0 + 9),
            ip: '6.6.6.6',
            name: 'Attacker',
            presentedSecretHash,
          });
          expect(outcome).toEqual({ kind: 'claimed' });
        }
        expect(await store.findDevice(user.id, 'device-abc-123')).toMatchObject({
          name: 'Phone',
          lastIP: '10.0.0.1',
          trusted: true,
          secretHash: 'secret-hash-1',
        });
      });

      it('treats the same device id as new for a different user', async () => {
        const [a, b] = [await newUser(), await newUser()];
        expect((await store.recordDeviceSighting(sighting(a.id, T0))).kind).toBe('new');
        expect((await store.recordDeviceSighting(sighting(b.id, T0))).kind).toBe('new');
      });

      it('of concurrent first sightings exactly one is new; the others are claims', async () => {
        const user = await newUser();
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.recordDeviceSighting({
              ...sighting(user.id, T0 + i),
              secretHash: `hash-${i}`,
              presentedSecretHash: null,
            }),
          ),
        );
        expect(results.filter((r) => r.kind === 'new')).toHaveLength(1);
        expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(7);
      });

      it('sets trust, applies the idle timeout to live sessions of that device, and forgets it', async () => {
        const user = await newUser();
        await store.recordDeviceSighting({ ...sighting(user.id, T0), id: 'device-0001' });
        const { session } = await newSession({}, user.id);
        const device = await store.setDeviceTrust(user.id, 'device-0001', {
          trusted: true,
          idleTimeoutMs: 4 * IDLE,
          log: log('device_trusted', session),
        });
        expect(device?.trusted).toBe(true);
        expect((await store.findSession(session.id))?.idleTimeoutMs).toBe(4 * IDLE);
        expect(
          await store.setDeviceTrust(user.id, 'nope-nope', {
            trusted: true,
            idleTimeoutMs: 1,
            log: log('device_trusted', session),
          }),
        ).toBeUndefined();
        const forget = () =>
          store.forgetDevice({
            userId: user.id,
            deviceId: 'device-0001',
            now: T0 + 9,
            sessionLog: (s) => log('session_revoked', s),
            log: log('device_forgotten', session),
          });
        const ended = await forget();
        expect(ended?.map((s) => s.id)).toEqual([session.id]);
        expect((await store.findSession(session.id))?.endReason).toBe('device_forgotten');
        expect(await forget()).toBeUndefined();
        expect(await store.listDevices(user.id)).toEqual([]);
        const actions = (await store.listLogs({ userId: user.id, limit: 10 })).map((l) => l.action);
        expect(actions.slice(0, 2)).toEqual(['device_forgotten', 'session_revoked']);
      });
    });

    describe('refresh token rotation', () => {
      it('rotates: the successor becomes live, the session slides, a refresh log row is written', async () => {
        const { session, tokenHash } = await newSession();
        const next = successor();
        const outcome = await rotate(tokenHash, T0 + 1000, next);
        expect(outcome.kind).toBe('rotated');
        if (outcome.kind !== 'rotated') return;
        expect(outcome.session).toMatchObject({
          lastActivityAt: T0 + 1000,
          idleExpiresAt: T0 + 1000 + IDLE,
          refreshCount: 1,
        });
        expect((await store.findRefreshToken(next.tokenHash))?.status).toBe('active');
        expect((await store.findRefreshToken(tokenHash))?.status).toBe('rotated');
        const logs = await store.listLogs({ userId: session.userId, limit: 10 });
        expect(logs.map((l) => l.action)).toEqual(['refresh', 'login']);
      });

      it('of many concurrent rotations of one token exactly one wins; the rest get its successor', async () => {
        const { tokenHash } = await newSession();
        const candidates = Array.from({ length: 20 }, () => successor());
        const outcomes = await Promise.all(candidates.map((next) => rotate(tokenHash, T0 + 1000, next)));
        const winners = outcomes.filter((o) => o.kind === 'rotated');
        expect(winners).toHaveLength(1);
        const winnerIndex = outcomes.findIndex((o) => o.kind === 'rotated');
        const winnerSealed = candidates[winnerIndex]!.sealed;
        for (const outcome of outcomes.filter((o) => o.kind !== 'rotated')) {
          expect(outcome).toMatchObject({ kind: 'grace', successorSealed: winnerSealed });
        }
      });

      it('a replaced token inside the grace window yields the same successor while it is unused', async () => {
        const { tokenHash } = await newSession();
        const next = successor();
        await rotate(tokenHash, T0 + 1000, next);
        expect(await rotate(tokenHash, T0 + 1000 + GRACE - 1)).toMatchObject({
          kind: 'grace',
          successorSealed: next.sealed,
        });
      });

      it('a replaced token after the grace window is reuse: session ended, every token revoked, logged', async () => {
        const { session, tokenHash } = await newSession();
        const next = successor();
        await rotate(tokenHash, T0 + 1000, next);
        const outcome = await rotate(tokenHash, T0 + 1000 + GRACE);
        expect(outcome.kind).toBe('reused');
        const ended = await store.findSession(session.id);
        expect(ended).toMatchObject({ endReason: 'refresh_token_reused' });
        expect(ended?.endedAt).not.toBeNull();
        expect((await store.findRefreshToken(next.tokenHash))?.status).toBe('revoked');
        expect((await rotate(next.tokenHash, T0 + 1000 + GRACE + 1)).kind).toBe('session_ended');
        const logs = await store.listLogs({ userId: session.userId, limit: 1 });
        expect(logs[0]).toMatchObject({
          action: 'refresh_reuse_detected',
          success: false,
          error: 'refresh_token_reused',
        });
      });

      it('a replaced token whose successor was already used is reuse, even inside the window', async () => {
        const { tokenHash } = await newSession();
        const next = successor();
        await rotate(tokenHash, T0 + 1000, next);
        expect((await rotate(next.tokenHash, T0 + 2000)).kind).toBe('rotated');
        expect((await rotate(tokenHash, T0 + 3000)).kind).toBe('reused');
      });

      it('an older generation is reuse', async () => {
        const { tokenHash } = await newSession();
        const second = successor();
        await rotate(tokenHash, T0 + 1000, second);
        await rotate(second.tokenHash, T0 + 60_000);
        expect((await rotate(tokenHash, T0 + 60_001)).kind).toBe('reused');
      });

      it('reports unknown tokens and ended sessions without changing anything', async () => {
        expect((await rotate('hash-unknown', T0)).kind).toBe('not_found');
        const { session, tokenHash } = await newSession();
        await store.endSession({
          sessionId: session.id,
          reason: 'logout',
          now: T0 + 1,
          log: log('logout', session),
        });
        expect((await rotate(tokenHash, T0 + 2)).kind).toBe('session_ended');
      });

      it('refuses to slide a timed-out session and rolls the rotation back', async () => {
        const { tokenHash } = await newSession();
        const next = successor();
        const outcome = await rotate(tokenHash, T0 + IDLE, next);
        expect(outcome.kind).toBe('session_ended');
        expect((await store.findRefreshToken(tokenHash))?.status).toBe('active');
        expect(await store.findRefreshToken(next.tokenHash)).toBeUndefined();
      });

      it('a replaced token inside its window yields nothing once the session is past a deadline', async () => {
        const { tokenHash } = await newSession({ expiresAt: T0 + 5000 });
        await rotate(tokenHash, T0 + 3000);
        expect((await rotate(tokenHash, T0 + 5000)).kind).toBe('session_ended');
      });

      it('forgets sealed successors once the grace window is over', async () => {
        const { tokenHash } = await newSession();
        await rotate(tokenHash, T0 + 1000);
        expect(await store.forgetExpiredSuccessors(T0 + 1000)).toBe(0);
        expect(await store.forgetExpiredSuccessors(T0 + 1001)).toBe(1);
        expect((await store.findRefreshToken(tokenHash))?.successorSealed).toBeNull();
      });
    });

    describe('ending sessions', () => {
      it('of concurrent enders exactly one ends the session and writes the log row', async () => {
        const { session, tokenHash } = await newSession();
        const results = await Promise.all(
          Array.from({ length: 6 }, () =>
            store.endSession({
              sessionId: session.id,
              reason: 'revoked',
              now: T0 + 5,
              log: log('session_revoked', session),
            }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.findRefreshToken(tokenHash))?.status).toBe('revoked');
        const logs = await store.listLogs({ userId: session.userId, limit: 10 });
        expect(logs.filter((l) => l.action === 'session_revoked')).toHaveLength(1);
      });

      it('ends all of a user’s live sessions, keeping one or only one device’s', async () => {
        const user = await newUser();
        const a = await newSession({}, user.id);
        const b = await newSession({ deviceId: 'device-0002' }, user.id);
        const c = await newSession({ deviceId: 'device-0002' }, user.id);
        const other = await newSession();
        const byDevice = await store.endSessions({
          userId: user.id,
          deviceId: 'device-0002',
          exceptSessionId: c.session.id,
          reason: 'device_forgotten',
          now: T0 + 1,
          log: (s) => log('session_revoked', s),
        });
        expect(byDevice.map((s) => s.id)).toEqual([b.session.id]);
        const rest = await store.endSessions({
          userId: user.id,
          reason: 'revoked_all',
          now: T0 + 2,
          log: (s) => log('session_revoked', s),
        });
        expect(rest.map((s) => s.id).sort()).toEqual([a.session.id, c.session.id].sort());
        expect((await store.findSession(other.session.id))?.endedAt).toBeNull();
        expect(await store.listLiveSessions(user.id, T0 + 3)).toEqual([]);
      });

      it('ending an SSO session ends the live sessions it authorized with it, once (decision 030)', async () => {
        const user = await newUser();
        const sso = await newSession({ clientId: 'sessiond' }, user.id);
        const app = await newSession({ clientId: 'shop', ssoSessionId: sso.session.id }, user.id);
        const other = await newSession({ clientId: 'blog', ssoSessionId: sso.session.id }, user.id);
        const alreadyEnded = await newSession({ clientId: 'blog', ssoSessionId: sso.session.id }, user.id);
        await store.endSession({
          sessionId: alreadyEnded.session.id,
          reason: 'logout',
          now: T0 + 1,
          log: log('logout', alreadyEnded.session),
        });
        const unrelated = await newSession({ clientId: 'shop' }, user.id);
        const input = {
          sessionId: sso.session.id,
          reason: 'logout' as const,
          now: T0 + 2,
          log: log('logout', sso.session),
          authorizedLog: (s: SessionRecord) => ({ ...log('session_revoked', s), detail: { cascade: true } }),
        };
        const results = await Promise.all([store.endSSOSession(input), store.endSSOSession(input)]);
        const ended = results.find((r) => r.length > 0)!;
        expect(results.filter((r) => r.length > 0)).toHaveLength(1);
        expect(ended[0]?.id).toBe(sso.session.id);
        expect(
          ended
            .slice(1)
            .map((s) => s.id)
            .sort(),
        ).toEqual([app.session.id, other.session.id].sort());
        expect((await store.findSession(app.session.id))?.endReason).toBe('sso_session_ended');
        expect((await store.findSession(alreadyEnded.session.id))?.endReason).toBe('logout');
        expect((await store.findRefreshToken(app.tokenHash))?.status).toBe('revoked');
        expect((await store.findSession(unrelated.session.id))?.endedAt).toBeNull();
        const logs = await store.listLogs({ userId: user.id, limit: 20 });
        expect(
          logs
            .filter((l) => l.action === 'session_revoked')
            .map((l) => l.sessionId)
            .sort(),
        ).toEqual([app.session.id, other.session.id].sort());
        expect(logs.filter((l) => l.action === 'logout' && l.sessionId === sso.session.id)).toHaveLength(1);
      });

      it('lists live sessions newest first, leaving out ended and timed-out ones', async () => {
        const user = await newUser();
        const older = await newSession({}, user.id);
        const newer = await newSession({ createdAt: T0 + 10 }, user.id);
        await newSession({ idleExpiresAt: T0 + 5 }, user.id);
        const live = await store.listLiveSessions(user.id, T0 + 6);
        expect(live.map((s) => s.id)).toEqual([newer.session.id, older.session.id]);
        const due = await store.listTimedOutSessions(T0 + 6, 10);
        expect(due).toHaveLength(1);
      });

      it('lists sessions ended since a time, oldest first', async () => {
        const a = await newSession();
        const b = await newSession();
        await newSession();
        await store.endSession({
          sessionId: b.session.id,
          reason: 'revoked',
          now: T0 + 20,
          log: log('session_revoked', b.session),
        });
        await store.endSession({
          sessionId: a.session.id,
          reason: 'logout',
          now: T0 + 10,
          log: log('logout', a.session),
        });
        expect((await store.listEndedSessionsSince(T0 + 10, 10)).map((s) => s.id)).toEqual([
          a.session.id,
          b.session.id,
        ]);
        expect((await store.listEndedSessionsSince(T0 + 11, 10)).map((s) => s.id)).toEqual([b.session.id]);
        expect(await store.listEndedSessionsSince(T0 + 21, 10)).toEqual([]);
      });

      it('pages ended sessions without skipping any that ended in the same millisecond', async () => {
        const user = await newUser();
        for (let i = 0; i < 7; i += 1) await newSession({}, user.id);
        await store.endSessions({
          userId: user.id,
          reason: 'revoked_all',
          now: T0 + 50,
          log: (s) => log('session_revoked', s),
        });
        const seen: string[] = [];
        let after: { endedAt: number; id: string } | undefined;
        for (;;) {
          const page = await store.listEndedSessionsSince(T0 + 50, 3, after);
          seen.push(...page.map((s) => s.id));
          const last = page.at(-1);
          if (page.length < 3 || !last) break;
          after = { endedAt: last.endedAt!, id: last.id };
        }
        expect(seen).toHaveLength(7);
        expect(new Set(seen).size).toBe(7);
      });

      it('slides activity by the session’s own idle timeout, only while live', async () => {
        const { session } = await newSession({ idleTimeoutMs: 1000, idleExpiresAt: T0 + 1000 });
        expect(
          (await store.recordActivity(session.id, { now: T0 + 999, ip: '10.0.0.9' }))?.idleExpiresAt,
        ).toBe(T0 + 1999);
        expect(await store.recordActivity(session.id, { now: T0 + 1999, ip: null })).toBeUndefined();
      });
    });

    describe('reads after writes', () => {
      it('a session read before any kind of write reflects the write right after it', async () => {
        const user = await newUser();
        await store.recordDeviceSighting({
          userId: user.id,
          id: 'device-0001',
          name: null,
          platform: null,
          browser: null,
          os: null,
          deviceType: null,
          userAgent: null,
          ip: null,
          now: T0,
          secretHash: 'h',
          presentedSecretHash: 'h',
        });
        const { session, tokenHash } = await newSession({}, user.id);
        const read = () => store.findSession(session.id);

        await read();
        const next = successor();
        await rotate(tokenHash, T0 + 1000, next);
        expect((await read())?.refreshCount).toBe(1);

        await store.recordActivity(session.id, { now: T0 + 2000, ip: null });
        expect((await read())?.lastActivityAt).toBe(T0 + 2000);

        await store.setDeviceTrust(user.id, 'device-0001', {
          trusted: true,
          idleTimeoutMs: 7,
          log: log('device_trusted', session),
        });
        expect((await read())?.idleTimeoutMs).toBe(7);

        await store.requireStepUp(session.id, log('step_up_required', session));
        expect((await read())?.stepUpRequired).toBe(true);

        await store.recordStepUp(session.id, {
          acr: 'aal2',
          factor: 'totp',
          amr: ['pwd', 'otp', 'mfa'],
          now: T0 + 2001,
          successor: successor(),
          log: log('step_up', session),
        });
        expect((await read())?.acr).toBe('aal2');

        await store.endSessions({
          userId: user.id,
          reason: 'revoked_all',
          now: T0 + 2002,
          log: (s) => log('session_revoked', s),
        });
        expect((await read())?.endReason).toBe('revoked_all');

        const second = await newSession({}, user.id);
        await store.findSession(second.session.id);
        await store.endSession({
          sessionId: second.session.id,
          reason: 'logout',
          now: T0 + 3,
          log: log('logout', second.session),
        });
        expect((await store.findSession(second.session.id))?.endReason).toBe('logout');

        const third = await newSession({}, user.id);
        const secondNext = successor();
        await rotate(third.tokenHash, T0 + 1000, secondNext);
        await store.findSession(third.session.id);
        await rotate(third.tokenHash, T0 + 1000 + GRACE);
        expect((await store.findSession(third.session.id))?.endReason).toBe('refresh_token_reused');
      });

      it('a device read before a write reflects it right after', async () => {
        const user = await newUser();
        const sight = (name: string | null, ip: string) =>
          store.recordDeviceSighting({
            userId: user.id,
            id: 'device-0009',
            name,
            platform: null,
            browser: null,
            os: null,
            deviceType: null,
            userAgent: null,
            ip,
            now: T0,
            secretHash: 'h',
            presentedSecretHash: 'h',
          });
        await sight('Phone', '10.0.0.1');
        const { session } = await newSession({ deviceId: 'device-0009' }, user.id);
        expect((await store.findDevice(user.id, 'device-0009'))?.lastIP).toBe('10.0.0.1');
        await sight(null, '10.0.0.2');
        expect((await store.findDevice(user.id, 'device-0009'))?.lastIP).toBe('10.0.0.2');
        await store.setDeviceTrust(user.id, 'device-0009', {
          trusted: true,
          idleTimeoutMs: 9,
          log: log('device_trusted', session),
        });
        expect((await store.findDevice(user.id, 'device-0009'))?.trusted).toBe(true);
        await store.findSession(session.id);
        await store.forgetDevice({
          userId: user.id,
          deviceId: 'device-0009',
          now: T0 + 1,
          sessionLog: (s) => log('session_revoked', s),
          log: log('device_forgotten', session),
        });
        expect(await store.findDevice(user.id, 'device-0009')).toBeUndefined();
        expect((await store.findSession(session.id))?.endReason).toBe('device_forgotten');
      });

      it('a rotation rolled back for a timed-out session leaves reads unchanged', async () => {
        const { session, tokenHash } = await newSession();
        await store.findSession(session.id);
        expect((await rotate(tokenHash, T0 + IDLE)).kind).toBe('session_ended');
        expect(await store.findSession(session.id)).toMatchObject({ refreshCount: 0, endedAt: null });
      });

      it('a read racing a revocation never outlives it', async () => {
        const { session } = await newSession();
        const racingRead = store.findSession(session.id);
        await store.endSession({
          sessionId: session.id,
          reason: 'revoked',
          now: T0 + 1,
          log: log('session_revoked', session),
        });
        await racingRead;
        expect((await store.findSession(session.id))?.endedAt).toBe(T0 + 1);
      });
    });

    describe('step-up', () => {
      it('flags a session, then raises assurance and rotates its refresh token', async () => {
        const { session, tokenHash } = await newSession();
        expect(await store.requireStepUp(session.id, log('step_up_required', session))).toBe(true);
        expect((await store.findSession(session.id))?.stepUpRequired).toBe(true);
        const next = successor();
        const raised = await store.recordStepUp(session.id, {
          acr: 'aal2',
          factor: 'totp',
          amr: ['pwd', 'otp', 'mfa'],
          now: T0 + 5,
          successor: next,
          log: log('step_up', session),
        });
        // The factor and the session's methods after it are kept (decision 024).
        expect(raised).toMatchObject({
          acr: 'aal2',
          amr: ['pwd', 'otp', 'mfa'],
          reauthFactor: 'totp',
          reauthAt: T0 + 5,
          authTime: T0 + 5,
          stepUpRequired: false,
        });
        expect(await store.findSession(session.id)).toMatchObject({
          amr: ['pwd', 'otp', 'mfa'],
          reauthFactor: 'totp',
        });
        expect((await store.findRefreshToken(tokenHash))?.status).toBe('rotated');
        expect((await store.findRefreshToken(next.tokenHash))?.status).toBe('active');
        expect(await rotate(tokenHash, T0 + 6)).toMatchObject({
          kind: 'grace',
          successorSealed: next.sealed,
        });
      });
    });

    describe('per-user state', () => {
      const apply = (
        userId: string,
        clientOpId: string,
        operation: StateOperation,
        namespace = 'cart',
        maxDocumentBytes = 10_000,
        now = T0,
      ) => store.applyStateOperation({ userId, namespace, clientOpId, operation, now, maxDocumentBytes });
      const catchUp = (userId: string, since: number | undefined, limit = 10, namespace = 'cart') =>
        store.catchUpState({ userId, namespace, since, limit });
      const inc = (qty: number): StateOperation => ({
        op: 'increment',
        path: ['items', 'sku-1', 'qty'],
        value: qty,
      });

      it('applies operations under one per-user sequence, across namespaces', async () => {
        const user = await newUser();
        expect(await apply(user.id, 'op-1', inc(2))).toMatchObject({ kind: 'applied', seq: 1 });
        expect(
          await apply(user.id, 'op-2', { op: 'add', path: ['creators'], value: 'c-1' }, 'follows'),
        ).toMatchObject({ kind: 'applied', seq: 2 });
        expect(await apply(user.id, 'op-3', inc(1))).toMatchObject({
          kind: 'applied',
          seq: 3,
          document: { items: { 'sku-1': { qty: 3 } } },
        });
        expect(await store.readStateDocument(user.id, 'cart')).toEqual({
          document: { items: { 'sku-1': { qty: 3 } } },
          version: 3,
        });
        expect(await store.readStateDocument(user.id, 'follows')).toEqual({
          document: { creators: ['c-1'] },
          version: 2,
        });
        expect(await store.readStateDocument(user.id, 'live')).toEqual({ document: {}, version: 0 });
        const missed = await catchUp(user.id, 1);
        expect(missed.kind === 'operations' && missed.operations.map((o) => [o.seq, o.clientOpId])).toEqual([
          [3, 'op-3'],
        ]);
        expect(missed.seq).toBe(3);
        const other = await newUser();
        expect(await apply(other.id, 'op-1', inc(5))).toMatchObject({ kind: 'applied', seq: 1 });
      });

      it('applies a replayed client_op_id once, even when the replays race', async () => {
        const user = await newUser();
        const outcomes = await Promise.all(
          Array.from({ length: 6 }, () => apply(user.id, 'same-op', inc(1))),
        );
        expect(outcomes.filter((o) => o.kind === 'applied')).toHaveLength(1);
        expect(outcomes.filter((o) => o.kind === 'duplicate')).toEqual(
          Array(5).fill({ kind: 'duplicate', seq: 1 }),
        );
        expect((await store.readStateDocument(user.id, 'cart')).document).toEqual({
          items: { 'sku-1': { qty: 1 } },
        });
      });

      it('gives concurrent distinct operations contiguous sequence numbers and loses none', async () => {
        const user = await newUser();
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) => apply(user.id, `op-${i}`, inc(1))),
        );
        const seqs = outcomes.map((o) => (o.kind === 'applied' ? o.seq : -1)).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect((await store.readStateDocument(user.id, 'cart')).document).toEqual({
          items: { 'sku-1': { qty: 20 } },
        });
      });

      it('rejects a clash or an oversized document without changing anything or using a sequence number', async () => {
        const user = await newUser();
        await apply(user.id, 'op-1', { op: 'set', path: ['note'], value: 'hello' });
        expect(await apply(user.id, 'op-2', { op: 'increment', path: ['note'], value: 1 })).toMatchObject({
          kind: 'rejected',
          reason: 'invalid_operation',
        });
        expect(
          await apply(user.id, 'op-3', { op: 'set', path: ['big'], value: 'x'.repeat(200) }, 'cart', 100),
        ).toMatchObject({
          kind: 'rejected',
          reason: 'state_too_large',
        });
        expect(await apply(user.id, 'op-4', inc(1))).toMatchObject({ kind: 'applied', seq: 2 });
        // A rejected id was not recorded: fixed and resent, it applies.
        expect(await apply(user.id, 'op-2', { op: 'set', path: ['note'], value: 'bye' })).toMatchObject({
          kind: 'applied',
          seq: 3,
        });
      });

      it('names the namespace version each operation was applied over', async () => {
        const user = await newUser();
        expect(await apply(user.id, 'op-1', inc(1))).toMatchObject({ seq: 1, previousSeq: 0 });
        await apply(user.id, 'op-2', { op: 'add', path: ['creators'], value: 'c-1' }, 'follows');
        expect(await apply(user.id, 'op-3', inc(1))).toMatchObject({ seq: 3, previousSeq: 1 });
      });

      it('catches up with operations, or a snapshot when the log cannot say', async () => {
        const user = await newUser();
        for (let i = 1; i <= 4; i += 1) await apply(user.id, `op-${i}`, inc(1));
        const document = { items: { 'sku-1': { qty: 4 } } };
        expect(await catchUp(user.id, 4)).toEqual({ kind: 'operations', seq: 4, operations: [] });
        expect(await catchUp(user.id, 2)).toMatchObject({
          kind: 'operations',
          seq: 4,
          operations: [
            { seq: 3, clientOpId: 'op-3', namespace: 'cart', operation: inc(1) },
            { seq: 4, clientOpId: 'op-4' },
          ],
        });
        expect(await catchUp(user.id, undefined)).toEqual({ kind: 'snapshot', seq: 4, document });
        expect(await catchUp(user.id, 0, 3)).toEqual({ kind: 'snapshot', seq: 4, document });
        expect(await catchUp(user.id, 9)).toEqual({ kind: 'snapshot', seq: 4, document });
        expect(await catchUp(user.id, 0, 10, 'live')).toEqual({ kind: 'operations', seq: 0, operations: [] });
      });

      it('compacts old operations: catch-up from before them is a snapshot, after them still operations', async () => {
        const user = await newUser();
        await apply(user.id, 'old-1', inc(1), 'cart', 10_000, T0);
        await apply(user.id, 'old-2', inc(1), 'cart', 10_000, T0 + 1);
        await apply(user.id, 'new-3', inc(1), 'cart', 10_000, T0 + 100);
        const other = await newUser();
        await apply(other.id, 'new-1', inc(1), 'cart', 10_000, T0 + 100);
        expect(await store.compactStateOperations(T0 + 50, 100)).toBe(2);
        expect(await catchUp(user.id, 1)).toMatchObject({ kind: 'snapshot', seq: 3 });
        expect(await catchUp(user.id, 2)).toMatchObject({ kind: 'operations', operations: [{ seq: 3 }] });
        expect(await catchUp(other.id, 0)).toMatchObject({ kind: 'operations', operations: [{ seq: 1 }] });
        expect(await store.compactStateOperations(T0 + 50, 100)).toBe(0);
        expect(await catchUp(user.id, 2)).toMatchObject({ kind: 'operations', operations: [{ seq: 3 }] });
      });
    });

    describe('audit log and keys', () => {
      it('sums up a user’s recent history for the risk engine', async () => {
        const { session } = await newSession();
        const other = await newSession();
        const at = (action: NewLogEntry['action'], when: number, ip = '127.0.0.1', s = session) =>
          store.appendLog({ ...log(action, s, when), ip });
        await at('login_failed', T0 - 10_000);
        await at('login_failed', T0 + 1);
        await at('login_failed', T0 + 2, '10.0.0.9');
        await at('login_failed', T0 + 3, '10.0.0.9', other.session);
        await at('login', T0 + 4, '10.0.0.8');
        await at('refresh_reuse_detected', T0 + 5);
        expect(
          await store.riskHistory({ userId: session.userId, ip: '10.0.0.9', since: T0, now: T0 + 6 }),
        ).toEqual({
          failedLoginsForAccount: 2,
          failedLoginsFromIP: 2,
          // newSession's own sign-in is the other one.
          recentLoginIPs: ['10.0.0.8', '127.0.0.1'],
          liveSessions: 1,
          refreshTokenReuses: 1,
        });
      });

      it('pages a user’s log newest first by id', async () => {
        const { session } = await newSession();
        for (let i = 1; i <= 4; i += 1)
          await store.appendLog({ ...log('refresh', session, T0 + i), detail: { i } });
        const first = await store.listLogs({ userId: session.userId, limit: 2 });
        expect(first.map((l) => l.detail)).toEqual([{ i: 4 }, { i: 3 }]);
        const next = await store.listLogs({ userId: session.userId, limit: 10, beforeId: first[1]!.id });
        expect(next.map((l) => l.action)).toEqual(['refresh', 'refresh', 'login']);
      });

      const signingKey = (kid: string, at: number) => ({
        kid,
        alg: 'RS256',
        publicJWK: '{}',
        privateKeySealed: 's',
        createdAt: at,
        retiredAt: null,
      });

      it('adds a signing key and retires the previous one atomically', async () => {
        const key = signingKey;
        await store.addSigningKey(key('k1', T0));
        await store.addSigningKey(key('k2', T0 + 10));
        const keys = await store.listSigningKeys();
        expect(keys.map((k) => [k.kid, k.retiredAt])).toEqual([
          ['k1', T0 + 10],
          ['k2', null],
        ]);
      });

      it('of concurrent rotations (several nodes) exactly one key stays active', async () => {
        await store.addSigningKey(signingKey('k0', T0));
        const added = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.addSigningKey(signingKey(`k${i + 1}`, T0 + 10))),
        );
        expect(added).toEqual(Array(6).fill(true));
        const keys = await store.listSigningKeys();
        expect(keys).toHaveLength(7);
        expect(keys.filter((k) => k.retiredAt === null)).toHaveLength(1);
      });

      it('of concurrent first keys (nodes starting together) exactly one is added', async () => {
        const added = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.addSigningKey(signingKey(`first-${i}`, T0), { unlessOneIsActive: true }),
          ),
        );
        expect(added.filter(Boolean)).toHaveLength(1);
        const keys = await store.listSigningKeys();
        expect(keys).toHaveLength(1);
        expect(keys[0]!.retiredAt).toBeNull();
        // With a key active, a later first start adds nothing either.
        expect(await store.addSigningKey(signingKey('late', T0 + 5), { unlessOneIsActive: true })).toBe(
          false,
        );
        expect(await store.listSigningKeys()).toHaveLength(1);
      });
    });
  });
}
