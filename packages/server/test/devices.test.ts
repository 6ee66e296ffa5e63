import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, refresh, request, signIn, signUpAndIn } from './helpers/api.js';
import { demandStepUp, letPasswordCountAgain } from './helpers/step-up.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

type Devices = { devices: Array<{ id: string; trusted: boolean; current: boolean; name: string | null }> };
const listDevices = (token: string) => request<Devices>(server.url, 'GET', '/api/auth/devices', { token });
const logActions = async (token: string) =>
  (
    await request<{ logs: Array<{ action: string }> }>(
      server.url,
      'GET',
      '/api/auth/session/logs?limit=100',
      { token },
    )
  ).body.logs.map((l) => l.action);

describe('devices', () => {
  it('flags a device new once per user, and logs new_device_login only then', async () => {
    const first = await signUpAndIn(server.url, { device: { id: 'phone-0000-aaaa', name: 'Phone' } });
    expect(first.device).toEqual({
      id: 'phone-0000-aaaa',
      trusted: false,
      new: true,
      secret: expect.stringMatching(/^ds_/),
    });
    const again = await signIn(server.url, first.email, { device: { id: 'phone-0000-aaaa' } });
    expect(again.device.new).toBe(false);
    const laptop = await signIn(server.url, first.email, { device: { id: 'laptop-0000-bbbb' } });
    expect(laptop.device.new).toBe(true);
    const actions = await logActions(laptop.access_token);
    expect(actions.filter((a) => a === 'new_device_login')).toHaveLength(2);
    expect(actions.filter((a) => a === 'login')).toHaveLength(3);
  });

  it('gives a client that sends no device id a fresh one to keep', async () => {
    const grant = await signUpAndIn(server.url);
    expect(grant.device.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(grant.session.device_id).toBe(grant.device.id);
  });

  it('lists, trusts and untrusts the user’s devices', async () => {
    const grant = await signUpAndIn(server.url, { device: { id: 'tablet-0000-cccc', name: 'Tablet' } });
    const listed = await listDevices(grant.access_token);
    expect(listed.body.devices).toEqual([
      expect.objectContaining({ id: 'tablet-0000-cccc', name: 'Tablet', trusted: false, current: true }),
    ]);
    const trusted = await request(server.url, 'POST', '/api/auth/devices/tablet-0000-cccc/trust', {
      token: grant.access_token,
      body: {},
    });
    expect(trusted.body).toMatchObject({ device: { trusted: true } });
    expect((await refresh(server.url, grant.refresh_token)).body.device).toMatchObject({ trusted: true });
    const untrusted = await request(server.url, 'POST', '/api/auth/devices/tablet-0000-cccc/trust', {
      token: grant.access_token,
      body: { trusted: false },
    });
    expect(untrusted.body).toMatchObject({ device: { trusted: false } });
    expect(await logActions(grant.access_token)).toContain('device_trusted');
  });

  it('cannot touch another user’s device', async () => {
    const mine = await signUpAndIn(server.url, { device: { id: 'mine-0000-dddd' } });
    const theirs = await signUpAndIn(server.url, { device: { id: 'theirs-000-eeee' } });
    const trust = await request(server.url, 'POST', '/api/auth/devices/theirs-000-eeee/trust', {
      token: mine.access_token,
      body: {},
    });
    expect(trust.status).toBe(404);
    expect(trust.body).toMatchObject({ error: 'device_not_found' });
    const forget = await request(server.url, 'DELETE', '/api/auth/devices/theirs-000-eeee', {
      token: mine.access_token,
    });
    expect(forget.body).toMatchObject({ error: 'device_not_found' });
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: theirs.access_token })).status,
    ).toBe(200);
  });

  it('forgetting a device signs it out and makes it new again', async () => {
    const laptop = await signUpAndIn(server.url, { device: { id: 'laptop-1111-ffff' } });
    const phone = await signIn(server.url, laptop.email, { device: { id: 'phone-1111-gggg' } });
    const forget = await request(server.url, 'DELETE', '/api/auth/devices/phone-1111-gggg', {
      token: laptop.access_token,
    });
    expect(forget.status).toBe(200);
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: phone.access_token })).body,
    ).toMatchObject({
      error: 'session_revoked',
    });
    expect((await listDevices(laptop.access_token)).body.devices.map((d) => d.id)).toEqual([
      'laptop-1111-ffff',
    ]);
    expect((await signIn(server.url, laptop.email, { device: { id: 'phone-1111-gggg' } })).device.new).toBe(
      true,
    );
  });
});

