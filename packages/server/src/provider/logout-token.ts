import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import { SIGNING_ALG, type SigningKeyRing } from '../tokens/signing-key-ring.js';

/** The event a logout token carries (OpenID Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** How long a logout token is good for: it is signed afresh at each attempt, so it can be short. */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

/** The claims of a logout token (§2.4): no `nonce`, which is what tells it from an ID token. */
export interface LogoutTokenClaims {
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  sub: string;
  sid: string;
  events: { [BACKCHANNEL_LOGOUT_EVENT]: Record<string, never> };
}

/**
 * Signs logout tokens (header `typ: logout+jwt`, §2.4 and RFC 8725 §3.11) with the ring's
 * current key. `wallClock` stamps `iat`/`exp`: the receiver checks them against its own clock,
 * so they must be real time, whatever clock schedules the retries.
 */
export class LogoutTokenSigner {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly wallClock: Clock,
    private readonly issuer: string,
  ) {}

  /** A token for the session `sid` of `sub` at client `aud`; a new `jti` each time. */
  async sign(subject: { clientId: string; userId: string; sessionId: string }): Promise<string> {
    const iat = Math.floor(this.wallClock.now() / 1000);
    const claims: LogoutTokenClaims = {
      iss: this.issuer,
      aud: subject.clientId,
      iat,
      exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
      jti: randomUUID(),
      sub: subject.userId,
      sid: subject.sessionId,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    };
    const { kid, privateKey } = this.keys.signingKey();
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: SIGNING_ALG, typ: 'logout+jwt', kid })
      .sign(privateKey);
  }
}
