import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { createVerifier } from '@sessiond/verify';
import { importJWK, type JWK, jwtVerify } from 'jose';
import type { IssuerEnv } from '../servers/lib/issuer-env.js';
import type { ContenderId } from './loop-result.js';

/** One way of verifying the token; `call` answers the token's claims. */
export interface Contender {
  id: ContenderId;
  call(): Promise<{ sub?: unknown }>;
  /** The revocation stream's status, for the verifier; the others have none. */
  status?(): string;
  close(): Promise<void>;
}

/**
 * (a) The floor: split, one node:crypto RS256 verify on a cached KeyObject, and JSON.parse of
 * the payload. No header or claim checks: any real verifier does all of this and more.
 */
export function rawContender(token: string, jwk: JWK): Contender {
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  return {
    id: 'verify-raw',
    call: async () => {
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const signed = Buffer.from(`${header}.${payload}`);
      if (!verify('sha256', signed, key, Buffer.from(signature, 'base64url'))) {
        throw new Error('signature mismatch');
      }
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown };
    },
    close: async () => {},
  };
}

/** (b) jose's jwtVerify with a key imported once: jose's WebCrypto path, claim checks included. */
export async function joseContender(token: string, jwk: JWK, issuer: IssuerEnv): Promise<Contender> {
  const key = await importJWK(jwk, 'RS256');
  const options = { issuer: issuer.issuer, audience: issuer.audience, typ: 'at+jwt', algorithms: ['RS256'] };
  return {
    id: 'verify-jose',
    call: async () => (await jwtVerify(token, key, options)).payload,
    close: async () => {},
  };
}

/**
 * (c) @sessiond/verify: every RFC 8725 / RFC 9068 check plus the revocation lookup, once the
 * revocation stream is live. Its first call fetches the JWKS; the warm-up absorbs that.
 */
export async function sessiondContender(token: string, issuer: IssuerEnv): Promise<Contender> {
  const verifier = createVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    clientId: issuer.clientId,
    clientSecret: issuer.clientSecret,
  });
  await verifier.ready();
  return {
    id: 'verify-sessiond',
    call: () => verifier.verify(token),
    status: () => verifier.status(),
    close: () => verifier.close(),
  };
}
