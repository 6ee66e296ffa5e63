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
  'session.step_up_required',
  'session.logged_out_everywhere',
  'refresh_token.reused',
  'device.new',
  'device.trusted',
  'device.forgotten',
  'factor.changed',
  'session.claims_changed',
  'login.failed',
  'login.second_factor_required',
  'state.changed',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];

/** How a session ended. `revoked` reasons name who or what ended it. */
export type SessionEndReason =
  | 'logout'
  | 'revoked'
  | 'revoked_all'
  | 'admin'
  /** A registered backend revoked the user's sessions (`POST /api/backend/users/:id/revoke-all`). */
  | 'backend'
  | 'refresh_token_reused'
  | 'device_forgotten'
  /** The SSO session that authorized this app session ended (RP-initiated logout, decision 030). */
  | 'sso_session_ended'
  /** The user's account was erased (decision 036): every session ends with it. */
  | 'user_erased'
  | 'idle_timeout'
  | 'absolute_timeout';

/** Who performed a revocation, as written to the audit log. */
export type Actor = 'user' | 'admin' | 'system' | 'backend';

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
  /** Risk signals fired on a refresh without reaching the step-up threshold (detail: the verdict). */
  'risk_assessed',
  /** A TOTP factor was confirmed (detail `replaced`: it replaced an enabled one). */
  'totp_enrolled',
  'totp_removed',
  /** A passkey was added (detail: `passkey_id`, the credential id) or removed. */
  'passkey_registered',
  'passkey_removed',
  /**
   * A passkey's signed assertion carried a signature counter that did not increase: a copy of the
   * authenticator may be in use (detail: `passkey_id`, `stored_counter`, `counter`). Refused.
   */
  'passkey_clone_suspected',
  /** A backend replaced the session's custom claims (detail: `backend`, the claim `names`). */
  'claims_changed',
  /**
   * A suspicious password sign-in got no session, only a pending sign-in waiting for a second
   * factor (detail: the risk verdict and the accepted `factors`; decision 026).
   */
  'second_factor_required',
  /**
   * The account was erased (decision 036): its personal data deleted, its older log rows kept
   * pseudonymised. `user_id` stays as an opaque id; detail: `sessions_revoked`.
   */
  'user_erased',
] as const;

export type LogAction = (typeof LOG_ACTIONS)[number];

/** Payload of every lifecycle event; times are ISO 8601. */
export interface LifecycleEvent {
  user_id: string | null;
  session_id: string | null;
  device_id: string | null;
  at: string;
}

export interface EventPayloads {
  /**
   * `risk`: the sign-in's verdict: `allowed`, `step_up_required` (suspicious: the session must
   * step up before anything sensitive), or `second_factor_passed` (suspicious, and the second
   * factor it was asked for passed; decision 026).
   */
  'session.created': LifecycleEvent & {
    client_id: string;
    new_device: boolean;
    risk: 'allowed' | 'step_up_required' | 'second_factor_passed';
  };
  'session.refreshed': LifecycleEvent;
  /** `access_valid_until`: the latest `exp` of an access token this session may still present. */
  'session.revoked': LifecycleEvent & { reason: SessionEndReason; actor: Actor; access_valid_until: string };
  'session.expired': LifecycleEvent & { reason: 'idle_timeout' | 'absolute_timeout' };
  /**
   * The session re-authenticated (decision 024): `factor` is what it stepped up with
   * (`passkey`, `totp`, `email_code`, `password`), `acr` its assurance afterwards.
   */
  'session.step_up': LifecycleEvent & {
    factor: 'password' | 'totp' | 'passkey' | 'email_code';
    acr: 'aal1' | 'aal2';
  };
  /** The session must re-authenticate before sensitive operations (`reason`: why it was flagged). */
  'session.step_up_required': LifecycleEvent & { reason: string };
  /**
   * Every session of the user was revoked at once; `session_id` is the one that asked (null for
   * an administrator), `kept_session_id` the one spared, if any. Each session also has its own
   * `session.revoked`.
   */
  'session.logged_out_everywhere': LifecycleEvent & {
    actor: Actor;
    reason: SessionEndReason;
    kept_session_id: string | null;
    revoked: number;
  };
  'refresh_token.reused': LifecycleEvent & { ip: string | null };
  'device.new': LifecycleEvent & { ip: string | null; user_agent: string | null };
  'device.trusted': LifecycleEvent & { trusted: boolean };
  'device.forgotten': LifecycleEvent;
  /** A factor was added, replaced or removed; `session_id` is the session that changed it. */
  'factor.changed': LifecycleEvent & {
    factor: 'totp' | 'passkey';
    change: 'enrolled' | 'replaced' | 'removed';
  };
  'login.failed': LifecycleEvent & { ip: string | null };
  /** A suspicious password sign-in waits for one of `factors` (no session yet; decision 026). */
  'login.second_factor_required': LifecycleEvent & { ip: string | null; factors: string[] };
  /**
   * A backend replaced the custom claims of the session (one event per live session of the
   * user); its next access token carries `claims`. `backend` is the backend's id.
   */
  'session.claims_changed': LifecycleEvent & { backend: string; claims: Record<string, unknown> | null };
  /** A state operation was applied (the WebSocket hub fans it out to the user's devices). */
  'state.changed': LifecycleEvent & {
    namespace: string;
    seq: number;
    /** The namespace's sequence number before this operation (subscribers detect gaps with it). */
    prev_seq: number;
    client_op_id: string;
    operation: unknown;
  };
}
