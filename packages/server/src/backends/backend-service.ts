import type { AssuranceLevel, DeviceInput } from '@sessiond/protocol';
import type { AdminService, Page } from '../admin/admin-service.js';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import type { RegisteredBackend } from '../config.js';
import type { RequestContext } from '../http/request-context.js';
import { type CustomClaimsPolicy, checkCustomClaims } from '../sessions/custom-claims.js';
import { eventSubject } from '../sessions/event-subject.js';
import type { SessionEnding } from '../sessions/session-ending.js';
import type { SessionService, TokenGrant } from '../sessions/session-service.js';
import type { SessionRecord, UserRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import { type AMRValue, assertedAuthentication } from './asserted-authentication.js';
import type { BackendUserReference, BackendUsers } from './backend-users.js';

export interface BackendSessionInput {
  user: BackendUserReference;
  device?: DeviceInput | undefined;
  acr?: AssuranceLevel | undefined;
  amr?: readonly AMRValue[] | undefined;
  claims?: Readonly<Record<string, unknown>> | undefined;
  clientId?: string | undefined;
}

/**
 * What a registered backend can do (decision 022): open a session for a user it authenticated
 * itself, change the custom claims of a user's sessions, list and revoke them. Sessions open
 * through SessionService.startSession, so devices, risk, the audit log, events and webhooks
 * treat them exactly as password sessions.
 */
export class BackendService {
  constructor(
    private readonly deps: {
      store: SessionStore;
      clock: Clock;
      bus: EventBus;
      sessions: SessionService;
      users: BackendUsers;
      ending: SessionEnding;
      admin: AdminService;
      claims: CustomClaimsPolicy;
    },
  ) {}

  get users(): BackendUsers {
    return this.deps.users;
  }

  async createSession(
    backend: RegisteredBackend,
    input: BackendSessionInput,
    context: RequestContext,
  ): Promise<{ grant: TokenGrant; user: UserRecord; provisioned: boolean }> {
    // Everything the request asserts is checked before a user is provisioned for it.
    const claims = input.claims === undefined ? null : checkCustomClaims(input.claims, this.deps.claims);
    const probe = assertedAuthentication(backend, input, {});
    const { user, provisioned, linked } = await this.deps.users.resolve(backend.id, input.user);
    const authentication = {
      ...probe,
      detail: {
        backend: backend.id,
        ...(provisioned ? { provisioned: true } : {}),
        ...(linked ? { linked: true } : {}),
      },
    };
    const grant = await this.deps.sessions.startSession(
      user,
      {
        authentication,
        ...(input.device !== undefined ? { device: input.device } : {}),
        ...(input.clientId !== undefined ? { clientId: input.clientId } : {}),
        ...(claims !== null ? { claims } : {}),
      },
      context,
    );
    return { grant, user, provisioned };
  }

  /**
   * Replaces the custom claims of every live session of the user (null or `{}` removes them), in
   * one transaction with a `claims_changed` log row per session; each session hears
   * `session.claims_changed`. Access tokens already issued keep the claims they were signed with
   * until they expire; each session's next refresh carries the new ones.
   */
  async setClaims(
    backend: RegisteredBackend,
    userId: string,
    claims: Readonly<Record<string, unknown>> | null,
    context: RequestContext,
  ): Promise<SessionRecord[]> {
    const checked = claims === null ? null : checkCustomClaims(claims, this.deps.claims);
    await this.deps.users.requireUser(userId);
    const now = this.deps.clock.now();
    const names = checked === null ? [] : Object.keys(checked);
    const changed = await this.deps.store.setSessionClaims({
      userId,
      claims: checked,
      now,
      log: (session) => ({
        action: 'claims_changed',
        success: true,
        userId,
        sessionId: session.id,
        deviceId: session.deviceId,
        ip: context.ip,
        userAgent: context.userAgent,
        actor: 'backend',
        detail: { backend: backend.id, names },
        createdAt: now,
      }),
    });
    for (const session of changed) {
      this.deps.bus.publish('session.claims_changed', {
        ...eventSubject(session, now),
        backend: backend.id,
        claims: checked === null ? null : { ...checked },
      });
    }
    return changed;
  }

  /** Revokes every live session of the user (actor and reason `backend`); how many. */
  async revokeAll(userId: string, context: RequestContext): Promise<number> {
    await this.deps.users.requireUser(userId);
    const ended = await this.deps.ending.revokeAll({ userId, reason: 'backend', actor: 'backend', context });
    return ended.length;
  }

  /** The user's sessions, newest first (404 `user_not_found` for an unknown user). */
  listSessions(
    userId: string,
    query: { limit: number; cursor?: string | undefined; state: 'live' | 'all' },
  ): Promise<Page<SessionRecord>> {
    return this.deps.admin.listSessions(userId, query);
  }
}
