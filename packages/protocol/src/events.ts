/**
 * Lifecycle events. One table feeds the audit log, the event bus and (later) the WebSocket hub,
 * webhooks and metrics; docs/events.md documents each payload.
 */
export const EVENT_NAMES = [
  'session.created',
  'session.refreshed',
  'session.revoked',
  'session.expired',
  'session.step_up',
  'refresh_token.reused',
  'device.new',
  'device.trusted',
  'device.forgotten',
  'login.failed',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];

/** How a session ended. `revoked` reasons name who or what ended it. */
export type SessionEndReason =
  | 'logout'
  | 'revoked'
  | 'revoked_all'
  | 'admin'
  | 'refresh_token_reused'
  | 'device_forgotten'
  | 'idle_timeout'
  | 'absolute_timeout';

/** Who performed a revocation, as written to the audit log. */
export type Actor = 'user' | 'admin' | 'system';

/** Actions of the audit log (`session_logs.action`). */
export const LOG_ACTIONS = [
  'login',
  'login_failed',
  'logout',
  'refresh',
  'refresh_reuse_detected',
  'session_expired',
  'session_revoked',
  'new_device_login',
  'step_up_required',
  'step_up',
  'device_trusted',
  'device_forgotten',
] as const;

export type LogAction = (typeof LOG_ACTIONS)[number];
