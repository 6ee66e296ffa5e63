import type { Actor, SessionEndReason } from '@sessiond/protocol';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import { SSO_CLIENT_ID } from '../provider/client-registry.js';
import type { NewLogEntry, SessionRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import { eventSubject, systemLogEntry } from './event-subject.js';

const EXPIRY_REASONS = new Set<SessionEndReason>(['idle_timeout', 'absolute_timeout']);

/**
 * Ending sessions, by revocation or by timeout: one place that writes the log row and
 * publishes the event, so the audit log, the revocation stream and (later) the WebSocket hub
 * and webhooks always agree on how a session ended.
 */
export class SessionEnding {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly accessTokenTTLMs: number,
  ) {}

  /**
   * Revokes one session; false if it had already ended. Revoking an SSO session (sessiond's own
   * sign-in session) also ends every app session it authorized (decision 030).
   */
  async revoke(
    session: SessionRecord,
    input: { reason: SessionEndReason; actor: Actor; context: RequestContext | null },
  ): Promise<boolean> {
    if (session.clientId === SSO_CLIENT_ID) return (await this.endSSOSession(session, input)).length > 0;
    const now = this.clock.now();
    const ended = await this.store.endSession({
      sessionId: session.id,
      reason: input.reason,
      now,
      log: this.#revocationLog(session, input, now),
    });
    if (ended) this.announceRevoked(ended, input.reason, input.actor, now);
    return ended !== undefined;
  }

  /**
   * Ends an SSO session and, in the same transaction, every live app session whose
   * `ssoSessionId` is it (reason `sso_session_ended`, a `session_revoked` row each naming the SSO
   * session): signing out at sessiond signs out of the apps it signed into. Returns the sessions
   * ended, the SSO session first; empty if it had already ended. Expiry does not come here: an
   * app session outlives the sign-in page's idle timeout.
   */
  async endSSOSession(
    session: SessionRecord,
    input: { reason: SessionEndReason; actor: Actor; context: RequestContext | null },
  ): Promise<SessionRecord[]> {
    const now = this.clock.now();
    const cascade = { reason: 'sso_session_ended' as const, actor: input.actor, context: input.context };
    const ended = await this.store.endSSOSession({
      sessionId: session.id,
      reason: input.reason,
      now,
      log: this.#revocationLog(session, input, now),
      authorizedLog: (authorized) => {
        const log = this.#revocationLog(authorized, cascade, now);
        return { ...log, detail: { ...log.detail, sso_session_id: session.id } };
      },
    });
    for (const [index, each] of ended.entries()) {
      this.announceRevoked(each, index === 0 ? input.reason : cascade.reason, input.actor, now);
    }
    return ended;
  }

  /**
   * Revokes every live session of a user, optionally keeping one or only one device's. Without a
   * device, it is "log out everywhere": announced once as such, besides each session's revocation.
   */
  async revokeAll(input: {
    userId: string;
    reason: SessionEndReason;
    actor: Actor;
    context: RequestContext | null;
    exceptSessionId?: string;
    deviceId?: string;
    /** The session that asked for it, if a user did. */
    requestedBy?: { sessionId: string; deviceId: string };
  }): Promise<SessionRecord[]> {
    const now = this.clock.now();
    const ended = await this.store.endSessions({
      userId: input.userId,
      reason: input.reason,
      now,
      ...(input.exceptSessionId ? { exceptSessionId: input.exceptSessionId } : {}),
      ...(input.deviceId ? { deviceId: input.deviceId } : {}),
      log: (session) => this.#revocationLog(session, input, now),
    });
    if (input.deviceId === undefined) this.announceLoggedOutEverywhere(ended, input, now);
    else for (const session of ended) this.announceRevoked(session, input.reason, input.actor, now);
    return ended;
  }

  /**
   * Publishes "log out everywhere" for sessions of one user the store already ended together
   * (revoke-all, erasure), then each session's own revocation: verifiers and sockets hear it at once.
   */
  announceLoggedOutEverywhere(
    ended: readonly SessionRecord[],
    input: {
      userId: string;
      reason: SessionEndReason;
      actor: Actor;
      exceptSessionId?: string;
      requestedBy?: { sessionId: string; deviceId: string };
    },
    now: number,
  ): void {
    // Announced before the sessions' own revocations: their sockets close on those.
    this.bus.publish('session.logged_out_everywhere', {
      user_id: input.userId,
      session_id: input.requestedBy?.sessionId ?? null,
      device_id: input.requestedBy?.deviceId ?? null,
      at: new Date(now).toISOString(),
      actor: input.actor,
      reason: input.reason,
      kept_session_id: input.exceptSessionId ?? null,
      revoked: ended.length,
    });
    for (const session of ended) this.announceRevoked(session, input.reason, input.actor, now);
  }

  /**
   * Forgets a device: its record goes and its live sessions end, in one transaction with the
   * log rows. Returns the ended sessions, or undefined if the user has no such device.
   */
  async forgetDevice(input: {
    userId: string;
    deviceId: string;
    actor: Actor;
    context: RequestContext;
    currentSessionId: string;
  }): Promise<SessionRecord[] | undefined> {
    const now = this.clock.now();
    const revocation = { reason: 'device_forgotten' as const, actor: input.actor, context: input.context };
    const ended = await this.store.forgetDevice({
      userId: input.userId,
      deviceId: input.deviceId,
      now,
      sessionLog: (session) => this.#revocationLog(session, revocation, now),
      log: {
        action: 'device_forgotten',
        success: true,
        userId: input.userId,
        sessionId: input.currentSessionId,
        deviceId: input.deviceId,
        ip: input.context.ip,
        userAgent: input.context.userAgent,
        actor: input.actor,
        createdAt: now,
      },
    });
    for (const session of ended ?? []) this.announceRevoked(session, 'device_forgotten', input.actor, now);
    return ended;
  }

  /**
   * If `session` has passed a deadline but is not yet marked ended, ends it as expired (logged
   * once, whoever notices first: a request, a refresh or the sweeper). Returns whether it was due.
   */
  async expireIfDue(session: SessionRecord): Promise<boolean> {
    const now = this.clock.now();
    const reason = timeoutReason(session, now);
    if (!reason || session.endedAt !== null) return false;
    const ended = await this.store.endSession({
      sessionId: session.id,
      reason,
      now,
      log: systemLogEntry(session, 'session_expired', now, { reason }),
    });
    if (ended) {
      this.bus.publish('session.expired', { ...eventSubject(session, now), reason });
    }
    return true;
  }

  #revocationLog(
    session: SessionRecord,
    input: { reason: SessionEndReason; actor: Actor; context: RequestContext | null },
    now: number,
  ): NewLogEntry {
    return {
      action: input.reason === 'logout' ? 'logout' : 'session_revoked',
      success: true,
      userId: session.userId,
      sessionId: session.id,
      deviceId: session.deviceId,
      ip: input.context?.ip ?? null,
      userAgent: input.context?.userAgent ?? null,
      actor: input.actor,
      detail: { reason: input.reason },
      createdAt: now,
    };
  }

  /** Publishes `session.revoked` for a session the store already ended (e.g. inside a rotation). */
  announceRevoked(session: SessionRecord, reason: SessionEndReason, actor: Actor, now: number): void {
    this.bus.publish('session.revoked', {
      ...eventSubject(session, now),
      reason,
      actor,
      access_valid_until: new Date(now + this.accessTokenTTLMs).toISOString(),
    });
  }
}

export function timeoutReason(
  session: SessionRecord,
  now: number,
): 'idle_timeout' | 'absolute_timeout' | undefined {
  if (session.expiresAt <= now) return 'absolute_timeout';
  if (session.idleExpiresAt <= now) return 'idle_timeout';
  return undefined;
}

/** The error a client gets for a session that is no longer live. */
export function endedSessionError(session: SessionRecord, now: number): SessiondError {
  const reason = session.endReason ?? timeoutReason(session, now);
  if (reason && EXPIRY_REASONS.has(reason)) {
    return new SessiondError('session_expired', `session expired (${reason})`);
  }
  return new SessiondError('session_revoked', `session was revoked (${reason ?? 'unknown'})`);
}
