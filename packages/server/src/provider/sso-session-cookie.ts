import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../lib/crypto.js';
import { timeoutReason } from '../sessions/session-ending.js';
import type { SessionRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';

/** Only the provider's routes (authorize, sign-in page, end session) receive the cookie. */
const SSO_COOKIE_PATH = '/oauth';

/**
 * The browser's sign-in session at sessiond's own pages (the SSO session, client `sessiond`):
 * its id, sealed (AES-256-GCM under the master secret) in an HttpOnly cookie. The cookie proves
 * nothing by itself: the session it names must be live in the store at every use, so revoking
 * it (sign out everywhere, an administrator) ends single sign-on at once. SameSite=Lax: an app's
 * redirect to /oauth/authorize is a cross-site top-level GET, which must carry it.
 */
export class SSOSessionCookie {
  readonly #name: string;
  readonly #secure: boolean;

  constructor(private readonly deps: { box: SecretBox; store: SessionStore; clock: Clock; issuer: string }) {
    this.#secure = new URL(deps.issuer).protocol === 'https:';
    this.#name = this.#secure ? '__Secure-sessiond_sso' : 'sessiond_sso';
  }

  get name(): string {
    return this.#name;
  }

  set(reply: FastifyReply, session: SessionRecord): void {
    reply.setCookie(this.#name, this.deps.box.seal(session.id), {
      httpOnly: true,
      secure: this.#secure,
      sameSite: 'lax',
      path: SSO_COOKIE_PATH,
      // Lives as long as the session may; the store decides sooner.
      maxAge: Math.max(0, Math.ceil((session.expiresAt - this.deps.clock.now()) / 1000)),
    });
  }

  clear(reply: FastifyReply): void {
    reply.setCookie(this.#name, '', {
      httpOnly: true,
      secure: this.#secure,
      sameSite: 'lax',
      path: SSO_COOKIE_PATH,
      maxAge: 0,
    });
  }

  /** The live SSO session this browser's cookie names; undefined if none, altered, ended or timed out. */
  async read(request: FastifyRequest): Promise<SessionRecord | undefined> {
    const sealed = request.cookies[this.#name];
    if (!sealed) return undefined;
    let sessionId: string;
    try {
      sessionId = this.deps.box.open(sealed);
    } catch {
      return undefined;
    }
    const session = await this.deps.store.findSession(sessionId);
    if (!session || session.endedAt !== null) return undefined;
    if (timeoutReason(session, this.deps.clock.now())) return undefined;
    return session;
  }
}
