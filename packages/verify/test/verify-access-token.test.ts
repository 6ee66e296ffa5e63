import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWith } from '../../server/test/helpers/forge.js';
import { VerifyError } from '../src/errors.js';
import { verifyAccessToken } from '../src/verify-access-token.js';

// Unit tests of every refusal branch of the verifier, each beside a control that passes.
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const NOW = 1_800_000_000;
const header = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' };
const claims = {
  iss: 'https://issuer.test',
  aud: 'api',
  sub: 'user-1',
  sid: 'session-1',
  client_id: 'default',
  jti: 'jti-1',
  iat: NOW - 10,
  exp: NOW + 600,
};
const options = {
  issuer: 'https://issuer.test',
  audience: 'api',
  now: NOW,
  keyFor: (kid: string) => (kid === 'k1' ? publicKey : undefined),
};

function code(token: string): string {
  try {
    verifyAccessToken(token, options);
    return 'accepted';
  } catch (error) {
    if (error instanceof VerifyError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

const without = (object: Record<string, unknown>, key: string) =>
  Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Signs an arbitrary payload segment, so only the payload check can refuse it. */
const signRaw = (protectedHeader: Record<string, unknown>, payloadSegment: string) => {
  const input = `${encode(protectedHeader)}.${payloadSegment}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
};

describe('verifyAccessToken', () => {
  it('accepts a well-formed token (the control)', () => {
    expect(code(signWith(privateKey, header, claims))).toBe('accepted');
    expect(verifyAccessToken(signWith(privateKey, header, claims), options)).toMatchObject({
      sub: 'user-1',
      sid: 'session-1',
    });
  });

  it('accepts an audience array that contains ours and the application/at+jwt type', () => {
    expect(
      code(signWith(privateKey, { ...header, typ: 'application/at+jwt' }, { ...claims, aud: ['x', 'api'] })),
    ).toBe('accepted');
  });

  it.each([
    [
      'characters outside base64url',
      () => `${encode(header)}.${encode(claims)}.sig+nature/`,
      'not base64url',
    ],
    [
      'a header that is JSON but not an object',
      () => `${encode(['RS256'])}.${encode(claims)}.c2ln`,
      'header is not an object',
    ],
    [
      'a payload that is JSON but not an object',
      () => signWith(privateKey, header, 42 as unknown as Record<string, unknown>),
      'payload is not an object',
    ],
    ['no kid', () => signWith(privateKey, without(header, 'kid'), claims), 'missing key id'],
    [
      'a kid that is not a string',
      () => signWith(privateKey, { ...header, kid: 7 }, claims),
      'missing key id',
    ],
    ['no sub', () => signWith(privateKey, header, without(claims, 'sub')), 'missing sub'],
    ['an empty sid', () => signWith(privateKey, header, { ...claims, sid: '' }), 'missing sid'],
    ['no client_id', () => signWith(privateKey, header, without(claims, 'client_id')), 'missing client_id'],
    ['no jti', () => signWith(privateKey, header, without(claims, 'jti')), 'missing jti'],
    ['no iat', () => signWith(privateKey, header, without(claims, 'iat')), 'missing iat'],
    [
      'a string exp',
      () => signWith(privateKey, header, { ...claims, exp: String(NOW + 600) }),
      'missing exp',
    ],
    ['a non-numeric nbf', () => signWith(privateKey, header, { ...claims, nbf: 'soon' }), 'malformed nbf'],
    [
      'an audience array without ours',
      () => signWith(privateKey, header, { ...claims, aud: ['x', 'y'] }),
      'wrong audience',
    ],
    [
      'alg RS512 (not allow-listed even if the key could)',
      () => signWith(privateKey, { ...header, alg: 'RS512' }, claims),
      'algorithm not allowed',
    ],
    ['two segments', () => `${encode(header)}.${encode(claims)}`, 'not a compact JWS'],
    [
      'a well-formed token over 8 KiB',
      () => signWith(privateKey, header, { ...claims, pad: 'x'.repeat(8200) }),
      'token is too long',
    ],
    [
      'a header that is not JSON',
      () => `${Buffer.from('{alg').toString('base64url')}.${encode(claims)}.c2ln`,
      'header is not JSON',
    ],
    [
      'a payload that is not JSON',
      () => signRaw(header, Buffer.from('not json').toString('base64url')),
      'payload is not JSON',
    ],
  ])('refuses %s', (_name, make, reason) => {
    expect(code(make())).toBe(`token_invalid: access token rejected: ${reason}`);
  });

  it('applies the leeway to exp, nbf and iat, and only the leeway', () => {
    const expired = signWith(privateKey, header, { ...claims, exp: NOW - 5 });
    expect(code(expired)).toMatch(/^token_expired/);
    expect(verifyAccessToken(expired, { ...options, leewaySeconds: 10 }).sub).toBe('user-1');
    expect(() => verifyAccessToken(expired, { ...options, leewaySeconds: 5 })).toThrow(/expired/);
    const early = signWith(privateKey, header, { ...claims, nbf: NOW + 5 });
    expect(code(early)).toContain('token not yet valid');
    expect(verifyAccessToken(early, { ...options, leewaySeconds: 5 }).sub).toBe('user-1');
    const future = signWith(privateKey, header, { ...claims, iat: NOW + 5 });
    expect(code(future)).toContain('issued in the future');
    expect(verifyAccessToken(future, { ...options, leewaySeconds: 5 }).sub).toBe('user-1');
    expect(() => verifyAccessToken(future, { ...options, leewaySeconds: 4 })).toThrow(/future/);
  });

  it('lets an issuer whose clock runs ahead issue in the future, without moving expiry', () => {
    const ahead = { ...options, issuerClockAheadSeconds: 10 };
    expect(verifyAccessToken(signWith(privateKey, header, { ...claims, iat: NOW + 10 }), ahead).sub).toBe(
      'user-1',
    );
    expect(verifyAccessToken(signWith(privateKey, header, { ...claims, nbf: NOW + 10 }), ahead).sub).toBe(
      'user-1',
    );
    expect(() =>
      verifyAccessToken(signWith(privateKey, header, { ...claims, iat: NOW + 11 }), ahead),
    ).toThrow(/future/);
    expect(verifyAccessToken(signWith(privateKey, header, { ...claims, exp: NOW + 1 }), ahead).sub).toBe(
      'user-1',
    );
    expect(() => verifyAccessToken(signWith(privateKey, header, { ...claims, exp: NOW }), ahead)).toThrow(
      /expired/,
    );
  });
});
