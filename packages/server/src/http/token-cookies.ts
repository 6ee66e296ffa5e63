import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { TokenGrant } from '../sessions/session-service.js';

/**
 * The refresh cookie's path: the session endpoints (refresh, logout, ...), never the app's own
 * routes, so the long-lived credential travels as rarely as it can.
 */
export const REFRESH_COOKIE_PATH = '/api/auth/session';

export interface TokenCookieNames {
  readonly access: string;
  readonly refresh: string;
  /** The device secret (decision 017): the browser's device identity, kept across sessions. */
  readonly device: string;
}

/** Browsers cap a cookie's lifetime at 400 days (RFC 6265bis §5.6.2); a device outlives sessions. */
const DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 86_400;
/** Every way of signing in (password, OpenID callback), and nothing else. */
export const DEVICE_COOKIE_PATH = '/api/auth';
const DEVICE_SECRET_SHAPE = /^ds_[A-Za-z0-9_-]{43}$/;

/**
 * The two cookies of the cookie transport, the only place that knows their names and attributes.
 * Both are HttpOnly: page scripts never see a token. The access cookie is SameSite=Lax on `/`;
 * the refresh cookie is SameSite=Strict on the session endpoints and lives until the session's
 * absolute deadline. Behind an https issuer both are `Secure` and carry the prefixes that make
 * browsers enforce that (RFC 6265bis §4.1.3): `__Host-` on the access cookie (Path=/, no Domain,
 * so no subdomain can set or shadow it) and `__Secure-` on the refresh cookie, whose narrower
 * Path rules `__Host-` out. Plain http (tests, localhost) gets neither: browsers would drop them.
 */
export class TokenCookies {
  readonly names: TokenCookieNames;
  readonly #secure: boolean;
  readonly #clock: Clock;

  constructor(options: { issuer: string; clock: Clock }) {
    this.#secure = new URL(options.issuer).protocol === 'https:';
    this.#clock = options.clock;
    this.names = this.#secure
      ? { access: '__Host-sessiond_at', refresh: '__Secure-sessiond_rt', device: '__Secure-sessiond_ds' }
      : { access: 'sessiond_at', refresh: 'sessiond_rt', device: 'sessiond_ds' };
  }

  /** Puts a grant's tokens into the response's cookies. */
  set(reply: FastifyReply, grant: TokenGrant): void {
    // Never past the session's absolute deadline: the refresh token is worthless from then on.
    const untilSessionEnds = Math.max(0, Math.floor((grant.session.expiresAt - this.#clock.now()) / 1000));
    reply.setCookie(this.names.access, grant.access.token, this.#access(grant.access.expiresIn));
    reply.setCookie(this.names.refresh, grant.refreshToken, this.#refresh(untilSessionEnds));
  }

  /**
   * Keeps a newly issued device secret in an HttpOnly cookie on the sign-in endpoints, so page
   * scripts never read it; sign-in reads it back. Sign-out leaves it: it names the device.
   */
  setDeviceSecret(reply: FastifyReply, secret: string): void {
    reply.setCookie(this.names.device, secret, {
      httpOnly: true,
      secure: this.#secure,
      path: DEVICE_COOKIE_PATH,
      sameSite: 'strict',
      maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS,
    });
  }

  /** The device secret cookie, if the browser has one of the shape sessiond issues. */
  deviceSecret(request: FastifyRequest): string | undefined {
    const value = request.cookies[this.names.device];
    return value !== undefined && DEVICE_SECRET_SHAPE.test(value) ? value : undefined;
  }

  /** Tells the browser to drop both token cookies (same name, path and attributes, Max-Age=0). */
  clear(reply: FastifyReply): void {
    reply.setCookie(this.names.access, '', this.#access(0));
    reply.setCookie(this.names.refresh, '', this.#refresh(0));
  }

  accessToken(request: FastifyRequest): string | undefined {
    return nonEmpty(request.cookies[this.names.access]);
  }

  refreshToken(request: FastifyRequest): string | undefined {
    return nonEmpty(request.cookies[this.names.refresh]);
  }

  #access(maxAge: number): CookieSerializeOptions {
    return { httpOnly: true, secure: this.#secure, path: '/', sameSite: 'lax', maxAge };
  }

  #refresh(maxAge: number): CookieSerializeOptions {
    return { httpOnly: true, secure: this.#secure, path: REFRESH_COOKIE_PATH, sameSite: 'strict', maxAge };
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
