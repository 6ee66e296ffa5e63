import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, signUpAndIn } from './helpers/api.js';
import { rawExchange } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const host = 'Host: sessiond.test\r\n';
const json = { 'content-type': 'application/json' };

describe('a body over the limit', () => {
  it('is answered 413 payload_too_large, every time, while the client is still sending it', async () => {
    const bytes = 2 * 1024 * 1024;
    for (let attempt = 0; attempt < 6; attempt++) {
      const head = `POST /api/auth/signup HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n`;
      const answer = await rawExchange(server.url, head, { bytes, chunkBytes: 64 * 1024, pauseMs: 2 });
      expect({ attempt, status: answer.status, error: answer.error }).toEqual({
        attempt,
        status: 413,
        error: undefined,
      });
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'payload_too_large' });
    }
  });
});

describe('requests Node’s HTTP parser refuses', () => {
  it('a malformed request line: 400 invalid_request in the {error, message} contract', async () => {
    const answer = await rawExchange(server.url, 'NOT HTTP AT ALL\r\n\r\n');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', message: expect.any(String) });
    expect(answer.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'close',
    });
  });

  it('a header that breaks the grammar: 400 invalid_request', async () => {
    const answer = await rawExchange(server.url, `GET /healthz HTTP/1.1\r\n${host}Bad Header\r\n\r\n`);
    expect({ status: answer.status, body: JSON.parse(answer.body).error }).toEqual({
      status: 400,
      body: 'invalid_request',
    });
  });

  it('headers over the size limit: 431 request_header_too_large, every time', async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const head = `GET /api/auth/session/status HTTP/1.1\r\n${host}X-Filler: ${'f'.repeat(64 * 1024)}\r\n\r\n`;
      const answer = await rawExchange(server.url, head);
      expect({ attempt, status: answer.status, error: answer.error }).toEqual({
        attempt,
        status: 431,
        error: undefined,
      });
      expect(JSON.parse(answer.body)).toEqual({
        error: 'request_header_too_large',
        message: expect.any(String),
      });
      expect(answer.headers['cache-control']).toBe('no-store');
    }
  });

  it('the server still serves afterwards', async () => {
    expect((await request(server.url, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('Cache-Control: no-store, from one hook', () => {
  it('on every authenticated answer and every error under /api/, state included', async () => {
    const grant = await signUpAndIn(server.url);
    const token = grant.access_token;
    const answers = [
      await request(server.url, 'GET', '/api/state/cart', { token }),
      await request(server.url, 'GET', '/api/auth/devices', { token }),
      await request(server.url, 'GET', '/api/state/cart'),
      await request(server.url, 'GET', '/api/state/cart', { token: `${token}x` }),
      await request(server.url, 'POST', '/api/state/cart/ops', { token, body: { nonsense: true } }),
      await request(server.url, 'GET', '/api/nope'),
      await request(server.url, 'GET', '/api/sync'),
      await request(server.url, 'POST', '/api/auth/session/create', { body: '{', headers: json }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 401, 401, 400, 404, 426, 400]);
    for (const answer of answers) expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('the OAuth endpoints keep theirs; the public key set stays cacheable', async () => {
    const token = await request(server.url, 'POST', '/oauth/token', {
      body: 'grant_type=refresh_token&refresh_token=rt_nope&client_id=default',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(token.headers.get('cache-control')).toBe('no-store');
    expect(token.headers.get('pragma')).toBe('no-cache');
    const jwks = await request(server.url, 'GET', '/.well-known/jwks.json', {
      headers: { authorization: 'Bearer whatever' },
    });
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=300');
  });
});

describe('the admin API cannot be probed for its routes', () => {
  const KEY = `sk_admin_${'Z'.repeat(43)}`;
  let admin: TestServer;
  beforeAll(async () => {
    admin = await startTestServer({ env: { SESSIOND_ADMIN_API_KEYS: KEY } });
  });
  afterAll(async () => {
    await admin.close();
  });

  /** Status, body and headers, less the ones that differ from one answer to the next anyway. */
  async function answerTo(method: string, path: string, headers: Record<string, string> = {}) {
    const answer = await request(admin.url, method, path, { headers });
    const { date: _date, ...rest } = Object.fromEntries(answer.headers);
    return { status: answer.status, body: answer.body, headers: rest };
  }

  it('without a key, an unknown path or method answers exactly as a known route does', async () => {
    const known = await answerTo('GET', '/api/admin/logs');
    expect(known.status).toBe(401);
    expect(known.body.error).toBe('admin_key_invalid');
    for (const [method, path] of [
      ['GET', '/api/admin/no-such-route'],
      ['GET', '/api/admin/users/u/secrets'],
      ['DELETE', '/api/admin/logs'],
      ['POST', '/api/admin/analytics/logins-per-day'],
      ['GET', '/api/admin'],
      ['GET', '/api/admin/'],
    ] as const) {
      expect({ method, path, ...(await answerTo(method, path)) }).toEqual({ method, path, ...known });
    }
    const wrongKey = { authorization: `Bearer sk_admin_${'Y'.repeat(43)}` };
    expect(await answerTo('GET', '/api/admin/nope', wrongKey)).toEqual(
      await answerTo('GET', '/api/admin/logs', wrongKey),
    );
  });

  it('with a valid key, an unknown path is 404 not_found', async () => {
    const answer = await request(admin.url, 'GET', '/api/admin/no-such-route', {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 404, error: 'not_found' });
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });
});
