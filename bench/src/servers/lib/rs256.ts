import { type KeyObject, sign, verify } from 'node:crypto';

// Compact JWS with RS256 (RFC 7515 §7.1, RFC 7518 §3.3) on node:crypto alone: the cost floor
// that any JWT library, sessiond's included, sits on top of.

export interface JWTHeader {
  alg: 'RS256';
  typ: string;
  kid: string;
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs one token; RSA keys sign with PKCS#1 v1.5 padding by default, which is what RS256 is. */
export function signRS256(header: JWTHeader, payload: object, privateKey: KeyObject): string {
  const signingInput = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * Verifies one token and returns its payload, or null when anything is off: shape, header
 * (alg pinned to RS256 and the expected kid, so no alg confusion), signature, or JSON.
 */
export function verifyRS256(
  token: string,
  publicKey: KeyObject,
  kid: string,
): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as Partial<JWTHeader>;
    if (header.alg !== 'RS256' || header.kid !== kid) return null;
    const signingInput = Buffer.from(`${headerPart}.${payloadPart}`);
    if (!verify('sha256', signingInput, publicKey, Buffer.from(signaturePart, 'base64url'))) return null;
    const payload: unknown = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
