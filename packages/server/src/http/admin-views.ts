import type { AdminLogEntry, AdminSession } from '@sessiond/protocol';
import { timeoutReason } from '../sessions/session-ending.js';
import type { LogRecord, SessionRecord } from '../store/records.js';
import { logView } from './views.js';

/** Admin API wire shapes (snake_case, ISO 8601 times); the user-facing ones stay in views.ts. */

const iso = (ms: number): string => new Date(ms).toISOString();

export function adminSessionView(session: SessionRecord, now: number): AdminSession {
  const timedOut = session.endedAt === null ? timeoutReason(session, now) : undefined;
  return {
    id: session.id,
    user_id: session.userId,
    device_id: session.deviceId,
    client_id: session.clientId,
    acr: session.acr,
    state: session.endedAt !== null ? 'ended' : timedOut ? 'expired' : 'live',
    ip: session.ip,
    user_agent: session.userAgent,
    created_at: iso(session.createdAt),
    last_activity_at: iso(session.lastActivityAt),
    idle_expires_at: iso(session.idleExpiresAt),
    expires_at: iso(session.expiresAt),
    ended_at: session.endedAt === null ? null : iso(session.endedAt),
    end_reason: session.endReason ?? timedOut ?? null,
    step_up_required: session.stepUpRequired,
    refresh_count: session.refreshCount,
  };
}

export function adminLogView(log: LogRecord): AdminLogEntry {
  return { ...logView(log), user_id: log.userId };
}
