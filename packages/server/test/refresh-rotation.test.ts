import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refresh, request, signUpAndIn } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { SESSIOND_REFRESH_GRACE_SECONDS: '10' } });
});
afterAll(async () => {
  await server.close();
});

const status = (token: string) => request(server.url, 'GET', '/api/auth/session/status', { token });

describe('refresh token rotation', () => {
  it('two refreshes in parallel with the same token both succeed and lead to one session and one token', async () => {
    const grant = await signUpAndIn(server.url);
    const [a, b] = await Promise.all([
      refresh(server.url, grant.refresh_token),
      refresh(server.url, grant.refresh_token),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.refresh_token).toBe(b.body.refresh_token);
    expect(a.body.session.id).toBe(grant.session.id);
    expect(b.body.session.id).toBe(grant.session.id);
    const active = await request<{ sessions: unknown[] }>(server.url, 'GET', '/api/auth/session/active', {
      token: a.body.access_token,
    });
    expect(active.body.sessions).toHaveLength(1);
    // The one successor keeps the chain going for both tabs.
    expect((await refresh(server.url, a.body.refresh_token)).status).toBe(200);
  });

  it('ten concurrent refreshes converge on one successor', async () => {
    const grant = await signUpAndIn(server.url);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => refresh(server.url, grant.refresh_token)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(1);
  });

  it('a client whose response was lost can retry within the grace window', async () => {
    const grant = await signUpAndIn(server.url);
    const lost = await refresh(server.url, grant.refresh_token);
    server.clock.advance(9_000);
    const retry = await refresh(server.url, grant.refresh_token);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).toBe(lost.body.refresh_token);
  });

  it('a replay after the grace window revokes the session and both token chains die', async () => {
    const grant = await signUpAndIn(server.url);
    const legit = await refresh(server.url, grant.refresh_token);
    server.clock.advance(10_000);
    const replay = await refresh(server.url, grant.refresh_token);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: 'refresh_token_reused' });
    // The refresh endpoint takes no bearer token, so it sends no bearer challenge.
    expect(replay.headers.get('www-authenticate')).toBeNull();
    // The thief's chain and the legitimate chain are both dead, and so is the access token.
    expect((await refresh(server.url, legit.body.refresh_token)).body).toMatchObject({
      error: 'session_revoked',
    });
    expect((await refresh(server.url, grant.refresh_token)).body).toMatchObject({ error: 'session_revoked' });
    expect((await status(legit.body.access_token)).body).toMatchObject({ error: 'session_revoked' });
  });

  it('presenting a replaced token after its successor was used is reuse, even inside the window', async () => {
    const grant = await signUpAndIn(server.url);
    const second = await refresh(server.url, grant.refresh_token);
    const third = await refresh(server.url, second.body.refresh_token);
    expect(third.status).toBe(200);
    const replay = await refresh(server.url, grant.refresh_token);
    expect(replay.body).toMatchObject({ error: 'refresh_token_reused' });
    expect((await status(third.body.access_token)).status).toBe(401);
  });

  it('logs the reuse with its IP and user agent, visible in the victim’s audit log after sign-in', async () => {
    const grant = await signUpAndIn(server.url);
    await refresh(server.url, grant.refresh_token);
    server.clock.advance(60_000);
    await request(server.url, 'POST', '/api/auth/session/refresh', {
      body: { refresh_token: grant.refresh_token },
      headers: { 'user-agent': 'thief/1.0' },
    });
    const again = await request<{ access_token: string }>(server.url, 'POST', '/api/auth/session/create', {
      body: { email: grant.email, password: 'correct horse battery staple' },
    });
    const logs = await request<{ logs: Array<Record<string, unknown>> }>(
      server.url,
      'GET',
      '/api/auth/session/logs',
      {
        token: again.body.access_token,
      },
    );
    const reuse = logs.body.logs.find((log) => log.action === 'refresh_reuse_detected');
    expect(reuse).toMatchObject({
      detail: { grace_ms: 10_000, rotated_at: expect.any(Number) },
      success: false,
      error: 'refresh_token_reused',
      session_id: grant.session.id,
      user_agent: 'thief/1.0',
      ip: '127.0.0.1',
      actor: 'system',
    });
  });

  it('refuses unknown, malformed and oversized refresh tokens with refresh_token_invalid', async () => {
    for (const token of [`rt_${'A'.repeat(43)}`, 'garbage', '', 'rt_short']) {
      const response = await refresh(server.url, token);
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: 'refresh_token_invalid' });
    }
    const huge = await refresh(server.url, 'x'.repeat(300));
    expect(huge.status).toBe(400);
    expect(huge.body).toMatchObject({ error: 'invalid_request' });
  });

  it('stores refresh tokens only as hashes', async () => {
    const grant = await signUpAndIn(server.url);
    const bytes = await server.storedText();
    expect(bytes).not.toContain(grant.refresh_token);
    expect(bytes).not.toContain(grant.refresh_token.slice(3));
  });
});
