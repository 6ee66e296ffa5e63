import type { JSONObject } from '@sessiond/protocol';
import { SessiondError } from '../errors.js';
import { deviceView, iso, logView, passkeyView } from '../http/views.js';
import type { PasskeyStore } from '../passkeys/passkey-store.js';
import type { SessionRecord, UserRecord } from '../store/records.js';
import { toDevice, toLog, toSession } from '../store/row-mappers.js';
import type { SessionStore } from '../store/session-store.js';
import type { StoreDatabase } from '../store/transact.js';

/** The version of the export's shape; a field is never renamed or removed within one. */
export const EXPORT_FORMAT = 'sessiond.account_export.v1';

/**
 * Everything sessiond holds about one user, as one JSON document (decision 036): the account,
 * every session (ended ones too, with the address and user agent as stored), devices, the user's
 * audit log, state documents, passkeys and linked identities. It holds no secret and no hash:
 * no password hash, TOTP secret, device secret hash, refresh token hash, passkey public key.
 */
export class AccountExport {
  constructor(
    private readonly deps: {
      store: Pick<SessionStore, 'findUserById' | 'listUserLinks'>;
      database: StoreDatabase;
      passkeys: Pick<PasskeyStore, 'listForUser'>;
      clock: { now(): number };
    },
  ) {}

  /** The export of `userId`; 404 `user_not_found` if there is no such user (or it was erased). */
  async exportUser(userId: string): Promise<JSONObject> {
    const user = await this.deps.store.findUserById(userId);
    if (!user) throw new SessiondError('user_not_found', 'no such user');
    const { db } = this.deps.database;
    const [sessions, devices, logs, documents, passkeys, links] = await Promise.all([
      db
        .selectFrom('sessions')
        .selectAll()
        .where('userId', '=', userId)
        .orderBy('createdAt')
        .orderBy('id')
        .execute(),
      db
        .selectFrom('devices')
        .selectAll()
        .where('userId', '=', userId)
        .orderBy('firstSeenAt')
        .orderBy('id')
        .execute(),
      db.selectFrom('sessionLogs').selectAll().where('userId', '=', userId).orderBy('id').execute(),
      db.selectFrom('stateDocuments').selectAll().where('userId', '=', userId).orderBy('namespace').execute(),
      this.deps.passkeys.listForUser(userId),
      this.deps.store.listUserLinks(userId),
    ]);
    const body = {
      format: EXPORT_FORMAT,
      exported_at: iso(this.deps.clock.now()),
      account: accountView(user, passkeys.length),
      sessions: sessions.map((row) => sessionExportView(toSession(row))),
      devices: devices.map((row) => deviceView(toDevice(row))),
      audit_log: logs.map((row) => logView(toLog(row))),
      state: documents.map((row) => ({
        namespace: row.namespace,
        document: JSON.parse(row.document) as JSONObject,
        version: Number(row.version),
        updated_at: iso(Number(row.updatedAt)),
      })),
      passkeys: passkeys.map(passkeyView),
      linked_identities: links.map((link) => ({
        source: link.source,
        subject: link.subject,
        created_at: iso(link.createdAt),
      })),
    };
    // Through JSON once: the document is what the download carries, undefined fields dropped.
    return JSON.parse(JSON.stringify(body)) as JSONObject;
  }
}

function accountView(user: UserRecord, passkeys: number): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    created_at: iso(user.createdAt),
    factors: {
      password: user.passwordHash !== null,
      totp: user.totpEnabledAt != null,
      totp_enabled_at: user.totpEnabledAt == null ? null : iso(user.totpEnabledAt),
      passkeys,
    },
  };
}

function sessionExportView(session: SessionRecord): Record<string, unknown> {
  const at = (ms: number | null): string | null => (ms === null ? null : iso(ms));
  return {
    id: session.id,
    client_id: session.clientId,
    device_id: session.deviceId,
    acr: session.acr,
    amr: session.amr,
    scope: session.scope,
    claims: session.claims,
    ip: session.ip,
    user_agent: session.userAgent,
    // Country and city when location lookup stored them (SESSIOND_GEOIP, decision 035).
    location: 'location' in session ? (session.location ?? null) : null,
    auth_time: iso(session.authTime),
    created_at: iso(session.createdAt),
    last_activity_at: iso(session.lastActivityAt),
    idle_expires_at: iso(session.idleExpiresAt),
    expires_at: iso(session.expiresAt),
    ended_at: at(session.endedAt),
    end_reason: session.endReason,
    refresh_count: session.refreshCount,
    step_up_required: session.stepUpRequired,
    reauth_at: at(session.reauthAt),
    reauth_factor: session.reauthFactor,
  };
}
