import type { DeviceSummary, SessionSummary } from '@sessiond/protocol';

/** The named states of a client session. */
export type SessionStatus =
  | 'initializing'
  | 'authenticated'
  | 'refreshing'
  | 'offline'
  | 'step_up_required'
  /** Signed in, but the refresh token waits behind the biometric prompt: `client.unlock()` (decision 027). */
  | 'locked'
  | 'unauthenticated';

/** Why a session is not (or no longer) signed in, for the app to show. */
export type EndReason =
  | 'signed_out'
  | 'signed_out_everywhere'
  | 'revoked'
  | 'expired'
  | 'idle'
  | 'reused'
  /** The unlock gate's keychain item is gone (new biometrics enrolled, app data cleared). */
  | 'keychain_lost';

export interface SessionState {
  status: SessionStatus;
  session: SessionSummary | null;
  user: { id: string } | null;
  device: DeviceSummary | null;
  /** When the current access token expires (ms since epoch), or null when signed out. */
  accessTokenExpiresAt: number | null;
  /** Set when status is `unauthenticated` after having been signed in. */
  reason: EndReason | null;
}

export type SessionEvent =
  | 'restored'
  | 'restored_locked'
  | 'nothing_to_restore'
  | 'locked'
  | 'unlocked'
  | 'signed_in'
  | 'refresh_started'
  | 'refreshed'
  | 'network_failed'
  | 'step_up_needed'
  | 'stepped_up'
  | 'ended';

/**
 * Every legal transition. A state change happens only through `nextStatus`, so an illegal one
 * (say, `refreshed` while signed out, from a stale response) cannot happen.
 */
const TRANSITIONS: Record<SessionStatus, Partial<Record<SessionEvent, SessionStatus>>> = {
  initializing: {
    restored: 'authenticated',
    restored_locked: 'locked',
    nothing_to_restore: 'unauthenticated',
    ended: 'unauthenticated',
  },
  unauthenticated: { signed_in: 'authenticated' },
  locked: { unlocked: 'authenticated', signed_in: 'authenticated', ended: 'unauthenticated' },
  authenticated: {
    refresh_started: 'refreshing',
    refreshed: 'authenticated',
    network_failed: 'offline',
    step_up_needed: 'step_up_required',
    signed_in: 'authenticated',
    // A step-up the app asked for itself (before a factor change, say): no flag to clear.
    stepped_up: 'authenticated',
    locked: 'locked',
    ended: 'unauthenticated',
  },
  refreshing: {
    refreshed: 'authenticated',
    network_failed: 'offline',
    step_up_needed: 'step_up_required',
    stepped_up: 'authenticated',
    locked: 'locked',
    ended: 'unauthenticated',
  },
  offline: {
    refresh_started: 'refreshing',
    refreshed: 'authenticated',
    network_failed: 'offline',
    step_up_needed: 'step_up_required',
    stepped_up: 'authenticated',
    locked: 'locked',
    ended: 'unauthenticated',
  },
  step_up_required: {
    stepped_up: 'authenticated',
    refresh_started: 'step_up_required',
    refreshed: 'step_up_required',
    network_failed: 'step_up_required',
    locked: 'locked',
    ended: 'unauthenticated',
  },
};

/** The status after `event`, or undefined if `event` is not legal in `status`. */
export function nextStatus(status: SessionStatus, event: SessionEvent): SessionStatus | undefined {
  return TRANSITIONS[status][event];
}

export const SIGNED_OUT: SessionState = Object.freeze({
  status: 'unauthenticated',
  session: null,
  user: null,
  device: null,
  accessTokenExpiresAt: null,
  reason: null,
});
