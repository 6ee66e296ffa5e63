import type { SeededData } from './seed-log.js';

const DAY_MS = 86_400_000;

/** One measured admin request: what the table shows, and its path on the seeded data. */
export interface AdminRequest {
  id: string;
  /** As shown in the table. */
  label: string;
  path: string;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const time = (ms: number): string => new Date(ms).toISOString();

/**
 * The log searches an operator makes and every report, each over explicit ranges (so both
 * servers answer the very same question, and their answers can be compared), the analytics at
 * their longest allowed range: the worst an admin request can cost.
 */
export function adminRequests(seeded: SeededData): AdminRequest[] {
  const { now } = seeded;
  const monthAgo = now - 30 * DAY_MS;
  const range31 = `from=${time(now - 31 * DAY_MS)}&to=${time(now)}`;
  return [
    { id: 'logs-latest', label: 'logs, newest 50', path: '/api/admin/logs?limit=50' },
    {
      id: 'logs-action',
      label: 'logs, `action=login_failed`',
      path: '/api/admin/logs?action=login_failed&limit=50',
    },
    { id: 'logs-ip', label: 'logs, one IP', path: `/api/admin/logs?ip=${seeded.sampleIP}&limit=50` },
    {
      id: 'logs-range',
      label: 'logs, one hour a month ago',
      path: `/api/admin/logs?from=${time(monthAgo)}&to=${time(monthAgo + 3_600_000)}&limit=50`,
    },
    {
      id: 'logs-user',
      label: 'logs, one user (index of migration 0001)',
      path: `/api/admin/logs?user_id=${seeded.sampleUserId}&limit=50`,
    },
    {
      id: 'logins-per-day',
      label: 'logins-per-day, 30 days',
      path: `/api/admin/analytics/logins-per-day?from=${day(now - 29 * DAY_MS)}&to=${day(now)}`,
    },
    {
      id: 'logins-per-day-year',
      label: 'logins-per-day, 366 days (the most)',
      path: `/api/admin/analytics/logins-per-day?from=${day(now - 365 * DAY_MS)}&to=${day(now)}`,
    },
    {
      id: 'active-by-device',
      label: 'active-by-device (sessions table)',
      path: '/api/admin/analytics/active-by-device',
    },
    {
      id: 'session-duration',
      label: 'session-duration, 31 days (the most; sessions table)',
      path: `/api/admin/analytics/session-duration?${range31}`,
    },
    {
      id: 'failed-logins',
      label: 'failed-logins, 31 days (the most), top 10',
      path: `/api/admin/analytics/failed-logins?${range31}`,
    },
    {
      id: 'suspicious-ips',
      label: 'suspicious-ips, 7 days (the most), top 10',
      path: `/api/admin/analytics/suspicious-ips?from=${time(now - 7 * DAY_MS)}&to=${time(now)}`,
    },
  ];
}
