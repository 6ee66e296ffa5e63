import type { ActiveSession } from '@sessiond/protocol';
import type { SessiondCall } from './passkeys.js';

export type { ActiveSession };

/** `client.sessions`: the signed-in user's live sessions, on every device. */
export interface SessionManager {
  /** Live sessions, newest first; `current` marks this one (`GET /api/auth/session/active`). */
  list(): Promise<ActiveSession[]>;
  /**
   * Ends one of the user's sessions. True if it was live, false if it had ended already.
   * Another session, from a session flagged for step-up, is refused with `step_up_required`.
   */
  revoke(sessionId: string): Promise<boolean>;
  /**
   * Ends every other session of the user and keeps this one; resolves to how many ended. To end
   * this one too, use `client.signOutEverywhere()`.
   */
  revokeOthers(): Promise<number>;
}

export function sessionManager(call: SessiondCall): SessionManager {
  return {
    async list() {
      return (await call<{ sessions: ActiveSession[] }>('/api/auth/session/active', { method: 'GET' }))
        .sessions;
    },
    async revoke(sessionId) {
      const answer = await call<{ revoked: boolean }>('/api/auth/session/revoke', {
        method: 'POST',
        body: { session_id: sessionId },
      });
      return answer.revoked;
    },
    async revokeOthers() {
      const answer = await call<{ revoked: number }>('/api/auth/session/revoke-all', {
        method: 'POST',
        body: { keep_current: true },
      });
      return answer.revoked;
    },
  };
}
