import type { AdminLogEntry, AdminSession } from '@sessiond/protocol';
import { timeoutReason } from '../sessions/session-ending.js';
import type { LogRecord, SessionRecord } from '../store/records.js';
import { iso, logView, sessionSummary } from './views.js';

/** Admin API wire shapes (snake_case, ISO 8601 times); the user-facing ones stay in views.ts. */

/** What users see of a session (`sessionSummary`), plus what only operators see. */
export function adminSessionView(session: SessionRecord, now: number): AdminSession {
  const timedOut = session.endedAt === null ? timeoutReason(session, now) : undefined;
  return {
    ...sessionSummary(session),
    state: session.endedAt !== null ? 'ended' : timedOut ? 'expired' : 'live',
    ip: session.ip,
    user_agent: session.userAgent,
    location: session.location ?? null,
    ended_at: session.endedAt === null ? null : iso(session.endedAt),
    end_reason: session.endReason ?? timedOut ?? null,
    step_up_required: session.stepUpRequired,
    refresh_count: session.refreshCount,
  };
}

export function adminLogView(log: LogRecord): AdminLogEntry {
  return { ...logView(log), user_id: log.userId };
}
