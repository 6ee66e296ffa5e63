import { createHash, randomUUID } from 'node:crypto';
import type { DeviceInput, ErrorCode } from '@sessiond/protocol';
import type { FastifyBaseLogger } from 'fastify';
import * as client from 'openid-client';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import { constantTimeEqual, randomToken, sha256 } from '../lib/crypto.js';
import type { SessionEnding } from '../sessions/session-ending.js';
import type { SessionService, TokenGrant } from '../sessions/session-service.js';
import type { SessionStore } from '../store/session-store.js';
import type { LoginCodeStore, StoredAuthentication } from './login-code-store.js';
import { LOGIN_STATE_TTL_MS, type LoginState } from './login-state.js';
import type { OIDCProviderConfig } from './oidc-config.js';
import type { RedirectAllowList } from './redirect-allow-list.js';
import type { UpstreamProviders } from './upstream-providers.js';

/** A native app's one-time code lives this long: the redirect to the app and one request back. */
export const LOGIN_CODE_TTL_MS = 60_000;

/** What `start` was asked: the provider, where to return, and for a native app its PKCE challenge. */
export interface StartInput {
  provider: string;
  redirect: string | undefined;
  clientId: string | undefined;
  app?: { codeChallenge: string; state?: string };
}

/** How a callback ends: where to send the browser, and for a web sign-in the grant to set as cookies. */
export type CallbackOutcome =
  | { kind: 'web'; grant: TokenGrant; redirect: URL }
  | { kind: 'native'; redirect: URL }
  | { kind: 'failed'; redirect: URL };

export interface OIDCSignInDeps {
  providers: UpstreamProviders;
  redirects: RedirectAllowList;
  store: SessionStore;
  codes: LoginCodeStore;
  sessions: SessionService;
  ending: SessionEnding;
  clock: Clock;
  /** Registered OAuth client ids (SESSIOND_CLIENTS). */
  clients: readonly string[];
  /** sessiond's own issuer URL: the callback is `<issuer>/api/auth/oidc/<name>/callback`. */
  issuer: string;
  log: FastifyBaseLogger;
}

/**
 * Sign-in through an upstream OpenID provider (issue 13, decision 023): authorization code with
 * PKCE (S256), state and nonce towards the provider; the ID token validated by openid-client
 * (signature against the provider's JWKS, iss, aud, exp, nonce). The user is the one linked to
 * (issuer, sub), provisioned on first sign-in; an email, verified or not, never links accounts.
 */
export class OIDCSignIn {
  constructor(private readonly deps: OIDCSignInDeps) {}

