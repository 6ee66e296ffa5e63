import type { AccessTokenClaims } from '@sessiond/protocol';
import { VerifyError, verifyAccessToken } from '@sessiond/verify';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { SessionRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import type { SigningKeyRing } from '../tokens/signing-key-ring.js';
import { endedSessionError, type SessionEnding, timeoutReason } from './session-ending.js';

export interface Authenticated {
  claims: AccessTokenClaims;
  session: SessionRecord;
}

const KEY_RELOAD_INTERVAL_MS = 5_000;
const MAX_CACHED_TOKENS = 10_000;
/**
 * How far ahead of this node's clock another node's may run (issue 12, found by the chaos
 * suite): a token issued by a node whose clock is ahead is not "issued in the future" (RFC 7519
 * §4.1.6 leaves iat's leeway to us). Expiry gets no leeway: no token is accepted past its `exp`.
 */
const NODE_CLOCK_AHEAD_SECONDS = 10;

/**
 * Authenticates a bearer access token: signature and claims, then the session behind it must
 * be live in the store right now. Reading the store on every request is what makes revocation
 * bite on the very next request; no cache can serve a revoked session as live.
 */
export class Authenticator {
  #lastKeyReload = 0;
  /** The reload in flight: requests that meet the same new key meanwhile wait for it. */
  #keyReload: Promise<void> | undefined;
  /**
   * Tokens that passed every check, kept until their `exp`. The same string verifies the same
   * way every time (its key stays published until all its tokens have expired), so this saves
   * the RSA verify without skipping a check; liveness is still read per request.
   */
  readonly #verified = new Map<string, AccessTokenClaims>();

  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly keys: SigningKeyRing,
    private readonly ending: SessionEnding,
    private readonly audience: { issuer: string; audience: string },
  ) {}

  async authenticate(token: string): Promise<Authenticated> {
    const claims = await this.#verify(token);
    const session = await this.store.findSession(claims.sid);
    if (!session || session.userId !== claims.sub) {
      throw new SessiondError('token_invalid', 'access token names no session of its subject');
    }
    const now = this.clock.now();
    if (session.endedAt !== null) throw endedSessionError(session, now);
    if (timeoutReason(session, now)) {
      await this.ending.expireIfDue(session);
      throw endedSessionError(session, now);
    }
    return { claims, session };
  }

  async #verify(token: string): Promise<AccessTokenClaims> {
    const cached = this.#verified.get(token);
    if (cached && cached.exp * 1000 > this.clock.now()) return cached;
    if (cached) this.#verified.delete(token);
    const claims = await this.#verifyUncached(token);
    if (this.#verified.size >= MAX_CACHED_TOKENS) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, Object.freeze(claims));
    return claims;
  }

  async #verifyUncached(token: string): Promise<AccessTokenClaims> {
    try {
      return await this.#verifyLearningNewKeys(token);
    } catch (error) {
      // @sessiond/verify's codes are in the shared protocol table; the wire sees the same code.
      if (error instanceof VerifyError) throw new SessiondError(error.code, error.message);
      throw error;
    }
  }

  async #verifyLearningNewKeys(token: string): Promise<AccessTokenClaims> {
    let unknownKey = false;
    const verify = () =>
      verifyAccessToken(token, {
        ...this.audience,
        now: Math.floor(this.clock.now() / 1000),
        issuerClockAheadSeconds: NODE_CLOCK_AHEAD_SECONDS,
        keyFor: (kid) => {
          const key = this.keys.verificationKey(kid);
          unknownKey = key === undefined;
          return key;
        },
      });
    try {
      return verify();
    } catch (error) {
      // A key added by another process (`sessiond keys rotate`, another node) is learnt on
      // first sight, at most once per interval so garbage kids cannot make us hammer the store.
      // One reload for all: the requests that arrive while it runs wait for it instead of being
      // refused (right after a rotation, every client of another node presents the new key).
      if (!unknownKey) throw error;
      if (this.#keyReload === undefined) {
        const now = this.clock.now();
        if (now - this.#lastKeyReload < KEY_RELOAD_INTERVAL_MS) throw error;
        this.#lastKeyReload = now;
        const reload = this.keys.reload().finally(() => {
          if (this.#keyReload === reload) this.#keyReload = undefined;
        });
        this.#keyReload = reload;
      }
      await this.#keyReload;
      return verify();
    }
  }
}
