import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { constantTimeEqual, type SecretBox } from '../lib/crypto.js';

/** What one sign-in through an upstream provider must remember between `start` and `callback`. */
export interface LoginState {
  provider: string;
  /** Sent to the provider and expected back (CSRF on the callback). */
  state: string;
  /** Sent to the provider and expected in the ID token (replay of an ID token). */
  nonce: string;
  /** Our PKCE verifier towards the provider (RFC 7636). */
  codeVerifier: string;
  /** Where the browser goes afterwards (checked against the allow-list at `start`). */
  redirect: string;
  clientId: string;
  /** `native`: the app's PKCE challenge (S256), and its own `state` to echo back. */
  app?: { codeChallenge: string; state?: string };
  expiresAt: number;
}

/** Long enough to sign in at the provider (password, MFA), short enough to bound a stolen cookie. */
export const LOGIN_STATE_TTL_MS = 10 * 60_000;

/** The cookie's path: only the OpenID routes receive it. */
const STATE_COOKIE_PATH = '/api/auth/oidc';

/**
 * The login state, sealed (AES-256-GCM under the master secret, decision 023) into an HttpOnly
 * cookie of this browser, so nothing is stored server-side before the user signs in, and the
 * callback accepts only the browser that started the sign-in: a `state` from another browser
 * (login CSRF, a swapped authorization response) does not match its cookie, and an altered
 * cookie does not open. SameSite=Lax: the provider's redirect back is a cross-site top-level GET,
 * which must carry it.
 */
export class LoginStateCookie {
  readonly #box: SecretBox;
  readonly #clock: Clock;
  readonly #name: string;
  readonly #secure: boolean;

  constructor(options: { box: SecretBox; clock: Clock; issuer: string }) {
    this.#box = options.box;
    this.#clock = options.clock;
    this.#secure = new URL(options.issuer).protocol === 'https:';
    this.#name = this.#secure ? '__Secure-sessiond_oidc' : 'sessiond_oidc';
  }

  get name(): string {
    return this.#name;
  }

  set(reply: FastifyReply, state: LoginState): void {
    reply.setCookie(this.#name, this.#box.seal(JSON.stringify(state)), {
      httpOnly: true,
      secure: this.#secure,
      sameSite: 'lax',
      path: STATE_COOKIE_PATH,
      maxAge: Math.ceil(LOGIN_STATE_TTL_MS / 1000),
    });
  }

  clear(reply: FastifyReply): void {
    reply.setCookie(this.#name, '', {
      httpOnly: true,
      secure: this.#secure,
      sameSite: 'lax',
      path: STATE_COOKIE_PATH,
      maxAge: 0,
    });
  }

  /**
   * The login state of this browser for `provider`, if its cookie opens, has not expired, and
   * holds the `state` the callback came back with; undefined otherwise (never a partial state).
   */
  read(
    request: FastifyRequest,
    expected: { provider: string; state: string | undefined },
  ): LoginState | undefined {
    const sealed = request.cookies[this.#name];
    if (!sealed || expected.state === undefined) return undefined;
    let state: LoginState;
    try {
      state = JSON.parse(this.#box.open(sealed)) as LoginState;
    } catch {
      return undefined;
    }
    if (state.provider !== expected.provider || state.expiresAt <= this.#clock.now()) return undefined;
    return constantTimeEqual(state.state, expected.state) ? state : undefined;
  }
}
