import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CeremonyStore, type NewCeremony } from '../../src/ceremonies/ceremony-store.js';
import type { KyselySessionStore } from '../../src/store/kysely-store.js';
import { type FreshStore, freshPostgresStore, freshSQLiteStore } from './fresh-stores.js';

const T0 = 1_800_000_000_000;

/**
 * The contract of ceremonies (migration 0011) on every store: used once, never after expiry,
 * one winner of a race, wrong answers counted until the ceremony is gone.
 */
function describeCeremonyStore(name: string, open: () => Promise<FreshStore>): void {
  describe(`CeremonyStore: ${name}`, () => {
    let store: KyselySessionStore;
    let ceremonies: CeremonyStore;
    let dispose: () => Promise<void>;

    beforeEach(async () => {
      ({ store, dispose } = await open());
      ceremonies = new CeremonyStore(store.database);
    });
    afterEach(async () => {
      await dispose();
    });

    async function newCeremony(
      overrides: Partial<NewCeremony<{ n: number }>> = {},
    ): Promise<NewCeremony<{ n: number }>> {
      const userId = randomUUID();
      await store.createUser({ id: userId, email: null, passwordHash: null, createdAt: T0 });
      const ceremony: NewCeremony<{ n: number }> = {
        id: randomUUID(),
        purpose: 'email_code',
        userId,
        sessionId: 'session-1',
        secretHash: 'hash',
        data: { n: 1 },
        createdAt: T0,
        expiresAt: T0 + 60_000,
        ...overrides,
      };
      await ceremonies.open(ceremony, T0);
      return ceremony;
    }

    it('is used once, by its purpose, before it expires', async () => {
      const ceremony = await newCeremony();
      expect(await ceremonies.consume(ceremony.id, 'passkey_sign_in', T0 + 1)).toBeUndefined();
      expect(await ceremonies.find(ceremony.id, 'email_code', T0 + 1)).toMatchObject({ data: { n: 1 } });
      expect(await ceremonies.consume(ceremony.id, 'email_code', T0 + 1)).toMatchObject({
        id: ceremony.id,
        sessionId: 'session-1',
        data: { n: 1 },
        attempts: 0,
      });
      expect(await ceremonies.consume(ceremony.id, 'email_code', T0 + 2)).toBeUndefined();

      const expired = await newCeremony();
      expect(await ceremonies.find(expired.id, 'email_code', T0 + 60_000)).toBeUndefined();
      expect(await ceremonies.consume(expired.id, 'email_code', T0 + 60_000)).toBeUndefined();
    });

    it('has exactly one winner when used concurrently', async () => {
      const ceremony = await newCeremony();
      const uses = await Promise.all(
        Array.from({ length: 8 }, () => ceremonies.consume(ceremony.id, 'email_code', T0 + 1)),
      );
      expect(uses.filter((use) => use !== undefined)).toHaveLength(1);
    });

    it('counts wrong answers and is gone at the last one', async () => {
      const ceremony = await newCeremony();
      expect(await ceremonies.recordFailure(ceremony.id, 3)).toBe(2);
      expect(await ceremonies.recordFailure(ceremony.id, 3)).toBe(1);
      expect((await ceremonies.find(ceremony.id, 'email_code', T0 + 1))?.attempts).toBe(2);
      expect(await ceremonies.recordFailure(ceremony.id, 3)).toBe(0);
      expect(await ceremonies.consume(ceremony.id, 'email_code', T0 + 1)).toBeUndefined();
    });

    it('forgets expired ceremonies when a new one opens, and discards on request', async () => {
      const old = await newCeremony({ expiresAt: T0 + 10 });
      const kept = await newCeremony({ expiresAt: T0 + 60_000 });
      await ceremonies.open({ ...kept, id: randomUUID() }, T0 + 10);
      const rows = await store.database.db.selectFrom('ceremonies').select('id').execute();
      expect(rows.map((row) => row.id)).not.toContain(old.id);
      await ceremonies.discard(kept.id);
      expect(await ceremonies.find(kept.id, 'email_code', T0 + 11)).toBeUndefined();
    });
  });
}

describeCeremonyStore('SQLite', freshSQLiteStore);
describeCeremonyStore('PostgreSQL', freshPostgresStore);
