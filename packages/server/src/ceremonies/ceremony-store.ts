import type { StoreDatabase } from '../store/transact.js';

/**
 * What a ceremony proves once it completes (migration 0011):
 * - `passkey_registration`: a signed-in user adding a passkey (bound to the session);
 * - `passkey_sign_in`: a discoverable-credential sign-in (no user yet);
 * - `passkey_assertion`: a known user's passkey assertion, for a step-up (bound to the session)
 *   or a pending sign-in's second factor (bound to that pending sign-in);
 * - `email_code`: a one-time code mailed to the user, bound the same way;
 * - `pending_sign_in`: a password sign-in waiting for its second factor (risk verdict);
 * - `authorization_request`: an OpenID authorization request waiting for the user to sign in
 *   (or step up) on sessiond's page (issue 15).
 */
export type CeremonyPurpose =
  | 'passkey_registration'
  | 'passkey_sign_in'
  | 'passkey_assertion'
  | 'email_code'
  | 'pending_sign_in'
  | 'authorization_request';

export interface CeremonyRecord<Data = Record<string, unknown>> {
  /** The handle the client presents (random, or the hash of a token the client holds). */
  id: string;
  purpose: CeremonyPurpose;
  userId: string | null;
  /** The session a signed-in user's ceremony is bound to: no other session may complete it. */
  sessionId: string | null;
  /** Hash of what the caller must present with the handle (challenge, code, token). */
  secretHash: string;
  data: Data;
  attempts: number;
  createdAt: number;
  expiresAt: number;
}

export type NewCeremony<Data> = Omit<CeremonyRecord<Data>, 'attempts'>;

const num = (value: number | string): number => Number(value);

/**
 * Short-lived, single-use ceremonies on the shared database, so a ceremony started on one node
 * completes on any other. Using one is a DELETE ... RETURNING: of concurrent uses exactly one
 * gets the row, on SQLite and PostgreSQL alike, and an expired row is never returned.
 */
export class CeremonyStore {
  constructor(private readonly database: StoreDatabase) {}

  /** Stores a new ceremony; also forgets ceremonies that have expired (they prove nothing). */
  async open<Data>(ceremony: NewCeremony<Data>, now: number): Promise<void> {
    await this.database.transact(async (trx) => {
      await trx.deleteFrom('ceremonies').where('expiresAt', '<=', now).execute();
      await trx
        .insertInto('ceremonies')
        .values({ ...ceremony, data: JSON.stringify(ceremony.data) })
        .execute();
    });
  }

  /** The live ceremony with this handle and purpose, without using it. */
  async find<Data>(
    id: string,
    purpose: CeremonyPurpose,
    now: number,
  ): Promise<CeremonyRecord<Data> | undefined> {
    const row = await this.database.db
      .selectFrom('ceremonies')
      .selectAll()
      .where('id', '=', id)
      .where('purpose', '=', purpose)
      .where('expiresAt', '>', now)
      .executeTakeFirst();
    return row ? toCeremony<Data>(row) : undefined;
  }

  /** Uses the ceremony: the first caller gets it, every later one (and any after expiry) nothing. */
  async consume<Data>(
    id: string,
    purpose: CeremonyPurpose,
    now: number,
  ): Promise<CeremonyRecord<Data> | undefined> {
    const row = await this.database.transact((trx) =>
      trx
        .deleteFrom('ceremonies')
        .where('id', '=', id)
        .where('purpose', '=', purpose)
        .where('expiresAt', '>', now)
        .returningAll()
        .executeTakeFirst(),
    );
    return row ? toCeremony<Data>(row) : undefined;
  }

  /**
   * Counts a wrong answer (a wrong email code). Returns the attempts left; at none the ceremony is
   * gone, so guessing a 6-digit code gets `maxAttempts` tries per code sent.
   */
  async recordFailure(id: string, maxAttempts: number): Promise<number> {
    return this.database.transact(async (trx) => {
      const row = await trx
        .updateTable('ceremonies')
        .set((eb) => ({ attempts: eb(eb.ref('attempts'), '+', 1) }))
        .where('id', '=', id)
        .returning('attempts')
        .executeTakeFirst();
      if (!row) return 0;
      const left = maxAttempts - num(row.attempts);
      if (left <= 0) await trx.deleteFrom('ceremonies').where('id', '=', id).execute();
      return Math.max(0, left);
    });
  }

  /** Forgets a ceremony (a newer code replaces an older one). */
  async discard(id: string): Promise<void> {
    await this.database.transact((trx) => trx.deleteFrom('ceremonies').where('id', '=', id).execute());
  }
}

function toCeremony<Data>(row: {
  id: string;
  purpose: string;
  userId: string | null;
  sessionId: string | null;
  secretHash: string;
  data: string;
  attempts: number | string;
  createdAt: number | string;
  expiresAt: number | string;
}): CeremonyRecord<Data> {
  return {
    id: row.id,
    purpose: row.purpose as CeremonyPurpose,
    userId: row.userId,
    sessionId: row.sessionId,
    secretHash: row.secretHash,
    data: JSON.parse(row.data) as Data,
    attempts: num(row.attempts),
    createdAt: num(row.createdAt),
    expiresAt: num(row.expiresAt),
  };
}
