import type { TokenResponse } from '@sessiond/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, refresh, request, signIn, signUpAndIn, uniqueEmail } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('session lifecycle over HTTP', () => {
  it('signs up, signs in, calls an authenticated endpoint, refreshes, logs out', async () => {
    const email = uniqueEmail();
    const signup = await request(server.url, 'POST', '/api/auth/signup', {
      body: { email, password: PASSWORD },
    });
    expect(signup.status).toBe(201);
    expect(signup.body).toMatchObject({ user: { email } });

    const created = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD, device: { name: 'Laptop', platform: 'web' } },
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      device: { trusted: false, new: true },
    });
    expect(created.body.refresh_token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);

    const status = await request(server.url, 'GET', '/api/auth/session/status', {
      token: created.body.access_token,
    });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      session: { id: created.body.session.id, step_up_required: false, acr: 'aal1' },
    });

    const refreshed = await refresh(server.url, created.body.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(created.body.refresh_token);
    expect(refreshed.body.session.id).toBe(created.body.session.id);
    expect(refreshed.body.device).toMatchObject({ id: created.body.device.id, new: false });

    const logout = await request(server.url, 'POST', '/api/auth/session/logout', {
      token: refreshed.body.access_token,
    });
    expect(logout.status).toBe(200);
    const after = await request(server.url, 'GET', '/api/auth/session/status', {
      token: refreshed.body.access_token,
    });
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: 'session_revoked' });
    expect((await refresh(server.url, refreshed.body.refresh_token)).body).toMatchObject({
      error: 'session_revoked',
    });
  });

  it('puts the claims of DESIGN.md in the access token with typ at+jwt and a kid', async () => {
    const grant = await signUpAndIn(server.url);
    const [header, payload] = grant.access_token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(typeof header.kid).toBe('string');
    expect(Object.keys(payload).sort()).toEqual(
      ['acr', 'amr', 'aud', 'auth_time', 'client_id', 'did', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub'].sort(),
    );
    expect(payload).toMatchObject({
      iss: 'http://sessiond.test',
      aud: 'sessiond',
      client_id: 'default',
      sid: grant.session.id,
      did: grant.device.id,
      acr: 'aal1',
      amr: ['pwd'],
    });
    expect(payload.exp - payload.iat).toBe(900);
    const jwks = await request<{ keys: Array<{ kid: string }> }>(server.url, 'GET', '/.well-known/jwks.json');
    expect(jwks.body.keys.map((k) => k.kid)).toContain(header.kid);
  });

  it('revoke takes effect on the very next request, for that session only', async () => {
    const first = await signUpAndIn(server.url);
    const second = await signIn(server.url, first.email);
    const revoke = await request(server.url, 'POST', '/api/auth/session/revoke', {
      token: first.access_token,
      body: { session_id: second.session.id },
    });
    expect(revoke.status).toBe(200);
    expect(revoke.body).toEqual({ session_id: second.session.id, revoked: true });
    const refused = await request(server.url, 'GET', '/api/auth/session/status', {
      token: second.access_token,
    });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'session_revoked' });
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: first.access_token })).status,
    ).toBe(200);
  });

  it('cannot revoke another user’s session, and says so as if it did not exist', async () => {
    const mine = await signUpAndIn(server.url);
    const theirs = await signUpAndIn(server.url);
    const attempt = await request(server.url, 'POST', '/api/auth/session/revoke', {
      token: mine.access_token,
      body: { session_id: theirs.session.id },
    });
    expect(attempt.status).toBe(404);
    expect(attempt.body).toMatchObject({ error: 'session_not_found' });
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: theirs.access_token })).status,
    ).toBe(200);
  });

  it('revoke-all ends every session at once, keeping the current one when asked', async () => {
    const a = await signUpAndIn(server.url);
    const b = await signIn(server.url, a.email);
    const c = await signIn(server.url, a.email);
    const kept = await request(server.url, 'POST', '/api/auth/session/revoke-all', {
      token: a.access_token,
      body: { keep_current: true },
    });
    expect(kept.body).toEqual({ revoked: 2 });
    for (const other of [b, c]) {
      expect(
        (await request(server.url, 'GET', '/api/auth/session/status', { token: other.access_token })).status,
      ).toBe(401);
      expect((await refresh(server.url, other.refresh_token)).status).toBe(401);
    }
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: a.access_token })).status,
    ).toBe(200);
    const all = await request(server.url, 'POST', '/api/auth/session/revoke-all', {
      token: a.access_token,
      body: {},
    });
    expect(all.body).toEqual({ revoked: 1 });
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: a.access_token })).status,
    ).toBe(401);
  });

  it('lists active sessions with their device and marks the current one', async () => {
    const phone = await signUpAndIn(server.url, {
      device: { id: 'phone-device-1', name: 'Phone', platform: 'ios' },
    });
    server.clock.advance(1000);
    const laptop = await signIn(server.url, phone.email, {
      device: { id: 'laptop-device-1', name: 'Laptop' },
      userAgent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    });
    const active = await request<{
      sessions: Array<Record<string, unknown> & { device: Record<string, unknown> }>;
    }>(server.url, 'GET', '/api/auth/session/active', { token: laptop.access_token });
    expect(active.status).toBe(200);
    expect(active.body.sessions.map((s) => [s.id, s.current])).toEqual([
      [laptop.session.id, true],
      [phone.session.id, false],
    ]);
    expect(active.body.sessions[0]!.device).toMatchObject({
      id: 'laptop-device-1',
      name: 'Laptop',
      browser: 'Chrome 120',
      os: 'Linux',
      device_type: 'desktop',
    });
    expect(active.body.sessions[0]!.ip).toBe('127.0.0.1');
  });

  it('pages through the user’s own audit log, newest first', async () => {
    const grant = await signUpAndIn(server.url);
    let current = grant;
    for (let i = 0; i < 3; i += 1)
      current = { ...current, ...(await refresh(server.url, current.refresh_token)).body };
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await request<{
        logs: Array<{ action: string; ip: string; user_agent: string; success: boolean }>;
        next_cursor: string | null;
      }>(server.url, 'GET', `/api/auth/session/logs${query}`, { token: current.access_token });
      expect(page.status).toBe(200);
      expect(page.body.logs.length).toBeLessThanOrEqual(2);
      for (const log of page.body.logs) {
        expect(log.ip).toBe('127.0.0.1');
        seen.push(log.action);
      }
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['refresh', 'refresh', 'refresh', 'new_device_login', 'login']);
    const other = await signUpAndIn(server.url);
    const theirs = await request<{ logs: unknown[] }>(server.url, 'GET', '/api/auth/session/logs', {
      token: other.access_token,
    });
    expect(theirs.body.logs).toHaveLength(2);
  });

  it('keeps sessions, refresh tokens and signing keys across a restart', async () => {
    const grant = await signUpAndIn(server.url);
    const jwksBefore = await request(server.url, 'GET', '/.well-known/jwks.json');
    await server.restart();
    expect((await request(server.url, 'GET', '/.well-known/jwks.json')).body).toEqual(jwksBefore.body);
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: grant.access_token })).status,
    ).toBe(200);
    const refreshed = await refresh(server.url, grant.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.session.id).toBe(grant.session.id);
  });

  it('answers health and readiness', async () => {
    expect((await request(server.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await request(server.url, 'GET', '/readyz')).body).toEqual({
      status: 'ready',
      storage: 'up',
      bus: 'up',
    });
  });
});