  /** The provider's authorization URL and the login state to bind to this browser. */
  async start(input: StartInput): Promise<{ url: URL; state: LoginState }> {
    const { providers, redirects, clock } = this.deps;
    const provider = providers.get(input.provider);
    const redirect = redirects.check(input.redirect ?? `${new URL(this.deps.issuer).origin}/`);
    if (!redirect) {
      throw new SessiondError(
        'redirect_not_allowed',
        'redirect is not on the allow-list (SESSIOND_OIDC_REDIRECTS)',
      );
    }
    if (!input.app && redirect.protocol !== 'http:' && redirect.protocol !== 'https:') {
      throw new SessiondError('invalid_request', 'an app redirect needs code_challenge (native sign-in)');
    }
    const clientId = input.clientId ?? 'default';
    if (!this.deps.clients.includes(clientId))
      throw new SessiondError('invalid_request', 'unknown client_id');
    const configuration = await providers.configuration(provider);
    const state: LoginState = {
      provider: provider.name,
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      redirect: redirect.href,
      clientId,
      ...(input.app ? { app: input.app } : {}),
      expiresAt: clock.now() + LOGIN_STATE_TTL_MS,
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.#callbackURL(provider),
      scope: provider.scope,
      code_challenge: await client.calculatePKCECodeChallenge(state.codeVerifier),
      code_challenge_method: 'S256',
      state: state.state,
      nonce: state.nonce,
    });
    return { url, state };
  }

  /**
   * Finishes a sign-in at the callback, for the browser whose login state is `state` (already
   * matched to the callback's `state` parameter). Every failure after that point is answered at
   * the redirect target, as `error=<code>`; nothing from the provider's answer is logged.
   */
  async callback(
    state: LoginState,
    query: URLSearchParams,
    context: RequestContext,
    /** The browser's device (its device cookie), for a web sign-in. */
    device?: DeviceInput,
  ): Promise<CallbackOutcome> {
    const provider = this.deps.providers.get(state.provider);
    const providerError = query.get('error');
    if (providerError !== null) {
      return this.#failed(state, 'oidc_provider_error', {
        // RFC 6749 §4.1.2.1: error codes are ASCII; anything else is not echoed.
        provider_error: /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/.test(providerError)
          ? providerError
          : 'invalid',
      });
    }
    let sub: string;
    let authTime: number | undefined;
    try {
      const configuration = await this.deps.providers.configuration(provider);
      const current = new URL(this.#callbackURL(provider));
      current.search = query.toString();
      const tokens = await client.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: state.codeVerifier,
        expectedNonce: state.nonce,
        expectedState: state.state,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('no ID token');
      sub = claims.sub;
      authTime = typeof claims.auth_time === 'number' ? claims.auth_time * 1000 : undefined;
    } catch (error) {
      // The kind of failure only (an openid-client code such as OAUTH_JWS_SIGNATURE_FAILED): the
      // error's text may quote the provider's answer.
      this.deps.log.warn(
        { provider: provider.name, reason: failureReason(error) },
        'OpenID sign-in failed: the provider answer did not validate',
      );
      const code: ErrorCode = error instanceof SessiondError ? error.code : 'oidc_login_failed';
      return this.#failed(state, code, {});
    }
    try {
      return await this.#finish(provider, state, { sub, authTime }, context, device);
    } catch (error) {
      // The user did sign in at the provider: a refusal here (storage down, ...) still goes back
      // to the app, with its code.
      if (error instanceof SessiondError) return this.#failed(state, error.code, {});
      throw error;
    }
  }

  async #finish(
    provider: OIDCProviderConfig,
    state: LoginState,
    identity: { sub: string; authTime: number | undefined },
    context: RequestContext,
    device: DeviceInput | undefined,
  ): Promise<CallbackOutcome> {
    const authentication = this.#authentication(provider, identity.authTime);
    const user = await this.#linkedUser(provider, identity.sub);
    if (state.app) {
      const code = randomToken('oc_');
      const now = this.deps.clock.now();
      await this.deps.codes.issue(
        {
          codeHash: sha256(code),
          userId: user.id,
          provider: provider.name,
          clientId: state.clientId,
          codeChallenge: state.app.codeChallenge,
          authentication,
          createdAt: now,
          expiresAt: now + LOGIN_CODE_TTL_MS,
        },
        now,
      );
      return { kind: 'native', redirect: withParams(state, { code }) };
    }
    const grant = await this.deps.sessions.startSession(
      user,
      { authentication, clientId: state.clientId, ...(device ? { device } : {}) },
      context,
    );
    return { kind: 'web', grant, redirect: new URL(state.redirect) };
  }

  /**
   * A native app's exchange of its one-time code and PKCE verifier for tokens. A code works once:
   * a second use is refused and revokes the session the first opened (the code leaked).
   */
  async exchange(
    input: { code: string; codeVerifier: string; device?: DeviceInput },
    context: RequestContext,
  ): Promise<TokenGrant> {
    const { codes, clock, store, sessions } = this.deps;
    const codeHash = sha256(input.code);
    const outcome = await codes.consume(codeHash, clock.now());
    if (outcome.kind === 'unknown') {
      throw new SessiondError('oidc_code_invalid', 'this sign-in code is unknown or expired: sign in again');
    }
    if (outcome.kind === 'reused') {
      if (outcome.sessionId !== null) await this.#revoke(outcome.sessionId, context);
      throw new SessiondError(
        'oidc_code_reused',
        'this sign-in code was used before: its session is revoked',
      );
    }
    const { code } = outcome;
    const challenge = createHash('sha256').update(input.codeVerifier).digest('base64url');
    if (!constantTimeEqual(challenge, code.codeChallenge)) {
      throw new SessiondError(
        'oidc_code_invalid',
        'code_verifier does not match the code_challenge of the sign-in',
      );
    }
    const user = await store.findUserById(code.userId);
    if (!user) throw new SessiondError('oidc_code_invalid', 'the user of this sign-in no longer exists');
    const grant = await sessions.startSession(
      user,
      {
        authentication: code.authentication,
        clientId: code.clientId,
        ...(input.device ? { device: input.device } : {}),
      },
      context,
    );
    if (await codes.attachSession(codeHash, grant.session.id)) {
      // Replayed while this exchange was opening the session: the replay could not revoke it.
      await this.#revoke(grant.session.id, context);
      throw new SessiondError('oidc_code_reused', 'this sign-in code was used twice: its session is revoked');
    }
    return grant;
  }

  #callbackURL(provider: OIDCProviderConfig): string {
    return `${this.deps.issuer}/api/auth/oidc/${provider.name}/callback`;
  }

  /**
   * One factor at a provider sessiond cannot see into: `aal1`, amr `fed` (federated), whatever
   * the provider's own acr says; a step-up still needs sessiond's own factor (decision 023).
   */
  #authentication(provider: OIDCProviderConfig, authTime: number | undefined): StoredAuthentication {
    const now = this.deps.clock.now();
    return {
      acr: 'aal1',
      amr: ['fed'],
      authTime: authTime === undefined ? now : Math.min(authTime, now),
      detail: { method: 'oidc', provider: provider.name },
    };
  }

  async #linkedUser(provider: OIDCProviderConfig, sub: string) {
    const now = this.deps.clock.now();
    const { user } = await this.deps.store.linkOrProvisionUser({
      source: `oidc:${provider.issuer}`,
      subject: sub,
      newUser: { id: randomUUID(), email: null, passwordHash: null, createdAt: now },
      now,
    });
    return user;
  }

  async #revoke(sessionId: string, context: RequestContext): Promise<void> {
    const session = await this.deps.store.findSession(sessionId);
    if (session) await this.deps.ending.revoke(session, { reason: 'revoked', actor: 'system', context });
  }

  #failed(state: LoginState, code: ErrorCode, extra: Record<string, string>): CallbackOutcome {
    return { kind: 'failed', redirect: withParams(state, { error: code, ...extra }) };
  }
}

/** The login's redirect target with `params` added (and a native app's own `state` echoed). */
function withParams(state: LoginState, params: Record<string, string>): URL {
  const url = new URL(state.redirect);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (state.app?.state !== undefined) url.searchParams.set('state', state.app.state);
  return url;
}

function failureReason(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError) return `authorization_response:${error.error}`;
  if (error instanceof client.ResponseBodyError) return `token_endpoint:${error.error}`;
  if (error instanceof SessiondError) return error.code;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return 'unknown';
}
