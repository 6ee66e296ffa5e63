import type { SessionEndReason } from './events.js';
import type { AssuranceLevel, Device, GeoLocation, LogEntry } from './wire.js';

/** Wire shapes of the admin API (`/api/admin/...`, docs/api.md#administration). Times are ISO 8601. */

/** Where a session stands: `expired` is timed out but not yet marked ended by the sweeper. */
export type AdminSessionState = 'live' | 'expired' | 'ended';

export interface AdminSession {
  id: string;
  user_id: string;
  device_id: string;
  client_id: string;
  acr: AssuranceLevel;
  state: AdminSessionState;
  ip: string | null;
  user_agent: string | null;
  /** Where the session opened, when SESSIOND_GEOIP is on; null when not known. */
  location: GeoLocation | null;
  created_at: string;
  last_activity_at: string;
  idle_expires_at: string;
  expires_at: string;
  ended_at: string | null;
  /** Why it ended, or which deadline it passed while `expired`; null while live. */
  end_reason: SessionEndReason | null;
  step_up_required: boolean;
  refresh_count: number;
}

export interface AdminSessionPage {
  sessions: AdminSession[];
  next_cursor: string | null;
}

export interface AdminDevicePage {
  devices: Device[];
  next_cursor: string | null;
}

/** A log row as the admin search returns it: the user's own view plus whose row it is. */
export interface AdminLogEntry extends LogEntry {
  user_id: string | null;
}

export interface AdminLogPage {
  logs: AdminLogEntry[];
  next_cursor: string | null;
}

export interface AdminRevokeAnswer {
  session_id: string;
  revoked: boolean;
}

export interface AdminRevokeAllAnswer {
  user_id: string;
  revoked: number;
}

/** `GET /api/admin/analytics/logins-per-day`: every UTC day of the range, zeros included. */
export interface LoginsPerDay {
  from: string;
  to: string;
  days: Array<{ date: string; logins: number; failed_logins: number }>;
}

/** `GET /api/admin/analytics/active-by-device`: live sessions now, by the device's type. */
export interface ActiveByDevice {
  at: string;
  total: number;
  /** `device_type` is `unknown` when the User-Agent said nothing; largest first. */
  device_types: Array<{ device_type: string; sessions: number }>;
}

/** `GET /api/admin/analytics/session-duration`: sessions that ended in the range. */
export interface SessionDuration {
  from: string;
  to: string;
  sessions: number;
  /** null when no session ended in the range. */
  average_seconds: number | null;
  reasons: Array<{ reason: SessionEndReason; sessions: number; average_seconds: number }>;
}

/** `GET /api/admin/analytics/failed-logins`: the users with the most failed sign-ins. */
export interface FailedLogins {
  from: string;
  to: string;
  users: Array<{ user_id: string; email: string | null; failed_logins: number; last_failed_at: string }>;
}

/** `GET /api/admin/analytics/suspicious-ips`: the IPs with the most sign-in attempts. */
export interface SuspiciousIPs {
  from: string;
  to: string;
  ips: Array<{ ip: string; attempts: number; failed: number; succeeded: number; users: number }>;
}
