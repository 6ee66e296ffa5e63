import type { CeremonyStore } from '../ceremonies/ceremony-store.js';
import type { Clock } from '../clock.js';
import { randomToken, sha256 } from '../lib/crypto.js';
import type { SessionRecord } from '../store/records.js';
import type { AuthorizationCodeStore } from './authorization-code-store.js';
import { type AuthorizationNeeds, authorizationNeeds } from './authorization-needs.js';
import type { AuthorizationRequest } from './authorization-request.js';
import { authorizationResponse } from './authorization-response.js';

/** An authorization code lives this long: the redirect to the client and one token request back. */
export const AUTHORIZATION_CODE_TTL_MS = 60_000;
/** A request waits this long for the user to sign in on sessiond's page. */
export const AUTHORIZATION_REQUEST_TTL_MS = 10 * 60_000;

/** Where to send the browser: always a 302 `location`. */
export interface AuthorizationRedirect {
  location: string;
}

/** A request waiting on the sign-in page, and what the page must get from the user. */
export interface PendingAuthorization {
  request: AuthorizationRequest;
  needs: AuthorizationNeeds;
}

export type ResumeOutcome =
  | { kind: 'redirect'; location: string }
  /** The SSO session does not satisfy the request yet: the page asks for what `needs` says. */
  | { kind: 'needs'; needs: AuthorizationNeeds }
  /** Unknown, expired or already answered: the user starts again at the app. */
  | { kind: 'expired' };

/**
 * Answers validated authorization requests (OpenID Connect Core §3.1.2): with a code when the
 * browser's SSO session satisfies the request, else by parking the request (a ceremony) while the
 * user signs in or steps up on sessiond's page, which then calls `resume`.
 */
export class AuthorizationService {
  constructor(
    private readonly deps: {
      codes: AuthorizationCodeStore;
      ceremonies: CeremonyStore;
      clock: Clock;
      issuer: string;
    },
  ) {}

  async begin(request: AuthorizationRequest, sso: SessionRecord | undefined): Promise<AuthorizationRedirect> {
    const now = this.deps.clock.now();
    const { satisfied, needs } = authorizationNeeds(request, sso, now);
    if (satisfied && sso) return { location: await this.#issueCode(request, sso, now) };
    if (request.prompt === 'none') {
      // OpenID Core §3.1.2.6: login_required when the user would have to authenticate.
      const error = needs.signIn || needs.freshLoginRequired ? 'login_required' : 'interaction_required';
      const description = needs.signIn
        ? 'the user is not signed in at sessiond'
        : needs.freshLoginRequired
          ? 'the user must authenticate again'
          : 'the user must step up to a higher assurance level';
      return {
        location: authorizationResponse(request.redirectURI, this.deps.issuer, {
          error,
          description,
          state: request.state,
        }),
      };
    }
    const requestId = randomToken('ar_');
    await this.deps.ceremonies.open(
      {
        // The handle's hash: the database never holds what the URL carries.
        id: sha256(requestId),
        purpose: 'authorization_request',
        userId: null,
        sessionId: null,
        secretHash: sha256(requestId),
        data: request,
        createdAt: now,
        expiresAt: now + AUTHORIZATION_REQUEST_TTL_MS,
      },
      now,
    );
    return { location: `${this.deps.issuer}/oauth/sign-in?request=${encodeURIComponent(requestId)}` };
  }

  /** The waiting request and what it still needs of `sso` (the sign-in page renders from this). */
  async pending(
    requestId: string,
    sso: SessionRecord | undefined,
  ): Promise<PendingAuthorization | undefined> {
    const now = this.deps.clock.now();
    const ceremony = await this.deps.ceremonies.find<AuthorizationRequest>(
      sha256(requestId),
      'authorization_request',
      now,
    );
    if (!ceremony) return undefined;
    return { request: ceremony.data, needs: authorizationNeeds(ceremony.data, sso, now).needs };
  }

  /**
   * Answers a waiting request once the user signed in (or stepped up) on the page, checking again
   * that `sso` now satisfies prompt=login, max_age and acr_values. The request is answered once.
   */
  async resume(requestId: string, sso: SessionRecord): Promise<ResumeOutcome> {
    const found = await this.pending(requestId, sso);
    if (!found) return { kind: 'expired' };
    const now = this.deps.clock.now();
    const { satisfied, needs } = authorizationNeeds(found.request, sso, now);
    if (!satisfied) return { kind: 'needs', needs };
    const ceremony = await this.deps.ceremonies.consume<AuthorizationRequest>(
      sha256(requestId),
      'authorization_request',
      now,
    );
    if (!ceremony) return { kind: 'expired' };
    return { kind: 'redirect', location: await this.#issueCode(ceremony.data, sso, now) };
  }

  async #issueCode(request: AuthorizationRequest, sso: SessionRecord, now: number): Promise<string> {
    const code = randomToken('ac_');
    await this.deps.codes.issue(
      {
        codeHash: sha256(code),
        clientId: request.clientId,
        userId: sso.userId,
        ssoSessionId: sso.id,
        redirectUri: request.redirectURI,
        codeChallenge: request.codeChallenge,
        scope: request.scope,
        nonce: request.nonce ?? null,
        createdAt: now,
        expiresAt: now + AUTHORIZATION_CODE_TTL_MS,
      },
      now,
    );
    return authorizationResponse(request.redirectURI, this.deps.issuer, { code, state: request.state });
  }
}
