import { randomUUID } from 'node:crypto';
import type { AccessTokenClaims } from '@sessiond/protocol';
import { SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import type { SessionRecord } from '../store/records.js';
import { SIGNING_ALG, type SigningKeyRing } from './signing-key-ring.js';

export interface IssuedAccessToken {
  token: string;
  claims: AccessTokenClaims;
  expiresIn: number;
}

/** Signs RFC 9068 access tokens (`typ: at+jwt`) for a session with the ring's current key. */
export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly clock: Clock,
    private readonly options: { issuer: string; audience: string; ttlSeconds: number },
  ) {}

  async issue(session: SessionRecord): Promise<IssuedAccessToken> {
    const iat = Math.floor(this.clock.now() / 1000);
    const { ttlSeconds } = this.options;
    // Never outlive the session's absolute deadline.
    const exp = Math.min(iat + ttlSeconds, Math.floor(session.expiresAt / 1000));
    const claims: AccessTokenClaims = {
      iss: this.options.issuer,
      aud: this.options.audience,
      sub: session.userId,
      client_id: session.clientId,
      sid: session.id,
      did: session.deviceId,
      iat,
      exp,
      jti: randomUUID(),
      auth_time: Math.floor(session.authTime / 1000),
      acr: session.acr,
      ...(session.amr !== null ? { amr: [...session.amr] } : {}),
    };
    const { kid, privateKey } = this.keys.signingKey();
    // Custom claims never shadow a registered one: their names are checked when they are set,
    // and the registered claims are written last all the same.
    const token = await new SignJWT({ ...session.claims, ...claims })
      .setProtectedHeader({ alg: SIGNING_ALG, typ: 'at+jwt', kid })
      .sign(privateKey);
    return { token, claims, expiresIn: exp - iat };
  }
}
