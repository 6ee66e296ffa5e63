import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SessiondError } from '../errors.js';
import { constantTimeEqual } from '../lib/crypto.js';

const NONCE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Long enough for one sign-in, short enough not to outlive the browser's visit by much. */
const NONCE_MAX_AGE_SECONDS = 3600;

/**
 * Login CSRF defence for the sign-in page (decision 029): a signed double-submit cookie bound to
 * the pending authorization request. The browser gets a random nonce in an HttpOnly cookie; each
 * form carries HMAC(key, nonce, request id). A foreign page can neither read the nonce nor set it
 * (`__Host-` behind https: no subdomain can plant one), so it cannot forge a form that signs the
 * victim's browser into the attacker's account, even with a request id and token the attacker got
 * from the page themselves: that token is bound to the attacker's own nonce. `Sec-Fetch-Site` and
 * `Origin`, when the browser sends them, must say same-origin too.
 */
export class SignInPageCSRF {
  readonly #key: Buffer;
  readonly #name: string;
  readonly #path: string;
  readonly #secure: boolean;
  readonly #origin: string;

  constructor(options: { masterSecret: string; issuer: string }) {
    this.#key = Buffer.from(hkdfSync('sha256', options.masterSecret, 'sessiond', 'sign-in-page-csrf', 32));
    const issuer = new URL(options.issuer);
    this.#origin = issuer.origin;
    this.#secure = issuer.protocol === 'https:';
    // `__Host-` needs Path=/ (RFC 6265bis §4.1.3.2); plain http (tests, localhost) keeps it to the page.
    this.#name = this.#secure ? '__Host-sessiond_signin' : 'sessiond_signin';
    this.#path = this.#secure ? '/' : '/oauth/sign-in';
  }

  /** The token for this browser's forms of `requestId`; gives the browser a nonce if it has none. */
  tokenFor(request: FastifyRequest, reply: FastifyReply, requestId: string): string {
    let nonce = this.#nonceOf(request);
    if (nonce === undefined) {
      nonce = randomBytes(32).toString('base64url');
      reply.setCookie(this.#name, nonce, {
        httpOnly: true,
        secure: this.#secure,
        // Lax: a cross-site POST never carries it; the app's redirect to the page (a top-level GET) does.
        sameSite: 'lax',
        path: this.#path,
        maxAge: NONCE_MAX_AGE_SECONDS,
      });
    }
    return this.#sign(nonce, requestId);
  }

  /** Refuses a POST whose token is not this browser's for `requestId`, or that came from another site. */
  check(request: FastifyRequest, requestId: string, token: string | undefined): void {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') throw refused('the form was not sent from this page');
    // Referrer-Policy: no-referrer makes browsers send `Origin: null` with the page's own forms.
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== 'null' && origin !== this.#origin) {
      throw refused('the form was sent from another site');
    }
    const nonce = this.#nonceOf(request);
    if (
      nonce === undefined ||
      token === undefined ||
      !constantTimeEqual(token, this.#sign(nonce, requestId))
    ) {
      throw refused("the form is not from this browser's sign-in page, or it expired");
    }
  }

  #nonceOf(request: FastifyRequest): string | undefined {
    const value = request.cookies[this.#name];
    return value !== undefined && NONCE_SHAPE.test(value) ? value : undefined;
  }

  #sign(nonce: string, requestId: string): string {
    return createHmac('sha256', this.#key).update(`${nonce}.${requestId}`).digest('base64url');
  }
}

function refused(message: string): SessiondError {
  return new SessiondError('csrf_required', message);
}
