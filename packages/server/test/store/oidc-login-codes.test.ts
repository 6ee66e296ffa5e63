import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LoginCodeRecord, LoginCodeStore } from '../../src/oidc/login-code-store.js';
import type { KyselySessionStore } from '../../src/store/kysely-store.js';
import { type FreshStore, freshPostgresStore, freshSQLiteStore } from './fresh-stores.js';

const T0 = 1_800_000_000_000;

/**
 * The contract of the native apps' one-time codes (migration 0009) on every store: one use,
 * before expiry, exactly one winner of a race, and a replay remembered so what the first use
 * opened can be revoked whichever comes first.
 */
function describeLoginCodeStore(name: string, open: () => Promise<FreshStore>): void {
  describe(`LoginCodeStore: ${name}`, () => {
    let store: KyselySessionStore;
    let codes: LoginCodeStore;
    let dispose: () => Promise<void>;

    beforeEach(async () => {
      ({ store, dispose } = await open());
      codes = new LoginCodeStore(store.database);
    });
    afterEach(async () => {
      await dispose();
    });

    async function newCode(overrides: Partial<LoginCodeRecord> = {}): Promise<LoginCodeRecord> {
      const userId = randomUUID();
      await store.createUser({ id: userId, email: null, passwordHash: null, createdAt: T0 });
      const code: LoginCodeRecord = {
        codeHash: randomUUID(),
        userId,
        provider: 'corp',
        clientId: 'default',
        codeChallenge: 'c'.repeat(43),
        authentication: { acr: 'aal1', amr: ['fed'], authTime: T0 - 5_000, detail: { provider: 'corp' } },
        createdAt: T0,
        expiresAt: T0 + 60_000,
        ...overrides,
      };
      await codes.issue(code, T0);
      return code;
    }

    it('gives the code back once, as issued', async () => {
      const code = await newCode();
      expect(await codes.consume(code.codeHash, T0 + 1)).toEqual({ kind: 'consumed', code });
      expect(await codes.consume(code.codeHash, T0 + 2)).toEqual({
        kind: 'reused',
        sessionId: null,
        userId: code.userId,
      });
    });

    it('knows neither an unknown code nor an expired one', async () => {
      const code = await newCode();
      expect(await codes.consume('no-such-code', T0)).toEqual({ kind: 'unknown' });
      expect(await codes.consume(code.codeHash, code.expiresAt)).toEqual({ kind: 'unknown' });
    });

    it('of concurrent uses, exactly one consumes', async () => {
      const code = await newCode();
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, () => codes.consume(code.codeHash, T0 + 1)),
      );
      expect(outcomes.filter((outcome) => outcome.kind === 'consumed')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.kind === 'reused')).toHaveLength(7);
    });

    it('a replay after the session is attached names it; one before makes attachSession say so', async () => {
      const attachedFirst = await newCode();
      await codes.consume(attachedFirst.codeHash, T0 + 1);
      expect(await codes.attachSession(attachedFirst.codeHash, 'session-1')).toBe(false);
      expect(await codes.consume(attachedFirst.codeHash, T0 + 2)).toMatchObject({
        kind: 'reused',
        sessionId: 'session-1',
      });

      const replayedFirst = await newCode();
      await codes.consume(replayedFirst.codeHash, T0 + 1);
      expect(await codes.consume(replayedFirst.codeHash, T0 + 2)).toMatchObject({
        kind: 'reused',
        sessionId: null,
      });
      expect(await codes.attachSession(replayedFirst.codeHash, 'session-2')).toBe(true);
    });

    it('forgets codes an hour past their expiry when issuing another', async () => {
      const old = await newCode();
      await codes.issue({ ...(await newCode()), codeHash: randomUUID() }, old.expiresAt + 3_600_001);
      expect(await codes.consume(old.codeHash, T0 + 1)).toEqual({ kind: 'unknown' });
    });
  });
}

describeLoginCodeStore('SQLite', freshSQLiteStore);

describeLoginCodeStore('PostgreSQL', freshPostgresStore);
