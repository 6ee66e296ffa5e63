import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminAuthenticator, AdminIdentity } from '../admin/admin-authenticator.js';
import { adminKeyHash, isAdminKeyForm } from '../admin/admin-key.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import { constantTimeEqual, type SecretBox } from '../lib/crypto.js';

/** The cookie reaches the dashboard and its JSON routes, nothing else of sessiond. */
export const ADMIN_UI_PATH = '/admin';
export const ADMIN_COOKIE = 'sessiond_admin';
/** An operator's working day; the key is checked again on every request regardless. */
export const ADMIN_SESSION_SECONDS = 8 * 3600;
/** The header the page's script sends its CSRF token in; forms send the field `csrf`. */
export const CSRF_HEADER = 'x-sessiond-admin-csrf';

interface Sealed {
  /** The key's id (`config:<n>` or the created key's id): for log lines. */
  kid: string;
  /** The key's SHA-256, looked up again on every request. */
  kh: string;
  /** Expiry, epoch ms. */
  exp: number;
  /** Random per sign-in: what the CSRF token is bound to. */
  n: string;
}

/** A signed-in dashboard request: who, and the token its page must send back on a change. */
export interface AdminUIVisit {
  identity: AdminIdentity;
  csrfToken: string;
}

/**
 * The dashboard's sign-in (decision 031). The admin key is exchanged once for a cookie sealing
 * (AES-256-GCM) its hash, an expiry and a nonce; the key itself never returns to the browser. The
 * cookie proves nothing alone: every request looks the hash up again, so a key deleted or removed
 * from the configuration stops the cookie at once. CSRF: a token HMAC(nonce) the page carries in
 * a header (fetch) or a hidden field (forms), plus Sec-Fetch-Site / Origin when the browser sends
 * them; SameSite=Strict keeps the cookie off every cross-site request besides.
 */
export class AdminUISession {
  readonly #csrfKey: Buffer;
  readonly #secure: boolean;
  readonly #origin: string;

  constructor(
    private readonly deps: {
      keys: AdminAuthenticator;
      box: SecretBox;
      clock: Clock;
      issuer: string;
      masterSecret: string;
    },
  ) {
    this.#csrfKey = Buffer.from(hkdfSync('sha256', deps.masterSecret, 'sessiond', 'admin-ui-csrf', 32));
    const issuer = new URL(deps.issuer);
    this.#secure = issuer.protocol === 'https:';
    this.#origin = issuer.origin;
  }

  /** Checks the key as the admin API does and sets the cookie; refuses with `admin_key_invalid`. */
  async signIn(reply: FastifyReply, key: string): Promise<AdminIdentity> {
    if (!isAdminKeyForm(key)) throw refused('not an admin API key');
    const hash = adminKeyHash(key);
    const identity = await this.#check(hash);
    const sealed: Sealed = {
      kid: identity.keyId,
      kh: hash,
      exp: this.deps.clock.now() + ADMIN_SESSION_SECONDS * 1000,
      n: randomBytes(32).toString('base64url'),
    };
    reply.setCookie(ADMIN_COOKIE, this.deps.box.seal(JSON.stringify(sealed)), {
      ...this.#cookieOptions(),
      maxAge: ADMIN_SESSION_SECONDS,
    });
    return identity;
  }

  signOut(reply: FastifyReply): void {
    reply.setCookie(ADMIN_COOKIE, '', { ...this.#cookieOptions(), maxAge: 0 });
  }

  /** The signed-in visit, or undefined: no cookie, altered, expired, or its key no longer valid. */
  async visit(request: FastifyRequest): Promise<AdminUIVisit | undefined> {
    const sealed = this.#open(request.cookies[ADMIN_COOKIE]);
    if (sealed === undefined || sealed.exp <= this.deps.clock.now()) return undefined;
    try {
      const identity = await this.#check(sealed.kh);
      return { identity, csrfToken: this.#token(sealed.n) };
    } catch (error) {
      if (error instanceof SessiondError && error.code === 'admin_key_invalid') return undefined;
      throw error;
    }
  }

  /** Like `visit`, but refuses (401 `admin_key_invalid`) instead of answering undefined. */
  async require(request: FastifyRequest): Promise<AdminUIVisit> {
    const visit = await this.visit(request);
    if (visit === undefined) throw refused('sign in to the admin dashboard first');
    return visit;
  }

  /**
   * Refuses (403 `csrf_required`) a state change that did not come from the dashboard's own page:
   * another site (Sec-Fetch-Site / Origin), or no token bound to this cookie.
   */
  checkCSRF(request: FastifyRequest, visit: AdminUIVisit | undefined, token: string | undefined): void {
    this.checkSameOrigin(request);
    if (visit === undefined || token === undefined || !constantTimeEqual(token, visit.csrfToken)) {
      throw new SessiondError('csrf_required', 'the request carries no valid dashboard CSRF token');
    }
  }

  /** The sign-in form has no cookie yet: it is held to the same-origin checks only. */
  checkSameOrigin(request: FastifyRequest): void {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') {
      throw new SessiondError('csrf_required', 'the request was not sent from the dashboard');
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== 'null' && origin !== this.#origin) {
      throw new SessiondError('csrf_required', 'the request was sent from another site');
    }
  }

  async #check(hash: string): Promise<AdminIdentity> {
    try {
      return await this.deps.keys.authenticateHash(hash);
    } catch (error) {
      // The API's error carries a Bearer challenge; the dashboard's answers carry none.
      if (error instanceof SessiondError && error.code === 'admin_key_invalid') {
        throw refused('admin API key is not valid');
      }
      throw error;
    }
  }

  #open(value: string | undefined): Sealed | undefined {
    if (!value) return undefined;
    try {
      const parsed = JSON.parse(this.deps.box.open(value)) as Partial<Sealed>;
      if (
        typeof parsed.kid !== 'string' ||
        typeof parsed.kh !== 'string' ||
        typeof parsed.exp !== 'number' ||
        typeof parsed.n !== 'string'
      ) {
        return undefined;
      }
      return parsed as Sealed;
    } catch {
      return undefined;
    }
  }

  #token(nonce: string): string {
    return createHmac('sha256', this.#csrfKey).update(nonce).digest('base64url');
  }

  #cookieOptions(): {
    httpOnly: true;
    secure: boolean;
    sameSite: 'strict';
    path: string;
  } {
    return { httpOnly: true, secure: this.#secure, sameSite: 'strict', path: ADMIN_UI_PATH };
  }
}

function refused(message: string): SessiondError {
  return new SessiondError('admin_key_invalid', message);
}
