import type { JWK } from 'jose';

/** The public key sessiond signed `token` with, from its JWKS (the `kid` of the token's header). */
export async function fetchSigningJWK(issuer: string, token: string): Promise<JWK> {
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
    kid?: unknown;
  };
  const response = await fetch(`${issuer}/.well-known/jwks.json`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
  const { keys } = (await response.json()) as { keys: JWK[] };
  const jwk = keys.find((key) => key.kid === header.kid);
  if (jwk === undefined) throw new Error(`the JWKS has no key ${String(header.kid)}`);
  return jwk;
}
