import type {
  ActiveSession,
  Device,
  LogEntry,
  Passkey,
  SessionStatus,
  SessionSummary,
  TokenResponse,
} from '@sessiond/protocol';
import type { PasskeyRecord } from '../passkeys/passkey-store.js';
import type { Authenticated } from '../sessions/authenticator.js';
import type { TokenGrant } from '../sessions/session-service.js';
import type { DeviceRecord, LogRecord, SessionRecord } from '../store/records.js';

/** Domain records to wire shapes (snake_case, ISO 8601 times). The only place that knows both. */

/** Times on the wire: ISO 8601 in UTC. */
export const iso = (ms: number): string => new Date(ms).toISOString();

export function sessionSummary(session: SessionRecord): SessionSummary {
  return {
    id: session.id,
    user_id: session.userId,
    device_id: session.deviceId,
    client_id: session.clientId,
    acr: session.acr,
    created_at: iso(session.createdAt),
    last_activity_at: iso(session.lastActivityAt),
    expires_at: iso(session.expiresAt),
    idle_expires_at: iso(session.idleExpiresAt),
  };
}

export function tokenResponse(grant: TokenGrant): TokenResponse {
  return {
    access_token: grant.access.token,
    token_type: 'Bearer',
    expires_in: grant.access.expiresIn,
    refresh_token: grant.refreshToken,
    session: sessionSummary(grant.session),
    device: grant.device,
  };
}

/** The cookie transport's answer: the tokens travel in HttpOnly cookies, never in the body. */
export type CookieTokenResponse = Omit<TokenResponse, 'access_token' | 'refresh_token'>;

export function cookieTokenResponse(grant: TokenGrant): CookieTokenResponse {
  // The device secret, like the tokens, travels in an HttpOnly cookie only.
  const { secret: _inCookie, ...device } = grant.device;
  return {
    token_type: 'Bearer',
    expires_in: grant.access.expiresIn,
    session: sessionSummary(grant.session),
    device,
  };
}

export function deviceView(device: DeviceRecord): Device {
  return {
    id: device.id,
    name: device.name,
    platform: device.platform,
    browser: device.browser,
    os: device.os,
    device_type: device.deviceType,
    trusted: device.trusted,
    first_seen_at: iso(device.firstSeenAt),
    last_seen_at: iso(device.lastSeenAt),
    last_ip: device.lastIP,
    location: device.location ?? null,
  };
}

export function activeSessionView(
  session: SessionRecord,
  device: DeviceRecord | undefined,
  currentSessionId: string,
): ActiveSession {
  return {
    id: session.id,
    device: device ? deviceView(device) : null,
    ip: session.ip,
    user_agent: session.userAgent,
    location: session.location ?? null,
    created_at: iso(session.createdAt),
    last_activity_at: iso(session.lastActivityAt),
    current: session.id === currentSessionId,
  };
}

export function statusView(auth: Authenticated): SessionStatus {
  return {
    session: {
      ...sessionSummary(auth.session),
      step_up_required: auth.session.stepUpRequired,
    },
    token: { expires_at: iso(auth.claims.exp * 1000), issued_at: iso(auth.claims.iat * 1000) },
  };
}

export function logView(log: LogRecord): LogEntry {
  return {
    id: String(log.id),
    action: log.action,
    success: log.success,
    error: log.error,
    session_id: log.sessionId,
    device_id: log.deviceId,
    ip: log.ip,
    user_agent: log.userAgent,
    actor: log.actor,
    detail: log.detail,
    created_at: iso(log.createdAt),
  };
}

export function passkeyView(passkey: PasskeyRecord): Passkey {
  return {
    id: passkey.id,
    name: passkey.name,
    created_at: iso(passkey.createdAt),
    last_used_at: passkey.lastUsedAt === null ? null : iso(passkey.lastUsedAt),
    backed_up: passkey.backedUp,
    device_type: passkey.deviceType,
    transports: passkey.transports,
  };
}
