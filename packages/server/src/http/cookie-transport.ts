import type { DeviceInput, TokenResponse } from '@sessiond/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { TokenGrant } from '../sessions/session-service.js';
import { TokenCookies } from './token-cookies.js';
import { type CookieTokenResponse, cookieTokenResponse, tokenResponse } from './views.js';

/** How a token endpoint hands its tokens over: in the JSON body, or in HttpOnly cookies. */
export type TokenTransport = 'bearer' | 'cookie';

/** Opts a token endpoint into the cookie transport (`cookie`); absent or `bearer` is the default. */
export const TRANSPORT_HEADER = 'x-sessiond-transport';
/** The anti-CSRF header every state-changing cookie request carries, with the value `1`. */
export const CSRF_HEADER = 'x-sessiond-csrf';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * The web transport: which transport a request asked for, and the CSRF defence that a credential
 * the browser attaches by itself needs. Two independent checks, after OWASP's CSRF cheat sheet:
 * a custom header, which no cross-site form or image can send and a cross-site script can only
 * send after a CORS preflight that only the allowed origins pass; and the `Origin`, when the
 * browser names one, which must be the issuer's or an allowed one (RFC 6454 §7).
 */
export class CookieTransport {
  readonly cookies: TokenCookies;
  readonly #allowedOrigins: ReadonlySet<string>;

  constructor(options: { issuer: string; corsOrigins: readonly string[]; clock: Clock }) {
    this.cookies = new TokenCookies(options);
    this.#allowedOrigins = new Set([new URL(options.issuer).origin, ...options.corsOrigins]);
  }

  /**
   * The transport a token endpoint answers in. In cookie mode the request must also come from an
   * allowed origin (when it names one), so a foreign page cannot plant a session (login CSRF).
   */
  transportOf(request: FastifyRequest): TokenTransport {
    const mode = this.requestedTransport(request);
    if (mode === 'cookie') this.#requireAllowedOrigin(request);
    return mode;
  }

  /**
   * The transport a request asks for, with no Origin check: for callers that authenticate with a
   * secret of their own (a backend, decision 022), which no browser attaches by itself, so no
   * foreign page can make the call.
   */
  requestedTransport(request: FastifyRequest): TokenTransport {
    const value = request.headers[TRANSPORT_HEADER];
    if (value === undefined || value === 'bearer') return 'bearer';
    if (value !== 'cookie') {
      throw new SessiondError('invalid_request', `${TRANSPORT_HEADER} must be "cookie" or "bearer"`);
    }
    return 'cookie';
  }

  /** A request authenticated by the access-token cookie: anything but a read needs the CSRF defence. */
  guardCookieAuthenticated(request: FastifyRequest): void {
    if (!SAFE_METHODS.has(request.method)) this.#requireCSRFDefence(request);
  }

  /**
   * The body of a token endpoint's answer; in cookie mode the tokens, and a newly issued device
   * secret, go into HttpOnly cookies instead.
   */
  send(reply: FastifyReply, mode: TokenTransport, grant: TokenGrant): TokenResponse | CookieTokenResponse {
    if (mode === 'bearer') return tokenResponse(grant);
    this.cookies.set(reply, grant);
    if (grant.device.secret !== undefined) this.cookies.setDeviceSecret(reply, grant.device.secret);
    return cookieTokenResponse(grant);
  }

  /** A sign-in's device in cookie mode: the secret comes from the device cookie unless the body has one. */
  deviceOf(request: FastifyRequest, device: DeviceInput | undefined): DeviceInput | undefined {
    if (device?.secret !== undefined) return device;
    const secret = this.cookies.deviceSecret(request);
    return secret === undefined ? device : { ...device, secret };
  }

  /**
   * A refresh in cookie mode: the token comes from the refresh cookie (or, without one, the body),
   * `rotate` rotates it as any refresh. Any 401 also clears both cookies, so a dead session leaves
   * nothing behind; a 403 does not, or any page could sign the user out.
   */
  async refresh(
    request: FastifyRequest,
    reply: FastifyReply,
    bodyToken: string | undefined,
    rotate: (refreshToken: string) => Promise<TokenGrant>,
  ): Promise<CookieTokenResponse> {
    this.#requireCSRFDefence(request);
    try {
      const refreshToken = this.cookies.refreshToken(request) ?? bodyToken;
      if (refreshToken === undefined) {
        throw new SessiondError('refresh_token_invalid', 'no refresh token: the refresh cookie is missing');
      }
      const grant = await rotate(refreshToken);
      this.cookies.set(reply, grant);
      return cookieTokenResponse(grant);
    } catch (error) {
      if (error instanceof SessiondError && error.status === 401) this.cookies.clear(reply);
      throw error;
    }
  }

  /** Ends the cookie transport for this browser: both cookies are cleared. */
  clear(reply: FastifyReply): void {
    this.cookies.clear(reply);
  }

  /** Whether a browser on `origin` may use sessiond with credentials: the issuer's or a configured one. */
  allowsOrigin(origin: string): boolean {
    return this.#allowedOrigins.has(origin);
  }

  #requireCSRFDefence(request: FastifyRequest): void {
    if (request.headers[CSRF_HEADER] !== '1') {
      throw new SessiondError('csrf_required', 'State-changing cookie requests need the anti-CSRF header');
    }
    this.#requireAllowedOrigin(request);
  }

  #requireAllowedOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    if (origin !== undefined && !this.allowsOrigin(origin)) {
      throw new SessiondError('csrf_required', 'this Origin may not make cookie requests to sessiond');
    }
  }
}
