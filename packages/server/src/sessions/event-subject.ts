import type { LifecycleEvent } from '@sessiond/protocol';
import type { SessionRecord } from '../store/records.js';

/** The common part of every lifecycle event about a session. */
export function eventSubject(session: SessionRecord, now: number): LifecycleEvent {
  return {
    user_id: session.userId,
    session_id: session.id,
    device_id: session.deviceId,
    at: new Date(now).toISOString(),
  };
}
