import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, signUpAndIn } from './helpers/api.js';
import {
  decodeParts,
  hs256WithPublicKey,
  signWith,
  signWithForeignKey,
  tamper,
  unsigned,
} from './helpers/forge.js';
import { currentSigningKey } from './helpers/signing-key.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let grant: Awaited<ReturnType<typeof signUpAndIn>>;
beforeAll(async () => {
  server = await startTestServer({ env: { SESSIOND_BODY_LIMIT_BYTES: '4096' } });
  grant = await signUpAndIn(server.url);
});
afterAll(async () => {
  await server.close();
});

async function expectError(
  response: Promise<{ status: number; body: Record<string, unknown> }>,
  status: number,
  code: string,
) {
  const { status: actual, body } = await response;
  expect({ status: actual, error: body.error }).toEqual({ status, error: code });
  expect(typeof body.message).toBe('string');
}

const status = (token: string) => request(server.url, 'GET', '/api/auth/session/status', { token });

describe('bad request bodies', () => {
  const create = (body: string | Record<string, unknown>, headers: Record<string, string> = {}) =>
    request(server.url, 'POST', '/api/auth/session/create', { body, headers });

  it('malformed JSON', () =>
    expectError(create('{"email":', { 'content-type': 'application/json' }), 400, 'malformed_json'));
  it('empty JSON body', () =>
    expectError(create('', { 'content-type': 'application/json' }), 400, 'malformed_json'));
  it('wrong content type', () =>
    expectError(
      create('email=a', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    ));
  it('text/plain', () =>
    expectError(create('{}', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'));
  it('body over the limit', () =>
    expectError(create({ email: 'a@b.co', password: 'x'.repeat(5000) }), 413, 'payload_too_large'));
  it('unknown fields are rejected', () =>
    expectError(create({ email: 'a@b.co', password: PASSWORD, admin: true }), 400, 'invalid_request'));
  it('missing fields', () => expectError(create({ email: 'a@b.co' }), 400, 'invalid_request'));
  it('wrong types', () => expectError(create({ email: 42, password: [] }), 400, 'invalid_request'));
  it('a JSON array', () =>
    expectError(create('[]', { 'content-type': 'application/json' }), 400, 'invalid_request'));
  it('prototype pollution attempt', () =>
    expectError(
      create('{"email":"a@b.co","password":"x","__proto__":{"admin":true}}', {
        'content-type': 'application/json',
      }),
      400,
      'malformed_json',
    ));
  it('a bad device id', () =>
    expectError(
      create({ email: 'a@b.co', password: PASSWORD, device: { id: '../../etc' } }),
      400,
      'invalid_request',
    ));
  it('an unknown client_id', () =>
    expectError(
      create({ email: grant.email, password: PASSWORD, client_id: 'evil' }),
      400,
      'invalid_request',
    ));
  it('an unknown route', () => expectError(request(server.url, 'GET', '/api/nope'), 404, 'not_found'));

  describe('text that is not Unicode is refused, not stored as U+FFFD', () => {
    const signupBytes = async (body: Buffer) => {
      const response = await fetch(new URL('/api/auth/signup', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const json = (before: string, bytes: number[], after: string) =>
      Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
    const email = () => `utf8.${Date.now()}.${Math.random().toString(36).slice(2)}`;

    it.each([
      ['a lone continuation byte', [0x80]],
      ['a truncated two-byte sequence', [0xc3]],
      ['an overlong encoding of "/"', [0xc0, 0xaf]],
      ['an encoded surrogate', [0xed, 0xa0, 0x80]],
      ['a byte that never appears in UTF-8', [0xff]],
    ])('%s in a field: 400 invalid_request', async (_name, bytes) => {
      const name = email();
      await expectError(
        signupBytes(json(`{"email":"${name}`, bytes, `@example.com","password":"${PASSWORD}"}`)),
        400,
        'invalid_request',
      );
      // Nothing was stored under the replacement character either.
      expect(await server.app.sessiond.store.findUserByEmail(`${name}\ufffd@example.com`)).toBeUndefined();
      await expectError(
        signupBytes(json(`{"email":"${name}@example.com","password":"${PASSWORD}`, bytes, '"}')),
        400,
        'invalid_request',
      );
    });

    it('a lone surrogate escape: 400 invalid_request', () =>
      expectError(
        signupBytes(Buffer.from(`{"email":"${email()}@example.com","password":"\\ud800${PASSWORD}"}`)),
        400,
        'invalid_request',
      ));

    it('well-formed UTF-8 and surrogate pairs are accepted', async () => {
      const answer = await signupBytes(
        Buffer.from(`{"email":"${email()}@müller.example","password":"\\ud83d\\ude00 ${PASSWORD} ü"}`),
      );
      expect(answer.status).toBe(201);
    });
  });

  it('a bad logs query', () =>
    expectError(
      request(server.url, 'GET', '/api/auth/session/logs?limit=0', { token: grant.access_token }),
      400,
      'invalid_request',
    ));
  it('a forged logs cursor', () =>
    expectError(
      request(server.url, 'GET', '/api/auth/session/logs?cursor=abc', { token: grant.access_token }),
      400,
      'invalid_request',
    ));
});

describe('bad access tokens are refused with 401 and a stable code', () => {
  it('no token', async () => {
    const response = await request(server.url, 'GET', '/api/auth/session/status');
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('token_missing');
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="sessiond"');
  });
  it('not a bearer header', () =>
    expectError(
      request(server.url, 'GET', '/api/auth/session/status', {
        headers: { authorization: `Basic ${grant.access_token}` },
      }),
      401,
      'token_invalid',
    ));
  it('garbage', () => expectError(status('garbage'), 401, 'token_invalid'));
  it('three garbage segments', () => expectError(status('a.b.c'), 401, 'token_invalid'));
  it('non-JSON header', () =>
    expectError(status(`${Buffer.from('nope').toString('base64url')}.e30.sig`), 401, 'token_invalid'));
  it('a huge token', () => expectError(status('a'.repeat(9000)), 401, 'token_invalid'));

  it('signed by another key under a real kid', () => {
    const { header, payload } = decodeParts(grant.access_token);
    return expectError(status(signWithForeignKey(header, payload)), 401, 'token_invalid');
  });
  it('alg none', () => {
    const { header, payload } = decodeParts(grant.access_token);
    return expectError(status(unsigned(header, payload)), 401, 'token_invalid');
  });
  it('HS256 keyed with the server’s public key (algorithm confusion)', async () => {
    const { header, payload } = decodeParts(grant.access_token);
    const { jwk } = await currentSigningKey(server.app.sessiond.store);
    for (const token of hs256WithPublicKey(jwk, header, payload))
      await expectError(status(token), 401, 'token_invalid');
  });
  it('tampered payload (another user’s sub)', () =>
    expectError(status(tamper(grant.access_token, { sub: 'someone-else' })), 401, 'token_invalid'));
  it('tampered payload (later exp)', () =>
    expectError(status(tamper(grant.access_token, { exp: 4_000_000_000 })), 401, 'token_invalid'));

  describe('validly signed but wrong claims or header', () => {
    async function signed(headerChanges: Record<string, unknown>, claimChanges: Record<string, unknown>) {
      const { kid, privateKey } = await currentSigningKey(server.app.sessiond.store);
      const { header, payload } = decodeParts(grant.access_token);
      const claims = Object.fromEntries(
        Object.entries({ ...payload, ...claimChanges }).filter(([, value]) => value !== undefined),
      );
      return signWith(privateKey, { ...header, kid, ...headerChanges }, claims);
    }
    const now = () => Math.floor(server.clock.now() / 1000);

    it('a control token signed the same way is accepted', async () =>
      expect((await status(await signed({}, {}))).status).toBe(200));
    it('wrong iss', async () =>
      expectError(status(await signed({}, { iss: 'https://evil.example' })), 401, 'token_invalid'));
    it('wrong aud', async () =>
      expectError(status(await signed({}, { aud: 'another-api' })), 401, 'token_invalid'));
    it('wrong typ (an ID token)', async () =>
      expectError(status(await signed({ typ: 'JWT' }, {})), 401, 'token_invalid'));
    it('missing typ', async () =>
      expectError(status(await signed({ typ: undefined }, {})), 401, 'token_invalid'));
    it('a crit header', async () =>
      expectError(status(await signed({ crit: ['exp'] }, {})), 401, 'token_invalid'));
    it('unknown kid', async () =>
      expectError(status(await signed({ kid: 'not-a-key' }, {})), 401, 'token_invalid'));
    it('expired', async () =>
      expectError(status(await signed({}, { exp: now() - 1 })), 401, 'token_expired'));
    it('not yet valid', async () =>
      expectError(status(await signed({}, { nbf: now() + 60 })), 401, 'token_invalid'));
    it('issued in the future', async () =>
      expectError(status(await signed({}, { iat: now() + 60 })), 401, 'token_invalid'));
    it('no exp', async () => expectError(status(await signed({}, { exp: undefined })), 401, 'token_invalid'));
    it('no sid', async () => expectError(status(await signed({}, { sid: undefined })), 401, 'token_invalid'));
    it('sid of a session that does not exist', async () =>
      expectError(status(await signed({}, { sid: 'no-such-session' })), 401, 'token_invalid'));
  });

  it('an access token expires after its lifetime', async () => {
    const fresh = await signUpAndIn(server.url);
    await request(server.url, 'POST', '/api/auth/session/touch', { token: fresh.access_token });
    server.clock.advance(15 * 60_000);
    await expectError(status(fresh.access_token), 401, 'token_expired');
  });
});

describe('after all of that', () => {
  it('the server is still serving', async () => {
    expect((await request(server.url, 'GET', '/healthz')).status).toBe(200);
    const again = await signUpAndIn(server.url);
    expect((await status(again.access_token)).status).toBe(200);
  });
});
