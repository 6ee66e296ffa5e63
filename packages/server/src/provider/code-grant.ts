import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/request-context.js';
import { constantTimeEqual, sha256 } from '../lib/crypto.js';
import { OAuthError } from '../oauth/oauth-error.js';
import type { SessionEnding } from '../sessions/session-ending.js';
import { timeoutReason } from '../sessions/session-ending.js';
import type { SessionService, TokenGrant } from '../sessions/session-service.js';
import type { SessionStore } from '../store/session-store.js';
import type { AuthorizationCodeStore } from './authorization-code-store.js';
import type { RegisteredClient } from './client-registry.js';

/** RFC 7636 §4.1: 43-128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** The exchange's result: the app session's grant, and the nonce its ID token must carry. */
export interface CodeGrantResult {
  grant: TokenGrant;
  nonce: string | undefined;
}

/**
 * The authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6): the code is used once (a replay
 * is refused and revokes the session the first use opened, RFC 6749 §4.1.2), by the client it was
 * issued to, with the same redirect_uri and the PKCE verifier of its challenge. It opens the app's
 * own session, linked to the SSO session and carrying that session's authentication.
 */
export class AuthorizationCodeGrant {
  constructor(
    private readonly deps: {
      codes: AuthorizationCodeStore;
      store: SessionStore;
      sessions: SessionService;
      ending: SessionEnding;
      clock: Clock;
    },
  ) {}

  async exchange(
    input: {
      client: RegisteredClient;
      code: string;
      redirectURI: string | undefined;
      codeVerifier: string | undefined;
    },
    context: RequestContext,
  ): Promise<CodeGrantResult> {
    const { codes, clock, store } = this.deps;
    if (input.codeVerifier === undefined) {
      throw new OAuthError('invalid_request', 'missing parameter code_verifier (PKCE is required)');
    }
    if (input.redirectURI === undefined)
      throw new OAuthError('invalid_request', 'missing parameter redirect_uri');
    const codeHash = sha256(input.code);
    const outcome = await codes.consume(codeHash, clock.now());
    if (outcome.kind === 'unknown') throw new OAuthError('invalid_grant', 'the code is unknown or expired');
    if (outcome.kind === 'reused') {
      if (outcome.sessionId !== null) await this.#revoke(outcome.sessionId, context);
      throw new OAuthError('invalid_grant', 'the code was used before: what it issued is revoked');
    }
    const { code } = outcome;
    // Checked after the code is used: a wrong guess burns the code rather than leaving it to retry.
    if (code.clientId !== input.client.id)
      throw new OAuthError('invalid_grant', 'the code was issued to another client');
    if (code.redirectUri !== input.redirectURI) {
      throw new OAuthError('invalid_grant', 'redirect_uri differs from the authorization request');
    }
    const challenge = CODE_VERIFIER.test(input.codeVerifier)
      ? createHash('sha256').update(input.codeVerifier, 'ascii').digest('base64url')
      : '';
    if (!constantTimeEqual(challenge, code.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    }
    const now = clock.now();
    const sso = await store.findSession(code.ssoSessionId);
    if (!sso || sso.endedAt !== null || timeoutReason(sso, now) !== undefined) {
      throw new OAuthError('invalid_grant', 'the sign-in that authorized this code has ended');
    }
    const user = await store.findUserById(code.userId);
    if (!user) throw new OAuthError('invalid_grant', 'the user of this code no longer exists');
    const grant = await this.deps.sessions.startSession(
      user,
      {
        clientId: code.clientId,
        ssoSessionId: sso.id,
        scope: code.scope,
        sameDeviceAs: sso,
        authentication: {
          acr: sso.acr,
          ...(sso.amr !== null ? { amr: sso.amr } : {}),
          authTime: sso.authTime,
          detail: { method: 'authorization_code', sso_session_id: sso.id },
        },
        // The SSO session's sign-in was judged (and any demanded step-up passed) at the page.
        assessed: { verdict: { score: 0, signals: [], suspicious: false }, secondFactorPassed: false },
      },
      context,
    );
    if (await codes.attachSession(codeHash, grant.session.id)) {
      // Replayed while this exchange was opening the session: the replay could not revoke it.
      await this.#revoke(grant.session.id, context);
      throw new OAuthError('invalid_grant', 'the code was used twice: what it issued is revoked');
    }
    return { grant, nonce: code.nonce ?? undefined };
  }

  async #revoke(sessionId: string, context: RequestContext): Promise<void> {
    const session = await this.deps.store.findSession(sessionId);
    if (session) await this.deps.ending.revoke(session, { reason: 'revoked', actor: 'system', context });
  }
}