describe('step-up', () => {
  async function flagged() {
    const grant = await signUpAndIn(server.url, { device: { id: 'stepup-0000-hhhh' } });
    await demandStepUp(server, grant.session.id);
    return grant;
  }

  it('sensitive calls answer 401 step_up_required with the RFC 9470 challenge', async () => {
    const grant = await flagged();
    const revokeAll = await request(server.url, 'POST', '/api/auth/session/revoke-all', {
      token: grant.access_token,
      body: {},
    });
    expect(revokeAll.status).toBe(401);
    expect(revokeAll.body).toMatchObject({ error: 'step_up_required' });
    expect(revokeAll.headers.get('www-authenticate')).toContain('error="insufficient_user_authentication"');
    const trust = await request(server.url, 'POST', '/api/auth/devices/stepup-0000-hhhh/trust', {
      token: grant.access_token,
      body: {},
    });
    expect(trust.body).toMatchObject({ error: 'step_up_required' });
    const forget = await request(server.url, 'DELETE', '/api/auth/devices/stepup-0000-hhhh', {
      token: grant.access_token,
    });
    expect(forget.body).toMatchObject({ error: 'step_up_required' });
    expect(
      (
        await request<{ devices: unknown[] }>(server.url, 'GET', '/api/auth/devices', {
          token: grant.access_token,
        })
      ).body.devices,
    ).toHaveLength(1);
    // Non-sensitive calls keep working.
    const status = await request(server.url, 'GET', '/api/auth/session/status', {
      token: grant.access_token,
    });
    expect(status.body).toMatchObject({ session: { step_up_required: true } });
  });

  it('a wrong password does not step up', async () => {
    const grant = await flagged();
    letPasswordCountAgain(server);
    const attempt = await request(server.url, 'POST', '/api/auth/session/step-up', {
      token: grant.access_token,
      body: { password: 'wrong password!!' },
    });
    expect(attempt.status).toBe(401);
    expect(attempt.body).toMatchObject({ error: 'invalid_credentials' });
    const totp = await request(server.url, 'POST', '/api/auth/session/step-up', {
      token: grant.access_token,
      body: { totp: '123456' },
    });
    expect(totp.body).toMatchObject({ error: 'totp_not_enrolled' });
  });

  it('the password (once the sign-in is old enough) gives fresh tokens, clears the flag, and the old refresh token joins the grace rules', async () => {
    const grant = await flagged();
    letPasswordCountAgain(server);
    const stepped = await request<{ access_token: string; refresh_token: string; session: { acr: string } }>(
      server.url,
      'POST',
      '/api/auth/session/step-up',
      { token: grant.access_token, body: { password: PASSWORD } },
    );
    expect(stepped.status).toBe(200);
    // The password again re-authenticates but adds no factor: acr stays (decision 024).
    expect(stepped.body.session.acr).toBe('aal1');
    const claims = JSON.parse(Buffer.from(stepped.body.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims.acr).toBe('aal1');
    const revokeAll = await request(server.url, 'POST', '/api/auth/session/revoke-all', {
      token: stepped.body.access_token,
      body: { keep_current: true },
    });
    expect(revokeAll.status).toBe(200);
    // A racing tab with the pre-step-up refresh token converges on the same new token.
    expect((await refresh(server.url, grant.refresh_token)).body.refresh_token).toBe(
      stepped.body.refresh_token,
    );
    expect(await logActions(stepped.body.access_token)).toEqual(
      expect.arrayContaining(['step_up', 'step_up_required']),
    );
  });
});
