import type { AssuranceLevel, LogAction, SessionEndReason } from '@sessiond/protocol';
import type { Insertable, Selectable } from 'kysely';
import type { GeoLocation } from '../privacy/geo-locator.js';
import type {
  DeviceRecord,
  LogRecord,
  NewLogEntry,
  RefreshTokenRecord,
  RefreshTokenStatus,
  SessionRecord,
  SigningKeyRecord,
  StepUpFactor,
  UserRecord,
} from './records.js';
import type { Database } from './schema.js';

// PostgreSQL returns bigint columns as strings; Number() makes both dialects agree. Epoch
// milliseconds stay far below 2^53.
const num = (value: number | string): number => Number(value);
const numOrNull = (value: number | string | null): number | null => (value === null ? null : Number(value));

/**
 * The users table predates users without an email or password, and SQLite cannot drop a NOT
 * NULL without rebuilding a table others reference: "none" is stored as `~<id>` (never an
 * address: normalised emails always hold an `@`, and `~` starts none) and as '' (never an
 * argon2 hash). Only these two functions know.
 */
const NO_EMAIL_PREFIX = '~';

export function fromUser(user: UserRecord): Insertable<Database['users']> {
  return {
    id: user.id,
    email: user.email ?? `${NO_EMAIL_PREFIX}${user.id}`,
    passwordHash: user.passwordHash ?? '',
    createdAt: user.createdAt,
    totpSecretSealed: user.totpSecretSealed ?? null,
    totpEnabledAt: user.totpEnabledAt ?? null,
    totpLastStep: null,
    totpPendingSealed: user.totpPendingSealed ?? null,
  };
}

export function toUser(row: Selectable<Database['users']>): UserRecord {
  return {
    id: row.id,
    email: row.email.startsWith(NO_EMAIL_PREFIX) ? null : row.email,
    passwordHash: row.passwordHash === '' ? null : row.passwordHash,
    createdAt: num(row.createdAt),
    totpSecretSealed: row.totpSecretSealed,
    totpEnabledAt: numOrNull(row.totpEnabledAt),
    totpPendingSealed: row.totpPendingSealed,
  };
}

export function toDevice(row: Selectable<Database['devices']>): DeviceRecord {
  return {
    userId: row.userId,
    id: row.id,
    name: row.name,
    platform: row.platform,
    browser: row.browser,
    os: row.os,
    deviceType: row.deviceType,
    userAgent: row.userAgent,
    trusted: num(row.trusted) === 1,
    trustedAt: numOrNull(row.trustedAt),
    firstSeenAt: num(row.firstSeenAt),
    lastSeenAt: num(row.lastSeenAt),
    lastIP: row.lastIp,
    secretHash: row.secretHash,
    location: locationOf(row.location),
  };
}

export function toSession(row: Selectable<Database['sessions']>): SessionRecord {
  return {
    id: row.id,
    userId: row.userId,
    deviceId: row.deviceId,
    clientId: row.clientId,
    acr: row.acr as AssuranceLevel,
    ip: row.ip,
    userAgent: row.userAgent,
    authTime: num(row.authTime),
    createdAt: num(row.createdAt),
    lastActivityAt: num(row.lastActivityAt),
    idleTimeoutMs: num(row.idleTimeoutMs),
    idleExpiresAt: num(row.idleExpiresAt),
    expiresAt: num(row.expiresAt),
    endedAt: numOrNull(row.endedAt),
    endReason: row.endReason as SessionEndReason | null,
    stepUpRequired: num(row.stepUpRequired) === 1,
    refreshCount: num(row.refreshCount),
    reauthAt: numOrNull(row.reauthAt),
    reauthFactor: row.reauthFactor as StepUpFactor | null,
    amr: row.amr === null ? null : (JSON.parse(row.amr) as string[]),
    claims: row.claims === null ? null : (JSON.parse(row.claims) as Record<string, unknown>),
    ssoSessionId: row.ssoSessionId,
    scope: row.scope,
    location: locationOf(row.location),
  };
}

/** The JSON {country, city} column of sessions and devices (migration 0013). */
export function locationColumn(location: GeoLocation | null | undefined): string | null {
  return location ? JSON.stringify({ country: location.country, city: location.city }) : null;
}

function locationOf(column: string | null | undefined): GeoLocation | null {
  return column ? (JSON.parse(column) as GeoLocation) : null;
}

export function fromSession(session: SessionRecord): Database['sessions'] {
  const { lastActivityAt, stepUpRequired, amr, claims, location, ...rest } = session;
  return {
    ...rest,
    location: locationColumn(location),
    lastActivityAt,
    stepUpRequired: stepUpRequired ? 1 : 0,
    amr: amr === null ? null : JSON.stringify(amr),
    claims: claims === null ? null : JSON.stringify(claims),
  };
}

export function toRefreshToken(row: Selectable<Database['refreshTokens']>): RefreshTokenRecord {
  return {
    id: row.id,
    sessionId: row.sessionId,
    tokenHash: row.tokenHash,
    status: row.status as RefreshTokenStatus,
    createdAt: num(row.createdAt),
    rotatedAt: numOrNull(row.rotatedAt),
    successorId: row.successorId,
    successorSealed: row.successorSealed,
  };
}

export function fromLogEntry(entry: NewLogEntry): Omit<Database['sessionLogs'], 'id' | 'txId'> {
  return {
    userId: entry.userId,
    sessionId: entry.sessionId ?? null,
    deviceId: entry.deviceId ?? null,
    action: entry.action,
    success: entry.success ? 1 : 0,
    error: entry.error ?? null,
    ip: entry.ip,
    userAgent: entry.userAgent,
    actor: entry.actor ?? null,
    detail: entry.detail ? JSON.stringify(entry.detail) : null,
    createdAt: entry.createdAt,
  };
}

export function toLog(row: Selectable<Database['sessionLogs']>): LogRecord {
  return {
    id: num(row.id),
    userId: row.userId,
    sessionId: row.sessionId,
    deviceId: row.deviceId,
    action: row.action as LogAction,
    success: num(row.success) === 1,
    error: row.error,
    ip: row.ip,
    userAgent: row.userAgent,
    actor: row.actor as LogRecord['actor'],
    detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null,
    createdAt: num(row.createdAt),
  };
}

export function toSigningKey(row: Selectable<Database['signingKeys']>): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJWK: row.publicJwk,
    privateKeySealed: row.privateKeySealed,
    createdAt: num(row.createdAt),
    retiredAt: numOrNull(row.retiredAt),
  };
}
