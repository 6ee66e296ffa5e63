import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import type { SessionRecord, UserRecord } from '../store/records.js';
import { SIGNING_ALG, type SigningKeyRing } from '../tokens/signing-key-ring.js';

/** The claims of sessiond's ID tokens (OpenID Connect Core §2, §3.1.3.6). */
export interface IDTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  azp: string;
  exp: number;
  iat: number;
  auth_time: number;
  nonce?: string;
  acr: string;
  amr?: string[];
  sid: string;
  at_hash: string;
  email?: string;
  email_verified?: boolean;
}

/** The scopes of an app session; empty for a session no authorization opened. */
export function sessionScopes(session: SessionRecord): string[] {
  return (session.scope ?? '').split(' ').filter((scope) => scope !== '');
}

/**
 * Signs ID tokens (RS256, `typ: JWT`, the ring's current key) for app sessions, the access token's
 * signing key ring and lifetime: `sid` is the app session, so a back-channel logout token for it
 * names what the client knows.
 */
export class IDTokenIssuer {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly clock: Clock,
    private readonly options: { issuer: string; ttlSeconds: number },
  ) {}

  async issue(input: {
    session: SessionRecord;
    user: UserRecord;
    accessToken: string;
    nonce?: string | undefined;
  }): Promise<string> {
    const { session, user } = input;
    const iat = Math.floor(this.clock.now() / 1000);
    const exp = Math.min(iat + this.options.ttlSeconds, Math.floor(session.expiresAt / 1000));
    // email_verified is false: sessiond does not prove addresses (yet), and says so.
    const email =
      sessionScopes(session).includes('email') && user.email !== null
        ? { email: user.email, email_verified: false }
        : {};
    const claims: IDTokenClaims = {
      iss: this.options.issuer,
      sub: session.userId,
      aud: session.clientId,
      azp: session.clientId,
      exp,
      iat,
      auth_time: Math.floor(session.authTime / 1000),
      ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
      acr: session.acr,
      ...(session.amr !== null ? { amr: [...session.amr] } : {}),
      sid: session.id,
      at_hash: atHash(input.accessToken),
      ...email,
    };
    const { kid, privateKey } = this.keys.signingKey();
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: SIGNING_ALG, typ: 'JWT', kid })
      .sign(privateKey);
  }
}

/** OpenID Core §3.1.3.6: the left half of the access token's SHA-256 (RS256), base64url. */
export function atHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
