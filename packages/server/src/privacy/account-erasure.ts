import type { Actor } from '@sessiond/protocol';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { SessionEnding } from '../sessions/session-ending.js';
import type { NewLogEntry } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';

/** Who asked for an erasure: the user from one of their sessions, an operator, or a backend. */
export type ErasureRequester =
  | { actor: 'user'; sessionId: string; deviceId: string }
  | { actor: 'admin' }
  | { actor: 'backend'; backendId: string };

/**
 * Erasure of an account (decision 036). The store does it in one transaction (tombstone, sessions
 * ended, personal data deleted, the log pseudonymised, a `user_erased` row that becomes the
 * `user.erased` webhook); this announces the ended sessions on the bus afterwards, as a
 * revoke-all does, so verifiers' revocation streams and sync sockets hear it at once.
 */
export class AccountErasure {
  constructor(private readonly deps: { store: SessionStore; ending: SessionEnding; clock: Clock }) {}

  /** Erases the user; 404 `user_not_found` if there is none (or it was erased already). */
  async erase(userId: string, requester: ErasureRequester): Promise<{ sessionsRevoked: number }> {
    const now = this.deps.clock.now();
    const actor: Actor = requester.actor;
    const requestedBy =
      requester.actor === 'user'
        ? { sessionId: requester.sessionId, deviceId: requester.deviceId }
        : undefined;
    // No address or user agent on these rows: for a user's own request they would be theirs.
    const base = { success: true, userId, ip: null, userAgent: null, actor, createdAt: now };
    const ended = await this.deps.store.eraseUser({
      userId,
      now,
      sessionLog: (session): NewLogEntry => ({
        ...base,
        action: 'session_revoked',
        sessionId: session.id,
        deviceId: session.deviceId,
        detail: { reason: 'user_erased' },
      }),
      log: (sessionsRevoked): NewLogEntry => ({
        ...base,
        action: 'user_erased',
        sessionId: requestedBy?.sessionId ?? null,
        deviceId: requestedBy?.deviceId ?? null,
        detail: {
          sessions_revoked: sessionsRevoked,
          ...(requester.actor === 'backend' ? { backend: requester.backendId } : {}),
        },
      }),
    });
    if (!ended) throw new SessiondError('user_not_found', 'no such user');
    this.deps.ending.announceLoggedOutEverywhere(
      ended,
      { userId, reason: 'user_erased', actor, ...(requestedBy ? { requestedBy } : {}) },
      now,
    );
    return { sessionsRevoked: ended.length };
  }
}
