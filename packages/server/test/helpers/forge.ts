import { createHmac, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';

/** Hand-built JWTs for the rejection tests: every shape an attacker might send. */

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodeParts(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString()),
  };
}

const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** RS256 signed by a key the server never issued, reusing a real kid. */
export function signWithForeignKey(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), otherKey.privateKey).toString('base64url')}`;
}

/** `alg: none`, empty signature (RFC 8725 §2.1). */
export function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${b64({ ...header, alg: 'none' })}.${b64(payload)}.`;
}

/** HS256 keyed with the server's own RSA public key, the classic algorithm confusion. */
export function hs256WithPublicKey(
  jwk: Record<string, unknown>,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string[] {
  const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  const secrets = [
    key.export({ type: 'spki', format: 'pem' }),
    key.export({ type: 'pkcs1', format: 'pem' }),
    JSON.stringify(jwk),
  ];
  const input = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
  return secrets.map(
    (secret) => `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`,
  );
}

/** Same header and signature, a different payload. */
export function tamper(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const claims = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), ...changes };
  return `${header}.${b64(claims)}.${signature}`;
}

/** Re-encodes header and payload and signs with the given private key (for claim tests). */
export function signWith(
  privateKey: import('node:crypto').KeyObject,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}
