import type { Actor, AssuranceLevel, LogAction, SessionEndReason } from '@sessiond/protocol';
import type { GeoLocation } from '../privacy/geo-locator.js';

/** Domain records as the services see them. Times are epoch milliseconds. */

export interface UserRecord {
  id: string;
  /** Normalised (accounts/email.ts); null for a user provisioned without one (issue 13). */
  email: string | null;
  /** argon2id; null for a user who signs in only through a backend or an OpenID provider. */
  passwordHash: string | null;
  createdAt: number;
  /** The TOTP secret sealed under the master secret; null without a factor. */
  totpSecretSealed?: string | null;
  /** Null until the first code is confirmed. */
  totpEnabledAt?: number | null;
  /** An enrolment started and not yet confirmed; the enabled factor stays as it is meanwhile. */
  totpPendingSealed?: string | null;
}

export interface DeviceRecord {
  userId: string;
  id: string;
  name: string | null;
  platform: string | null;
  browser: string | null;
  os: string | null;
  deviceType: string | null;
  userAgent: string | null;
  trusted: boolean;
  trustedAt: number | null;
  firstSeenAt: number;
  lastSeenAt: number;
  lastIP: string | null;
  /**
   * SHA-256 of the device secret the device was given at its first sign-in; null for a device
   * first seen before device binding (it gets one at its next sign-in, and loses its trust).
   */
  secretHash: string | null;
  /** Where the device last signed in (SESSIOND_GEOIP, decision 035); absent or null: not known. */
  location?: GeoLocation | null;
}

export interface SessionRecord {
  id: string;
  userId: string;
  deviceId: string;
  clientId: string;
  acr: AssuranceLevel;
  ip: string | null;
  userAgent: string | null;
  authTime: number;
  createdAt: number;
  lastActivityAt: number;
  /** The inactivity timeout that applies (policy: longer on a trusted device). */
  idleTimeoutMs: number;
  /** Sliding: now + idleTimeoutMs at each refresh and touch. */
  idleExpiresAt: number;
  /** Absolute: fixed at creation. */
  expiresAt: number;
  endedAt: number | null;
  endReason: SessionEndReason | null;
  stepUpRequired: boolean;
  refreshCount: number;
  /** When the session last re-authenticated with a step-up, and with what; null if never. */
  reauthAt: number | null;
  reauthFactor: StepUpFactor | null;
  /** How the user authenticated (RFC 8176: `pwd`, `otp`, ...), as recorded; null if not said. */
  amr: readonly string[] | null;
  /** The app's custom claims (names allow-listed by SESSIOND_CUSTOM_CLAIMS); null for none. */
  claims: Readonly<Record<string, unknown>> | null;
  /** For a session an authorization code opened: the SSO session it came from (issue 15). */
  ssoSessionId: string | null;
  /** For a session an authorization code opened: the scopes granted, space-separated. */
  scope: string | null;
  /** Where the session opened (SESSIOND_GEOIP, decision 035); absent or null: not known. */
  location?: GeoLocation | null;
}

/** A source that vouches for a user (`backend:<id>`, `oidc:<issuer>`) and its id for them. */
export interface UserLink {
  source: string;
  subject: string;
  userId: string;
  createdAt: number;
}

/**
 * The factors a step-up (or a sign-in's second step) can be made with. A passkey counts only
 * with user verification; an email code is a one-time code sent to the account's address.
 */
export type StepUpFactor = 'password' | 'totp' | 'passkey' | 'email_code';

export type RefreshTokenStatus = 'active' | 'rotated' | 'revoked';

export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  /** SHA-256 of the token; the token itself is never stored. */
  tokenHash: string;
  status: RefreshTokenStatus;
  createdAt: number;
  rotatedAt: number | null;
  successorId: string | null;
  /**
   * The successor token, encrypted, for the grace window only: useless once the successor is
   * used (the grace rule checks that), and dropped by the sweeper once the window is over.
   */
  successorSealed: string | null;
}

export interface NewRefreshToken {
  id: string;
  sessionId: string;
  tokenHash: string;
  createdAt: number;
}

export interface NewLogEntry {
  action: LogAction;
  success: boolean;
  error?: string | null;
  userId: string | null;
  sessionId?: string | null;
  deviceId?: string | null;
  ip: string | null;
  userAgent: string | null;
  actor?: Actor | null;
  /** Small JSON-serialisable details (reason, grace, ...). Never secrets. */
  detail?: Record<string, unknown> | null;
  createdAt: number;
}

export interface LogRecord extends Required<Omit<NewLogEntry, 'detail'>> {
  id: number;
  detail: Record<string, unknown> | null;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJWK: string;
  privateKeySealed: string;
  createdAt: number;
  /** When a newer key replaced it; it stays published while tokens it signed can live. */
  retiredAt: number | null;
}
