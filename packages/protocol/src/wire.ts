import type { LogAction } from './events.js';

/** Authentication assurance level (NIST SP 800-63B), carried in the `acr` claim. */
export type AssuranceLevel = 'aal1' | 'aal2';

export interface DeviceInput {
  id?: string;
  /** The device secret this device was given (`DeviceSummary.secret`): proves it is that device. */
  secret?: string;
  name?: string;
  platform?: string;
}

export interface DeviceSummary {
  id: string;
  trusted: boolean;
  /** True when this user had never signed in from this device before. */
  new: boolean;
  /**
   * Present only on the sign-in that issued it: the device's secret, to keep in secure storage
   * and send as `device.secret` with `device.id` at every sign-in. Without it, the id is a new
   * device (untrusted, announced as new).
   */
  secret?: string;
}

export interface Device {
  id: string;
  name: string | null;
  platform: string | null;
  browser: string | null;
  os: string | null;
  device_type: string | null;
  trusted: boolean;
  first_seen_at: string;
  last_seen_at: string;
  /** In its stored form (SESSIOND_IP_STORAGE): full, `203.0.113.0/24`, or `h:<network>:<address>`. */
  last_ip: string | null;
  /** Where the device last signed in, when SESSIOND_GEOIP is on; null when not known. */
  location: GeoLocation | null;
}

/** Country (ISO 3166-1 alpha-2) and city from geoip-lite's data; city null when it has none. */
export interface GeoLocation {
  country: string;
  city: string | null;
}

/** A registered passkey (WebAuthn credential) as `GET /api/auth/passkeys` lists it. */
export interface Passkey {
  /** The credential id, base64url. */
  id: string;
  name: string | null;
  created_at: string;
  last_used_at: string | null;
  /** The authenticator says the credential is backed up (synced to other devices). */
  backed_up: boolean;
  /** `singleDevice` or `multiDevice` (a synced passkey). */
  device_type: string;
  /** Transport hints the browser reported at registration (`internal`, `hybrid`, `usb`, ...). */
  transports: string[];
}

export interface SessionSummary {
  id: string;
  user_id: string;
  device_id: string;
  client_id: string;
  acr: AssuranceLevel;
  created_at: string;
  last_activity_at: string;
  expires_at: string;
  idle_expires_at: string;
}

/** Answer of `/api/auth/session/create`, `/refresh` and `/step-up`. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  session: SessionSummary;
  device: DeviceSummary;
}

export interface ActiveSession {
  id: string;
  device: Device | null;
  ip: string | null;
  user_agent: string | null;
  /** Where the session opened, when SESSIOND_GEOIP is on; null when not known. */
  location: GeoLocation | null;
  created_at: string;
  last_activity_at: string;
  current: boolean;
}

export interface SessionStatus {
  session: SessionSummary & { step_up_required: boolean };
  token: { expires_at: string; issued_at: string };
}

export interface LogEntry {
  id: string;
  action: LogAction;
  success: boolean;
  error: string | null;
  session_id: string | null;
  device_id: string | null;
  ip: string | null;
  user_agent: string | null;
  actor: string | null;
  /** Small structured context: why a session ended, whether a refresh used the grace window. */
  detail: Record<string, unknown> | null;
  created_at: string;
}

export interface LogPage {
  logs: LogEntry[];
  next_cursor: string | null;
}

/** Claims of a sessiond access token (RFC 9068 plus `sid`, `did`). */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  client_id: string;
  sid: string;
  did: string;
  iat: number;
  exp: number;
  jti: string;
  auth_time: number;
  acr: AssuranceLevel;
  /** How the user authenticated (RFC 8176), when the session says. */
  amr?: string[];
}
