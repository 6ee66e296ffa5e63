import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, signIn, signUpAndIn, uniqueEmail } from './helpers/api.js';
import { RESOURCE_SERVER, startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { SESSIOND_CLIENTS: 'default,mobile' } });
});
afterAll(async () => {
  await server.close();
});

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const RS = basic(RESOURCE_SERVER.id, RESOURCE_SERVER.secret);

function form(path: string, fields: Record<string, string> | string, headers: Record<string, string> = {}) {
  const body = typeof fields === 'string' ? fields : new URLSearchParams(fields).toString();
  return request(server.url, 'POST', path, {
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

async function expectOAuthError(
  response: Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>,
  status: number,
  error: string,
) {
  const { status: actual, headers, body } = await response;
  expect({ status: actual, error: body.error }).toEqual({ status, error });
  expect(typeof body.error_description).toBe('string');
  expect(headers.get('cache-control')).toBe('no-store');
}

describe('form bodies are strict UTF-8 (issue 12)', () => {
  // Every OAuth parameter is printable ASCII, so a U+FFFD that loose decoding made would be
  // refused later anyway; strict decoding says what is wrong, and nothing reads a value the
  // client never sent.
  it('refuses invalid UTF-8, raw or percent-escaped, and says so', async () => {
    const raw = Buffer.concat([
      Buffer.from('grant_type=refresh_token&refresh_token=rt_'),
      Buffer.from([0xff, 0xfe]),
    ]);
    for (const [path, body] of [
      ['/oauth/token', 'grant_type=refresh_token&refresh_token=rt_%FF'],
      ['/oauth/revoke', 'token=%C3%28'],
      ['/oauth/token', raw],
    ] as const) {
      const answer = await fetch(new URL(path, server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject({
        error: 'invalid_request',
        error_description: expect.stringMatching(/UTF-8/),
      });
    }
  });

  it('still reads valid percent-escapes', async () => {
    // refresh%5Ftoken is refresh_token: read as that grant, then refused for its unknown token.
    await expectOAuthError(
      form('/oauth/token', `grant_type=refresh%5Ftoken&refresh_token=rt_${'A'.repeat(43)}&client_id=default`),
      400,
      'invalid_grant',
    );
  });
});

describe('POST /oauth/token (RFC 6749 §6, §5.2)', () => {
  it('answers a refresh with no-store and the standard fields only', async () => {
    const grant = await signUpAndIn(server.url);
    const response = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: grant.refresh_token,
      client_id: 'default',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(Object.keys(response.body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'token_type',
    ]);
  });

  it('shares the grace window: two parallel grants with one token get one successor', async () => {
    const grant = await signUpAndIn(server.url);
    const fields = { grant_type: 'refresh_token', refresh_token: grant.refresh_token, client_id: 'default' };
    const [a, b] = await Promise.all([form('/oauth/token', fields), form('/oauth/token', fields)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.refresh_token).toBe(b.body.refresh_token);
  });

  it('refuses a refresh token issued to another client, without burning it', async () => {
    const grant = await signUpAndIn(server.url);
    await expectOAuthError(
      form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: grant.refresh_token,
        client_id: 'mobile',
      }),
      400,
      'invalid_grant',
    );
    const right = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: grant.refresh_token,
      client_id: 'default',
    });
    expect(right.status).toBe(200);
  });

  it('binds sessions created for a named client to it', async () => {
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', {
      body: { email, password: 'correct horse battery staple' },
    });
    const created = await request<{ refresh_token: string }>(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: 'correct horse battery staple', client_id: 'mobile' },
    });
    const ok = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: created.body.refresh_token,
      client_id: 'mobile',
    });
    expect(ok.status).toBe(200);
  });

  it('invalid_grant for unknown, garbage and replayed tokens', async () => {
    await expectOAuthError(
      form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: `rt_${'A'.repeat(43)}`,
        client_id: 'default',
      }),
      400,
      'invalid_grant',
    );
    await expectOAuthError(
      form('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'garbage', client_id: 'default' }),
      400,
      'invalid_grant',
    );
    const grant = await signUpAndIn(server.url);
    await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: grant.refresh_token,
      client_id: 'default',
    });
    server.clock.advance(11_000);
    await expectOAuthError(
      form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: grant.refresh_token,
        client_id: 'default',
      }),
      400,
      'invalid_grant',
    );
  });

  it('unsupported_grant_type, invalid_client, invalid_request, invalid_scope', async () => {
    await expectOAuthError(
      form('/oauth/token', { grant_type: 'password', username: 'x', password: 'y', client_id: 'default' }),
      400,
      'unsupported_grant_type',
    );
    await expectOAuthError(
      form('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'stranger' }),
      401,
      'invalid_client',
    );
    await expectOAuthError(
      form('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x' }),
      400,
      'invalid_request',
    );
    await expectOAuthError(
      form('/oauth/token', { client_id: 'default', refresh_token: 'x' }),
      400,
      'invalid_request',
    );
    await expectOAuthError(
      form('/oauth/token', { grant_type: 'refresh_token', client_id: 'default' }),
      400,
      'invalid_request',
    );
    await expectOAuthError(
      form(
        '/oauth/token',
        'grant_type=refresh_token&grant_type=refresh_token&client_id=default&refresh_token=x',
      ),
      400,
      'invalid_request',
    );
    const grant = await signUpAndIn(server.url);
    await expectOAuthError(
      form('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: grant.refresh_token,
        client_id: 'default',
        scope: 'admin',
      }),
      400,
      'invalid_scope',
    );
  });

  it('refuses JSON and other media types with invalid_request, not a crash', async () => {
    await expectOAuthError(
      request(server.url, 'POST', '/oauth/token', {
        body: { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'default' },
      }),
      400,
      'invalid_request',
    );
    await expectOAuthError(
      request(server.url, 'POST', '/oauth/token', { body: 'x', headers: { 'content-type': 'text/plain' } }),
      400,
      'invalid_request',
    );
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  it('answers 200 for unknown tokens and for tokens already revoked', async () => {
    const unknown = await form('/oauth/revoke', { token: 'nothing-like-a-token', client_id: 'default' });
    expect(unknown.status).toBe(200);
    const grant = await signUpAndIn(server.url);
    expect((await form('/oauth/revoke', { token: grant.refresh_token, client_id: 'default' })).status).toBe(
      200,
    );
    expect((await form('/oauth/revoke', { token: grant.refresh_token, client_id: 'default' })).status).toBe(
      200,
    );
  });

  it('does not trust the hint: a refresh token hinted as an access token is still revoked', async () => {
    const grant = await signUpAndIn(server.url);
    await form('/oauth/revoke', {
      token: grant.refresh_token,
      token_type_hint: 'access_token',
      client_id: 'default',
    });
    const status = await request(server.url, 'GET', '/api/auth/session/status', {
      token: grant.access_token,
    });
    expect(status.body).toMatchObject({ error: 'session_revoked' });
  });

  it('refuses to revoke another client’s token, and leaves it alone', async () => {
    const grant = await signUpAndIn(server.url);
    await expectOAuthError(
      form('/oauth/revoke', { token: grant.refresh_token, client_id: 'mobile' }),
      400,
      'invalid_request',
    );
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: grant.access_token })).status,
    ).toBe(200);
  });

  it('needs a token and a registered client', async () => {
    await expectOAuthError(form('/oauth/revoke', { client_id: 'default' }), 400, 'invalid_request');
    await expectOAuthError(
      form('/oauth/revoke', { token: 'x', client_id: 'stranger' }),
      401,
      'invalid_client',
    );
  });
});

