import type { AccessTokenClaims } from '@sessiond/protocol';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import { sha256 } from '../lib/crypto.js';
import type { Authenticator } from '../sessions/authenticator.js';
import { type SessionEnding, timeoutReason } from '../sessions/session-ending.js';
import type { SessionService, TokenGrant } from '../sessions/session-service.js';
import type { SessionRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import { OAuthError } from './oauth-error.js';

type TokenHint = 'access_token' | 'refresh_token';

export type Introspection =
  | { active: false }
  | {
      active: true;
      token_type: string;
      sub: string;
      sid: string;
      client_id: string;
      scope: string;
      exp: number;
      iat: number;
      iss: string;
      aud?: string;
      jti?: string;
    };

/**
 * The RFC 6749 refresh grant, RFC 7009 revocation and RFC 7662 introspection, on the same
 * session lifecycle as the JSON API: the same rotation, grace window and reuse detection.
 */
export class OAuthService {
  constructor(
    private readonly deps: {
      store: SessionStore;
      clock: Clock;
      sessions: SessionService;
      ending: SessionEnding;
      authenticator: Authenticator;
      clients: readonly string[];
      issuer: string;
    },
  ) {}

  /** A public client identifies itself with `client_id` (RFC 6749 §2.3, §3.2.1). */
  requireClient(clientId: string | undefined): string {
    if (clientId === undefined) throw new OAuthError('invalid_request', 'missing parameter client_id');
    if (!this.deps.clients.includes(clientId)) throw new OAuthError('invalid_client', 'unknown client');
    return clientId;
  }

  /** RFC 6749 §6. Every refusal of the token itself is `invalid_grant`. */
  async refreshGrant(
    input: { clientId: string; refreshToken: string; scope?: string },
    context: RequestContext,
  ): Promise<TokenGrant> {
    if (input.scope !== undefined) {
      // Sessions are granted no OAuth scopes, so any requested scope exceeds the original grant.
      throw new OAuthError('invalid_scope', 'sessiond sessions carry no scopes');
    }
    try {
      return await this.deps.sessions.refresh(input.refreshToken, context, { clientId: input.clientId });
    } catch (error) {
      if (error instanceof SessiondError && error.status === 401)
        throw new OAuthError('invalid_grant', error.message);
      throw error;
    }
  }

  /**
   * RFC 7009: revokes a refresh token (its session ends) or an access token (its session ends
   * too: access tokens are bound to their session). Unknown, invalid and already revoked tokens
   * are not errors. The hint orders the lookups but is not trusted.
   */
  async revoke(
    input: { clientId: string; token: string; hint?: string },
    context: RequestContext,
  ): Promise<void> {
    for (const kind of lookupOrder(input.hint)) {
      const session =
        kind === 'refresh_token'
          ? await this.#sessionOfRefreshToken(input.token)
          : await this.#sessionOfAccessToken(input.token);
      if (!session) continue;
      if (session.clientId !== input.clientId) {
        throw new OAuthError('invalid_request', 'the token was not issued to this client');
      }
      await this.deps.ending.revoke(session, { reason: 'revoked', actor: 'user', context });
      return;
    }
  }

  /** RFC 7662 §2.2: `active: false` for anything expired, revoked, malformed or unknown. */
  async introspect(input: { token: string; hint?: string }): Promise<Introspection> {
    for (const kind of lookupOrder(input.hint)) {
      const answer =
        kind === 'access_token'
          ? await this.#introspectAccessToken(input.token)
          : await this.#introspectRefreshToken(input.token);
      if (answer.active) return answer;
    }
    return { active: false };
  }

  async #introspectAccessToken(token: string): Promise<Introspection> {
    let claims: AccessTokenClaims;
    try {
      ({ claims } = await this.deps.authenticator.authenticate(token));
    } catch (error) {
      if (error instanceof SessiondError) return { active: false };
      throw error;
    }
    return {
      active: true,
      token_type: 'Bearer',
      sub: claims.sub,
      sid: claims.sid,
      client_id: claims.client_id,
      scope: '',
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      aud: claims.aud,
      jti: claims.jti,
    };
  }

  async #introspectRefreshToken(token: string): Promise<Introspection> {
    const record = await this.deps.store.findRefreshToken(sha256(token));
    if (record?.status !== 'active') return { active: false };
    const session = await this.deps.store.findSession(record.sessionId);
    if (!session || !isLive(session, this.deps.clock.now())) return { active: false };
    return {
      active: true,
      token_type: 'refresh_token',
      sub: session.userId,
      sid: session.id,
      client_id: session.clientId,
      scope: '',
      // A refresh token dies with its session's nearer deadline.
      exp: Math.floor(Math.min(session.expiresAt, session.idleExpiresAt) / 1000),
      iat: Math.floor(record.createdAt / 1000),
      iss: this.deps.issuer,
    };
  }

  async #sessionOfRefreshToken(token: string): Promise<SessionRecord | undefined> {
    const record = await this.deps.store.findRefreshToken(sha256(token));
    const session = record && (await this.deps.store.findSession(record.sessionId));
    return session && session.endedAt === null ? session : undefined;
  }

  async #sessionOfAccessToken(token: string): Promise<SessionRecord | undefined> {
    try {
      return (await this.deps.authenticator.authenticate(token)).session;
    } catch (error) {
      if (error instanceof SessiondError) return undefined;
      throw error;
    }
  }
}

function lookupOrder(hint: string | undefined): TokenHint[] {
  return hint === 'access_token' ? ['access_token', 'refresh_token'] : ['refresh_token', 'access_token'];
}

function isLive(session: SessionRecord, now: number): boolean {
  return session.endedAt === null && timeoutReason(session, now) === undefined;
}
