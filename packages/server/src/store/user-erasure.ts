import type { Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * The keys of a log row's `detail` that say what happened and never who or where (reasons,
 * factors, risk signal names, timings, the backend's id). Erasure keeps these and drops every
 * other key, so a key added later that does carry personal data (an address, a user agent) is
 * cleared by default (decision 036).
 */
const DETAIL_KEPT_ON_ERASURE: ReadonlySet<string> = new Set([
  'reason',
  'method',
  'provider',
  'backend',
  'names',
  'factor',
  'factors',
  'second_factor',
  'attempts_left',
  'acr',
  'risk',
  'grace',
  'rotated_at',
  'grace_ms',
  'replaced',
  'trusted',
  'sso_session_id',
  'device_claim_refused',
  'sessions_revoked',
]);

/**
 * Makes the user row a tombstone, if it is a user not yet erased: no email (the address is free
 * for a new sign-up), no password, no factor; `erased_at` set. Answers false when there was no
 * such user (or it was erased already): of concurrent erasures exactly one gets true. It must be
 * the transaction's first statement: on PostgreSQL its row lock makes a sign-in committing a
 * session for this user wait (KyselySessionStore.createSession checks the row FOR SHARE), and
 * the sessions read after it include any that committed first.
 */
export async function tombstoneUser(
  trx: Transaction<Database>,
  input: { userId: string; now: number },
): Promise<boolean> {
  const row = await trx
    .updateTable('users')
    .set({
      // The "no email" form of row-mappers.ts: never an address, unique per id.
      email: `~${input.userId}`,
      passwordHash: '',
      totpSecretSealed: null,
      totpEnabledAt: null,
      totpLastStep: null,
      totpPendingSealed: null,
      erasedAt: input.now,
    })
    .where('id', '=', input.userId)
    .where('erasedAt', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Deletes what the erased user's account held and pseudonymises what security keeps (decision
 * 036). Runs inside the erasure's transaction, after its sessions have ended:
 * - deleted: push subscriptions and preferences, devices, passkeys, state documents, operations
 *   and cursor, linked identities, ceremonies, login and authorization codes;
 * - kept, cleared: the sessions (ended; their ids stay in the revocation stream's backlog until
 *   their access tokens expire) lose address, user agent and custom claims; their refresh tokens
 *   stay revoked, hashes of random values with no successor;
 * - kept, cleared: every log row of the user or of their sessions keeps its id, order, action,
 *   times and user id (now an opaque id) and loses address, user agent and personal detail.
 */
export async function eraseUserRows(trx: Transaction<Database>, userId: string): Promise<void> {
  await trx.deleteFrom('pushSubscriptions').where('userId', '=', userId).execute();
  await trx.deleteFrom('pushPreferences').where('userId', '=', userId).execute();
  await trx.deleteFrom('devices').where('userId', '=', userId).execute();
  await trx.deleteFrom('passkeys').where('userId', '=', userId).execute();
  await trx.deleteFrom('stateOperations').where('userId', '=', userId).execute();
  await trx.deleteFrom('stateDocuments').where('userId', '=', userId).execute();
  await trx.deleteFrom('stateCursors').where('userId', '=', userId).execute();
  await trx.deleteFrom('userLinks').where('userId', '=', userId).execute();
  await trx.deleteFrom('ceremonies').where('userId', '=', userId).execute();
  await trx.deleteFrom('oidcLoginCodes').where('userId', '=', userId).execute();
  await trx.deleteFrom('authorizationCodes').where('userId', '=', userId).execute();
  await trx
    .updateTable('sessions')
    .set({ ip: null, userAgent: null, location: null, claims: null })
    .where('userId', '=', userId)
    .execute();
  await trx
    .updateTable('refreshTokens')
    .set({ successorSealed: null })
    .where('sessionId', 'in', (eb) =>
      eb.selectFrom('sessions').select('sessions.id').where('sessions.userId', '=', userId),
    )
    .execute();
  await trx
    .updateTable('sessionLogs')
    .set({ ip: null, userAgent: null })
    .where((eb) =>
      eb.or([
        eb('userId', '=', userId),
        eb(
          'sessionId',
          'in',
          eb.selectFrom('sessions').select('sessions.id').where('sessions.userId', '=', userId),
        ),
      ]),
    )
    .execute();
  await pseudonymiseDetails(trx, userId);
}

/** Rewrites each of the user's log details to its kept keys (null when none is left). */
async function pseudonymiseDetails(trx: Transaction<Database>, userId: string): Promise<void> {
  const rows = await trx
    .selectFrom('sessionLogs')
    .select(['id', 'detail'])
    .where('userId', '=', userId)
    .where('detail', 'is not', null)
    .execute();
  for (const row of rows) {
    const detail = JSON.parse(row.detail as string) as Record<string, unknown>;
    const kept = Object.entries(detail).filter(([key]) => DETAIL_KEPT_ON_ERASURE.has(key));
    if (kept.length === Object.keys(detail).length) continue;
    await trx
      .updateTable('sessionLogs')
      .set({ detail: kept.length === 0 ? null : JSON.stringify(Object.fromEntries(kept)) })
      .where('id', '=', row.id)
      .execute();
  }
}
