import type {
  ActiveByDevice,
  FailedLogins,
  LoginsPerDay,
  SessionDuration,
  SuspiciousIPs,
} from '@sessiond/protocol';
import type { Clock } from '../clock.js';
import type { AdminStore } from './admin-store.js';
import { DAY_MS, dayString, type RangeBounds, resolveDays, resolveRange } from './time-range.js';

/**
 * How far back each report looks by default, and at most. The bound is what keeps each query's
 * cost proportional to a window of the log, not to the whole log (docs/decisions/010). The IP
 * report reads the table row of every sign-in attempt in its window (for the IP and the user),
 * so its window is the shortest: a week, where a month measured about 100 ms on a million rows.
 */
export const ANALYTICS_RANGES = {
  loginsPerDay: { defaultDays: 30, maxDays: 366 },
  sessionDuration: { defaultDays: 7, maxDays: 31 },
  failedLogins: { defaultDays: 7, maxDays: 31 },
  suspiciousIPs: { defaultDays: 1, maxDays: 7 },
} as const satisfies Record<string, RangeBounds>;

/** How many rows a top-N report returns: `limit` is 1 to MAX, DEFAULT when absent. */
export const TOP_N = { default: 10, max: 100 } as const;

const iso = (ms: number): string => new Date(ms).toISOString();
const seconds = (ms: number): number => Math.round(ms / 100) / 10;

interface Range {
  from?: number | undefined;
  to?: number | undefined;
}

/** The admin API's reports over the audit log and the sessions table. */
export class AdminAnalytics {
  constructor(
    private readonly admin: AdminStore,
    private readonly clock: Clock,
  ) {}

  /** Successful and failed sign-ins per UTC day, every day of the range, zeros included. */
  async loginsPerDay(input: { from?: string | undefined; to?: string | undefined }): Promise<LoginsPerDay> {
    const { fromDay, toDay } = resolveDays(input, this.clock.now(), ANALYTICS_RANGES.loginsPerDay);
    const counts = await this.admin.loginsPerDay({ from: fromDay * DAY_MS, to: (toDay + 1) * DAY_MS });
    const days = Array.from({ length: toDay - fromDay + 1 }, (_, i) => ({
      date: dayString(fromDay + i),
      logins: 0,
      failed_logins: 0,
    }));
    for (const { day, action, count } of counts) {
      const entry = days[day - fromDay];
      if (entry === undefined) continue;
      if (action === 'login') entry.logins += count;
      else entry.failed_logins += count;
    }
    return { from: dayString(fromDay), to: dayString(toDay), days };
  }

  /** Sessions live now, by the type of their device. */
  async activeByDevice(): Promise<ActiveByDevice> {
    const now = this.clock.now();
    const rows = await this.admin.liveSessionsByDeviceType(now);
    const byType = new Map<string, number>();
    for (const row of rows) {
      const type = row.deviceType ?? 'unknown';
      byType.set(type, (byType.get(type) ?? 0) + row.sessions);
    }
    const deviceTypes = [...byType]
      .map(([device_type, sessions]) => ({ device_type, sessions }))
      .sort((a, b) => b.sessions - a.sessions || a.device_type.localeCompare(b.device_type));
    return {
      at: iso(now),
      total: deviceTypes.reduce((sum, entry) => sum + entry.sessions, 0),
      device_types: deviceTypes,
    };
  }

  /** The average length of the sessions that ended in the range, overall and by end reason. */
  async sessionDuration(input: Range): Promise<SessionDuration> {
    const range = resolveRange(input, this.clock.now(), ANALYTICS_RANGES.sessionDuration);
    const rows = await this.admin.endedSessionDurations(range);
    const sessions = rows.reduce((sum, row) => sum + row.sessions, 0);
    const totalMs = rows.reduce((sum, row) => sum + row.totalMs, 0);
    return {
      from: iso(range.from),
      to: iso(range.to),
      sessions,
      average_seconds: sessions === 0 ? null : seconds(totalMs / sessions),
      reasons: rows
        .map((row) => ({
          reason: row.reason,
          sessions: row.sessions,
          average_seconds: seconds(row.totalMs / row.sessions),
        }))
        .sort((a, b) => b.sessions - a.sessions || a.reason.localeCompare(b.reason)),
    };
  }

  /** The users with the most failed sign-ins in the range, most first. */
  async failedLogins(input: Range & { limit: number }): Promise<FailedLogins> {
    const range = resolveRange(input, this.clock.now(), ANALYTICS_RANGES.failedLogins);
    const rows = await this.admin.topFailedLogins(range, input.limit);
    return {
      from: iso(range.from),
      to: iso(range.to),
      users: rows.map((row) => ({
        user_id: row.userId,
        email: row.email,
        failed_logins: row.failed,
        last_failed_at: iso(row.lastAt),
      })),
    };
  }

  /** The IPs with the most sign-in attempts in the range (at least `minAttempts`), most first. */
  async suspiciousIPs(input: Range & { limit: number; minAttempts: number }): Promise<SuspiciousIPs> {
    const range = resolveRange(input, this.clock.now(), ANALYTICS_RANGES.suspiciousIPs);
    const rows = await this.admin.topLoginIPs(range, { limit: input.limit, minAttempts: input.minAttempts });
    return {
      from: iso(range.from),
      to: iso(range.to),
      ips: rows.map((row) => ({
        ip: row.ip,
        attempts: row.attempts,
        failed: row.failed,
        succeeded: row.attempts - row.failed,
        users: row.users,
      })),
    };
  }
}