describe('POST /oauth/introspect (RFC 7662)', () => {
  const introspect = (token: string, auth = RS) =>
    form('/oauth/introspect', { token }, { authorization: auth });

  it('needs a registered resource server with the right secret', async () => {
    const grant = await signUpAndIn(server.url);
    const anonymous = await form('/oauth/introspect', { token: grant.access_token });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_client');
    const wrong = await introspect(grant.access_token, basic(RESOURCE_SERVER.id, 'wrong-secret'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="sessiond"');
    const unknown = await introspect(grant.access_token, basic('nobody', RESOURCE_SERVER.secret));
    expect(unknown.status).toBe(401);
  });

  it('is inactive for expired, revoked, rotated, malformed and unknown tokens', async () => {
    const grant = await signUpAndIn(server.url);
    const rotated = await signIn(server.url, grant.email);
    await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: rotated.refresh_token,
      client_id: 'default',
    });
    expect((await introspect(rotated.refresh_token)).body).toEqual({ active: false });
    for (const token of ['', 'x.y.z', `rt_${'B'.repeat(43)}`, `${grant.access_token}x`]) {
      expect((await introspect(token || 'a')).body).toEqual({ active: false });
    }
    await request(server.url, 'POST', '/api/auth/session/logout', { token: grant.access_token });
    expect((await introspect(grant.access_token)).body).toEqual({ active: false });
    expect((await introspect(grant.refresh_token)).body).toEqual({ active: false });
    const later = await signUpAndIn(server.url);
    server.clock.advance(15 * 60_000);
    expect((await introspect(later.access_token)).body).toEqual({ active: false });
  });
});

describe('GET /api/revocations/stream', () => {
  it('is only for registered resource servers', async () => {
    const anonymous = await request(server.url, 'GET', '/api/revocations/stream');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: 'invalid_client' });
    const wrong = await request(server.url, 'GET', '/api/revocations/stream', {
      headers: { authorization: basic(RESOURCE_SERVER.id, 'nope') },
    });
    expect(wrong.status).toBe(401);
  });

  it('replays recent revocations, says ready, then streams new ones live', async () => {
    const before = await signUpAndIn(server.url);
    await request(server.url, 'POST', '/api/auth/session/logout', { token: before.access_token });
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/revocations/stream`, {
      headers: { authorization: RS },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil('event: ready');
    expect(text.indexOf(before.session.id)).toBeGreaterThan(-1);
    expect(text.indexOf(before.session.id)).toBeLessThan(text.indexOf('event: ready'));
    const live = await signUpAndIn(server.url);
    await request(server.url, 'POST', '/api/auth/session/logout', { token: live.access_token });
    await readUntil(live.session.id);
    const frame = text.slice(text.lastIndexOf('id: ', text.indexOf(live.session.id)));
    expect(frame).toMatch(
      /^id: \d+\nevent: revoked\ndata: \{.*"reason":"logout".*"access_valid_until":"[^"]+"\}/,
    );
    controller.abort();
  });
});
