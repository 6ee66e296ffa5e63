import type { DeviceInput } from '@sessiond/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenCookies } from '../http/token-cookies.js';
import type { TokenGrant } from '../sessions/session-service.js';

/** The sign-in page's own routes: the device cookie at DEVICE_COOKIE_PATH (/api/auth) never reaches them. */
const PAGE_DEVICE_COOKIE_PATH = '/oauth/sign-in';
const DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 86_400;

/**
 * The browser's device at the sign-in page (decision 017, 029): the same cookie name, secret and
 * attributes as the cookie transport's device cookie, kept a second time under the page's path, so
 * the page recognises a returning browser as cookie-mode sign-in does. A secret the page issues is
 * also set under /api/auth: the browser is one device to sessiond, whichever way it signs in.
 */
export class SignInPageDevice {
  readonly #secure: boolean;

  constructor(
    private readonly cookies: TokenCookies,
    issuer: string,
  ) {
    this.#secure = new URL(issuer).protocol === 'https:';
  }

  /** The device a sign-in on the page comes from: the one holding this browser's secret, if any. */
  of(request: FastifyRequest): DeviceInput | undefined {
    const secret = this.cookies.deviceSecret(request);
    return secret === undefined ? undefined : { secret };
  }

  /** Keeps a newly issued device secret in both cookies. */
  keep(reply: FastifyReply, grant: TokenGrant): void {
    const secret = grant.device.secret;
    if (secret === undefined) return;
    this.cookies.setDeviceSecret(reply, secret);
    reply.setCookie(this.cookies.names.device, secret, {
      httpOnly: true,
      secure: this.#secure,
      path: PAGE_DEVICE_COOKIE_PATH,
      sameSite: 'strict',
      maxAge: DEVICE_COOKIE_MAX_AGE_SECONDS,
    });
  }
}
