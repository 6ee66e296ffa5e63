import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refresh, request, signUpAndIn } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MINUTE = 60_000;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    env: {
      SESSIOND_IDLE_TIMEOUT_MINUTES: '30',
      SESSIOND_TRUSTED_IDLE_TIMEOUT_MINUTES: '120',
      SESSIOND_REFRESH_TOKEN_TTL_DAYS: '7',
      SESSIOND_ACCESS_TOKEN_TTL_MINUTES: '60',
    },
  });
});
afterAll(async () => {
  await server.close();
});

const status = (token: string) => request(server.url, 'GET', '/api/auth/session/status', { token });
const touch = (token: string) => request(server.url, 'POST', '/api/auth/session/touch', { token });

async function actions(token: string): Promise<Array<{ action: string; session_id: string }>> {
  const logs = await request<{ logs: Array<{ action: string; session_id: string }> }>(
    server.url,
    'GET',
    '/api/auth/session/logs?limit=100',
    { token },
  );
  return logs.body.logs;
}

describe('inactivity timeout and absolute lifetime', () => {
  it('an idle session expires after 30 minutes, on authenticated requests and on refresh', async () => {
    const grant = await signUpAndIn(server.url);
    server.clock.advance(29 * MINUTE);
    expect((await status(grant.access_token)).status).toBe(200);
    server.clock.advance(1 * MINUTE);
    const expired = await status(grant.access_token);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ error: 'session_expired' });
    expect((await refresh(server.url, grant.refresh_token)).body).toMatchObject({ error: 'session_expired' });
  });

  it('touch and refresh slide the inactivity deadline', async () => {
    const grant = await signUpAndIn(server.url);
    server.clock.advance(20 * MINUTE);
    const touched = await touch(grant.access_token);
    expect(touched.status).toBe(200);
    server.clock.advance(20 * MINUTE);
    const refreshed = await refresh(server.url, grant.refresh_token);
    expect(refreshed.status).toBe(200);
    server.clock.advance(29 * MINUTE);
    expect((await status(refreshed.body.access_token)).status).toBe(200);
  });

  it('logs the expiry once with its reason', async () => {
    const grant = await signUpAndIn(server.url);
    server.clock.advance(31 * MINUTE);
    await status(grant.access_token);
    await refresh(server.url, grant.refresh_token);
    const fresh = await request<{ access_token: string }>(server.url, 'POST', '/api/auth/session/create', {
      body: { email: grant.email, password: 'correct horse battery staple' },
    });
    const expiries = (await actions(fresh.body.access_token)).filter((l) => l.action === 'session_expired');
    expect(expiries).toEqual([expect.objectContaining({ session_id: grant.session.id })]);
  });

  it('the absolute lifetime ends a session that stayed active', async () => {
    const grant = await signUpAndIn(server.url);
    let token = grant.refresh_token;
    let access = grant.access_token;
    for (let elapsed = 0; elapsed < 7 * 24 * 60 - 25; elapsed += 25) {
      server.clock.advance(25 * MINUTE);
      const next = await refresh(server.url, token);
      expect(next.status).toBe(200);
      token = next.body.refresh_token;
      access = next.body.access_token;
    }
    // Access tokens never outlive the session.
    const [, payload] = access.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    expect(claims.exp * 1000).toBeLessThanOrEqual(Date.parse(grant.session.expires_at));
    server.clock.advance(25 * MINUTE);
    const ended = await refresh(server.url, token);
    expect(ended.status).toBe(401);
    expect(ended.body).toMatchObject({
      error: 'session_expired',
      message: expect.stringContaining('absolute_timeout'),
    });
  }, 60_000);

  it('the background sweeper marks idle sessions expired without any request', async () => {
    const grant = await signUpAndIn(server.url);
    const other = await request<{ access_token: string }>(server.url, 'POST', '/api/auth/session/create', {
      body: { email: grant.email, password: 'correct horse battery staple' },
    });
    server.clock.advance(20 * MINUTE);
    await touch(other.body.access_token);
    server.clock.advance(11 * MINUTE);
    expect(await server.app.sessiond.sweeper.sweep()).toBeGreaterThanOrEqual(1);
    const session = await server.app.sessiond.store.findSession(grant.session.id);
    expect(session).toMatchObject({ endReason: 'idle_timeout' });
    expect((await actions(other.body.access_token)).map((l) => l.action)).toContain('session_expired');
  });

  it('a trusted device gets the longer inactivity timeout', async () => {
    const grant = await signUpAndIn(server.url, { device: { id: 'trusted-device-1' } });
    const trust = await request(server.url, 'POST', '/api/auth/devices/trusted-device-1/trust', {
      token: grant.access_token,
      body: { trusted: true },
    });
    expect(trust.status).toBe(200);
    await touch(grant.access_token);
    server.clock.advance(90 * MINUTE);
    // The access token lives 60 minutes; the session is still live, so refresh works.
    expect((await refresh(server.url, grant.refresh_token)).status).toBe(200);
    const untrusted = await signUpAndIn(server.url);
    server.clock.advance(90 * MINUTE);
    expect((await refresh(server.url, untrusted.refresh_token)).body).toMatchObject({
      error: 'session_expired',
    });
  });
});
