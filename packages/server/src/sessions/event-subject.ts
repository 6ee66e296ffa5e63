import type { LifecycleEvent, LogAction } from '@sessiond/protocol';
import type { RequestContext } from '../http/request-context.js';
import type { NewLogEntry, SessionRecord } from '../store/records.js';

/** The common part of every lifecycle event about a session. */
export function eventSubject(session: SessionRecord, now: number): LifecycleEvent {
  return {
    user_id: session.userId,
    session_id: session.id,
    device_id: session.deviceId,
    at: new Date(now).toISOString(),
  };
}

/** The audit-log row of something the system did to a session, with no request behind it. */
export function systemLogEntry(
  session: SessionRecord,
  action: LogAction,
  now: number,
  detail: Record<string, unknown>,
): NewLogEntry {
  return {
    action,
    success: true,
    userId: session.userId,
    sessionId: session.id,
    deviceId: session.deviceId,
    ip: null,
    userAgent: null,
    actor: 'system',
    detail,
    createdAt: now,
  };
}

/** The audit-log row of something the user did from a session (a factor change, say). */
export function userLogEntry(
  session: SessionRecord,
  context: RequestContext,
  action: LogAction,
  now: number,
  detail?: Record<string, unknown>,
): NewLogEntry {
  return {
    action,
    success: true,
    userId: session.userId,
    sessionId: session.id,
    deviceId: session.deviceId,
    ip: context.ip,
    userAgent: context.userAgent,
    actor: 'user',
    ...(detail !== undefined ? { detail } : {}),
    createdAt: now,
  };
}
