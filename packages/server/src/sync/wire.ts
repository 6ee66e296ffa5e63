import type { EventPayloads, SyncOperation, SyncSessionEvent } from '@sessiond/protocol';
import type { StateOperationRecord } from '../store/session-store.js';

/** An operation of the log as the sync protocol and the HTTP catch-up carry it. */
export function syncOperation(record: StateOperationRecord): SyncOperation {
  return { seq: record.seq, client_op_id: record.clientOpId, operation: record.operation };
}

/** The bus events a user's devices hear over the socket, and how each reads on the wire. */
export const SESSION_EVENTS_FOR_DEVICES = {
  'session.revoked': (e: EventPayloads['session.revoked']) =>
    sessionEvent('session.revoked', e, { reason: e.reason, actor: e.actor }),
  'device.new': (e: EventPayloads['device.new']) =>
    sessionEvent('session.new_device', e, { ip: e.ip, user_agent: e.user_agent }),
  'session.step_up_required': (e: EventPayloads['session.step_up_required']) =>
    sessionEvent('session.step_up_required', e, { reason: e.reason }),
  'session.logged_out_everywhere': (e: EventPayloads['session.logged_out_everywhere']) =>
    sessionEvent('session.logged_out_everywhere', e, {
      actor: e.actor,
      reason: e.reason,
      kept_session_id: e.kept_session_id,
      revoked: e.revoked,
    }),
  'factor.changed': (e: EventPayloads['factor.changed']) =>
    sessionEvent('account.factor_changed', e, { factor: e.factor, change: e.change }),
  'session.claims_changed': (e: EventPayloads['session.claims_changed']) =>
    sessionEvent('session.claims_changed', e, { claims: e.claims }),
} as const;

function sessionEvent(
  event: SyncSessionEvent['event'],
  payload: { session_id: string | null; device_id: string | null; at: string },
  detail: Record<string, unknown>,
): SyncSessionEvent {
  return {
    type: 'event',
    event,
    session_id: payload.session_id,
    device_id: payload.device_id,
    at: payload.at,
    detail,
  };
}
