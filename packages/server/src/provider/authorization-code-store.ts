import type { StoreDatabase } from '../store/transact.js';

export interface AuthorizationCodeRecord {
  /** SHA-256 of the code (base64url); the code itself is never stored. */
  codeHash: string;
  clientId: string;
  userId: string;
  ssoSessionId: string;
  /** As the request sent it: the token request must send the very same (RFC 6749 §4.1.3). */
  redirectUri: string;
  codeChallenge: string;
  scope: string;
  nonce: string | null;
  createdAt: number;
  expiresAt: number;
}

export type CodeUse =
  | { kind: 'consumed'; code: AuthorizationCodeRecord }
  /** Used before; `sessionId` is what that use opened (null while still opening it, or if it failed). */
  | { kind: 'reused'; sessionId: string | null }
  /** Never issued, or expired unused. */
  | { kind: 'unknown' };

const num = (value: number | string): number => Number(value);

/**
 * Authorization codes (migration 0012) on the shared database, like the native app's login codes
 * (LoginCodeStore): each write one compare-and-set statement, so every race has one winner on
 * SQLite and PostgreSQL alike.
 */
export class AuthorizationCodeStore {
  constructor(private readonly database: StoreDatabase) {}

  /** Stores a new code; also forgets codes that expired over an hour before `now` (they only prove replays). */
  async issue(code: AuthorizationCodeRecord, now: number): Promise<void> {
    await this.database.transact(async (trx) => {
      await trx
        .deleteFrom('authorizationCodes')
        .where('expiresAt', '<', now - 3_600_000)
        .execute();
      await trx.insertInto('authorizationCodes').values(code).execute();
    });
  }

  /**
   * Uses the code: of concurrent callers exactly one gets `consumed`, and only before it expires.
   * Every later caller gets `reused` and marks the code replayed, so the session its first use
   * opens (attachSession) is revoked even if the replay came first (RFC 6749 §4.1.2).
   */
  async consume(codeHash: string, now: number): Promise<CodeUse> {
    return this.database.transact(async (trx) => {
      const row = await trx
        .updateTable('authorizationCodes')
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
            clientId: row.clientId,
            userId: row.userId,
            ssoSessionId: row.ssoSessionId,
            redirectUri: row.redirectUri,
            codeChallenge: row.codeChallenge,
            scope: row.scope,
            nonce: row.nonce,
            createdAt: num(row.createdAt),
            expiresAt: num(row.expiresAt),
          },
        };
      }
      const used = await trx
        .updateTable('authorizationCodes')
        .set({ replayedAt: now })
        .where('codeHash', '=', codeHash)
        .where('usedAt', 'is not', null)
        .returning('sessionId')
        .executeTakeFirst();
      return used ? { kind: 'reused' as const, sessionId: used.sessionId } : { kind: 'unknown' as const };
    });
  }

  /**
   * Records the session the code's use opened. True if the code was replayed meanwhile: the
   * caller must then revoke that session, as the replay could not.
   */
  async attachSession(codeHash: string, sessionId: string): Promise<boolean> {
    const row = await this.database.transact((trx) =>
      trx
        .updateTable('authorizationCodes')
        .set({ sessionId })
        .where('codeHash', '=', codeHash)
        .returning('replayedAt')
        .executeTakeFirst(),
    );
    return row !== undefined && row.replayedAt !== null;
  }
}
