import { type KeyObject, verify as verifySignature } from 'node:crypto';
import type { AccessTokenClaims } from '@sessiond/protocol';
import { VerifyError } from './errors.js';

export interface VerifyOptions {
  issuer: string;
  audience: string;
  /** Seconds since the epoch. */
  now: number;
  /** Resolves a `kid` to a currently trusted RS256 public key. */
  keyFor: (kid: string) => KeyObject | undefined;
  /** Allowed clock skew for exp/nbf/iat, seconds. */
  leewaySeconds?: number;
  /**
   * How far ahead of ours the issuer's clock may run, seconds: a token issued (iat) or valid
   * from (nbf) up to this far in the future is accepted. Expiry is untouched by it.
   */
  issuerClockAheadSeconds?: number;
}

const MAX_TOKEN_LENGTH = 8192;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const TYPES = new Set(['at+jwt', 'application/at+jwt']);

/**
 * Verifies a sessiond access token with every check of RFC 8725 §3 and RFC 9068 §4:
 * the algorithm is pinned to RS256 (never read from the token: `none`, HS256 with the public
 * key as secret and anything else fail), `typ` must be at+jwt, `crit` is refused, `kid` must
 * name a trusted key, and iss, aud, exp, nbf and iat are all checked. node:crypto verifies
 * synchronously on a cached KeyObject. Throws VerifyError `token_invalid` / `token_expired`.
 */
export function verifyAccessToken(token: string, options: VerifyOptions): AccessTokenClaims {
  if (token.length > MAX_TOKEN_LENGTH) throw invalid('token is too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('not a compact JWS');
  const [headerText, payloadText, signatureText] = parts as [string, string, string];
  if (!BASE64URL.test(headerText) || !BASE64URL.test(payloadText) || !BASE64URL.test(signatureText)) {
    throw invalid('not base64url');
  }
  const header = parseJSONObject(headerText, 'header');
  if (header.alg !== 'RS256') throw invalid('algorithm not allowed');
  if (typeof header.typ !== 'string' || !TYPES.has(header.typ.toLowerCase()))
    throw invalid('wrong token type');
  if (header.crit !== undefined) throw invalid('unsupported critical header');
  if (typeof header.kid !== 'string') throw invalid('missing key id');
  const key = options.keyFor(header.kid);
  if (!key) throw invalid('unknown key id');
  const signed = Buffer.from(`${headerText}.${payloadText}`);
  if (!verifySignature('sha256', signed, key, Buffer.from(signatureText, 'base64url'))) {
    throw invalid('signature mismatch');
  }
  const claims = parseJSONObject(payloadText, 'payload');
  return checkClaims(claims, options);
}

function checkClaims(claims: Record<string, unknown>, options: VerifyOptions): AccessTokenClaims {
  const leeway = options.leewaySeconds ?? 0;
  const ahead = leeway + (options.issuerClockAheadSeconds ?? 0);
  if (claims.iss !== options.issuer) throw invalid('wrong issuer');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(options.audience)) throw invalid('wrong audience');
  for (const name of ['sub', 'sid', 'client_id', 'jti'] as const) {
    if (typeof claims[name] !== 'string' || claims[name] === '') throw invalid(`missing ${name}`);
  }
  for (const name of ['exp', 'iat'] as const) {
    if (typeof claims[name] !== 'number' || !Number.isFinite(claims[name])) throw invalid(`missing ${name}`);
  }
  if ((claims.exp as number) <= options.now - leeway)
    throw new VerifyError('token_expired', 'access token expired');
  if (typeof claims.nbf === 'number' && claims.nbf > options.now + ahead)
    throw invalid('token not yet valid');
  if (claims.nbf !== undefined && typeof claims.nbf !== 'number') throw invalid('malformed nbf');
  if ((claims.iat as number) > options.now + ahead) throw invalid('issued in the future');
  return claims as unknown as AccessTokenClaims;
}

function parseJSONObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw invalid(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function invalid(reason: string): VerifyError {
  return new VerifyError('token_invalid', `access token rejected: ${reason}`);
}
