import type { AssuranceLevel } from '@sessiond/protocol';
import type { StoreDatabase } from '../store/transact.js';

/** How the user authenticated at the provider, kept until the app's exchange opens the session. */
export interface StoredAuthentication {
  acr: AssuranceLevel;
  amr: string[];
  /** Epoch ms. */
  authTime: number;
  detail: Record<string, unknown>;
}

export interface LoginCodeRecord {
  /** SHA-256 of the code (base64url). */
  codeHash: string;
  userId: string;
  provider: string;
  clientId: string;
  codeChallenge: string;
  authentication: StoredAuthentication;
  createdAt: number;
  expiresAt: number;
}

export type ConsumeOutcome =
  | { kind: 'consumed'; code: LoginCodeRecord }
  /** Used before; `sessionId` is what that use opened (null while it is still opening it). */
  | { kind: 'reused'; sessionId: string | null; userId: string }
  /** Never issued, or expired unused. */
  | { kind: 'unknown' };

const num = (value: number | string): number => Number(value);

/**
 * A native app's one-time codes (migration 0009, decision 023), on the shared database. Each
 * write is one compare-and-set statement, so every race has one winner on SQLite and PostgreSQL
 * alike; each resolves once durable.
 */
export class LoginCodeStore {
  constructor(private readonly database: StoreDatabase) {}

  /** Stores a new code; also forgets codes that expired over an hour before `now` (they only prove replays). */
  async issue(code: LoginCodeRecord, now: number): Promise<void> {
    await this.database.transact(async (trx) => {
      await trx
        .deleteFrom('oidcLoginCodes')
        .where('expiresAt', '<', now - 3_600_000)
        .execute();
      await trx
        .insertInto('oidcLoginCodes')
        .values({ ...code, authentication: JSON.stringify(code.authentication) })
        .execute();
    });
  }

  /**
   * Uses the code: of concurrent callers exactly one gets `consumed`, and only before it expires.
   * Every later caller gets `reused`, and the code is marked replayed, so that the session its
   * first use opens (attachSession) can be revoked even if the replay came first.
   */
  async consume(codeHash: string, now: number): Promise<ConsumeOutcome> {
    return this.database.transact(async (trx) => {
      const row = await trx
        .updateTable('oidcLoginCodes')
        .set({ usedAt: now })
        .where('codeHash', '=', codeHash)
        .where('usedAt', 'is', null)
        .where('expiresAt', '>', now)
        .returningAll()
        .executeTakeFirst();
      if (row) {
        return {
          kind: 'consumed' as const,
          code: {
            codeHash: row.codeHash,
            userId: row.userId,
            provider: row.provider,
            clientId: row.clientId,
            codeChallenge: row.codeChallenge,
            authentication: JSON.parse(row.authentication) as StoredAuthentication,
            createdAt: num(row.createdAt),
            expiresAt: num(row.expiresAt),
          },
        };
      }
      const used = await trx
        .updateTable('oidcLoginCodes')
        .set({ replayedAt: now })
        .where('codeHash', '=', codeHash)
        .where('usedAt', 'is not', null)
        .returning(['sessionId', 'userId'])
        .executeTakeFirst();
      return used
        ? { kind: 'reused' as const, sessionId: used.sessionId, userId: used.userId }
        : { kind: 'unknown' as const };
    });
  }

  /**
   * Records the session the code's use opened. True if the code was replayed meanwhile: the
   * caller must then revoke that session, as the replay could not.
   */
  async attachSession(codeHash: string, sessionId: string): Promise<boolean> {
    const row = await this.database.transact((trx) =>
      trx
        .updateTable('oidcLoginCodes')
        .set({ sessionId })
        .where('codeHash', '=', codeHash)
        .returning('replayedAt')
        .executeTakeFirst(),
    );
    return row !== undefined && row.replayedAt !== null;
  }
}
