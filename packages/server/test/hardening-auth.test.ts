import type { TokenResponse } from '@sessiond/protocol';
import { decodeJwt } from 'jose';
import { TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from './helpers/api.js';
import { demandStepUp, letPasswordCountAgain } from './helpers/step-up.js';
import { openSync } from './helpers/sync-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Issue 12: what a stolen access token, a copied device id and a password spray must not do.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    env: {
      SESSIOND_TRUST_PROXY: 'true',
      SESSIOND_LOGIN_LIMIT_PER_IP: '1000',
      SESSIOND_LOGIN_LIMIT_PER_ACCOUNT_IP: '5',
      SESSIOND_LOGIN_LIMIT_PER_ACCOUNT: '40',
      SESSIOND_REAUTH_MAX_AGE_SECONDS: '300',
    },
  });
});
afterAll(async () => {
  await server.close();
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });

async function newAccount(): Promise<string> {
  const email = uniqueEmail();
  expect(
    (await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } })).status,
  ).toBe(201);
  return email;
}

function createSession(body: Record<string, unknown>, ip = '192.0.2.1') {
  return request<TokenResponse & { error?: string }>(server.url, 'POST', '/api/auth/session/create', {
    body,
    headers: from(ip),
  });
}

async function signIn(
  email: string,
  extra: Record<string, unknown> = {},
  ip = '192.0.2.1',
): Promise<TokenResponse> {
  const answer = await createSession({ email, password: PASSWORD, ...extra }, ip);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

const post = <T = Record<string, unknown>>(path: string, token: string, body: unknown = {}) =>
  request<T & { error?: string }>(server.url, 'POST', path, { token, body });

async function stepUp(token: string, body: Record<string, string>): Promise<string> {
  // The password alone counts only once the sign-in is old enough (decision 024); no mail here.
  if ('password' in body) letPasswordCountAgain(server);
  const answer = await post<TokenResponse>('/api/auth/session/step-up', token, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.access_token;
}

/** Enrols TOTP on a session that has just re-authenticated; returns a code generator. */
async function enrolTOTP(token: string): Promise<() => string> {
  const enrolled = await post<{ secret: string }>('/api/auth/totp/enroll', token);
  expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
  const app = new TOTP({ secret: enrolled.body.secret, digits: 6, period: 30, algorithm: 'SHA1' });
  const code = () => app.generate({ timestamp: server.clock.now() });
  expect((await post('/api/auth/totp/confirm', token, { code: code() })).status).toBe(200);
  server.clock.advance(30_000); // the confirming code is used: the next one is another step
  return code;
}

async function logActions(token: string): Promise<string[]> {
  const logs = await request<{ logs: Array<{ action: string }> }>(
    server.url,
    'GET',
    '/api/auth/session/logs?limit=100',
    {
      token,
    },
  );
  return logs.body.logs.map((row) => row.action);
}

describe('factor changes need a fresh re-authentication with an existing factor', () => {
  it('refuses TOTP enrolment to a plain access token, flagged or not, and says how to re-authenticate', async () => {
    const email = await newAccount();
    const stolen = (await signIn(email)).access_token;
    const enrol = await post('/api/auth/totp/enroll', stolen);
    expect(enrol.status).toBe(401);
    expect(enrol.body.error).toBe('reauthentication_required');
    expect(enrol.headers.get('www-authenticate')).toMatch(
      /error="insufficient_user_authentication".*max_age=300/,
    );
    expect((await post('/api/auth/totp/confirm', stolen, { code: '123456' })).body.error).toBe(
      'reauthentication_required',
    );
    expect((await request(server.url, 'DELETE', '/api/auth/totp', { token: stolen })).body.error).toBe(
      'reauthentication_required',
    );
    const user = await server.app.sessiond.store.findUserByEmail(email);
    expect(user?.totpPendingSealed ?? null).toBeNull();
  });

  it('lets a session enrol right after a password step-up, and not once the step-up is old', async () => {
    const email = await newAccount();
    const token = await stepUp((await signIn(email)).access_token, { password: PASSWORD });
    expect((await post('/api/auth/totp/enroll', token)).status).toBe(200);
    // Flagged since its step-up (a suspicious refresh, say): it steps up again first.
    const flagged = decodeJwt(token).sid as string;
    await demandStepUp(server, flagged);
    expect((await post('/api/auth/totp/enroll', token)).body.error).toBe('step_up_required');
    const again = await stepUp(token, { password: PASSWORD });
    expect((await post('/api/auth/totp/enroll', again)).status).toBe(200);
    server.clock.advance(301_000);
    expect((await post('/api/auth/totp/enroll', again)).body.error).toBe('reauthentication_required');
  });

  it('with TOTP enabled, only a TOTP step-up may replace or remove it; starting over keeps the old factor', async () => {
    const email = await newAccount();
    const token = await stepUp((await signIn(email)).access_token, { password: PASSWORD });
    const code = await enrolTOTP(token);

    // A password alone (known to whoever phished it) no longer changes factors.
    const withPassword = await stepUp((await signIn(email)).access_token, { password: PASSWORD });
    expect((await post('/api/auth/totp/enroll', withPassword)).body.error).toBe('reauthentication_required');
    expect((await request(server.url, 'DELETE', '/api/auth/totp', { token: withPassword })).body.error).toBe(
      'reauthentication_required',
    );

    // A TOTP step-up may start a new enrolment; until it is confirmed the old factor still works.
    const withTOTP = await stepUp((await signIn(email)).access_token, { totp: code() });
    expect((await post('/api/auth/totp/enroll', withTOTP)).status).toBe(200);
    server.clock.advance(30_000);
    expect(
      (await post('/api/auth/session/step-up', (await signIn(email)).access_token, { totp: code() })).status,
    ).toBe(200);

    server.clock.advance(30_000);
    const again = await stepUp((await signIn(email)).access_token, { totp: code() });
    const removed = await request(server.url, 'DELETE', '/api/auth/totp', { token: again });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ totp_enabled: false });
    expect(await logActions(again)).toEqual(expect.arrayContaining(['totp_enrolled', 'totp_removed']));
  });

  it('tells the user’s other devices of a factor change over the sync socket', async () => {
    const email = await newAccount();
    const phone = await signIn(email, { device: { id: 'phone-factor-01' } });
    const socket = await openSync(server.url, { token: phone.access_token });
    try {
      await socket.next('ready');
      const laptop = await stepUp((await signIn(email)).access_token, { password: PASSWORD });
      await enrolTOTP(laptop);
      const event = await socket.next('event', (e) => e.event === 'account.factor_changed');
      expect(event.detail).toEqual({ factor: 'totp', change: 'enrolled' });
    } finally {
      socket.close();
    }
  });
});

describe('step-up cannot be sidestepped one session at a time', () => {
  it('refuses a flagged session the revocation of another session, and lets it end itself', async () => {
    const email = await newAccount();
    const victim = await signIn(email);
    const flagged = await signIn(email);
    await demandStepUp(server, flagged.session.id);
    const other = await post('/api/auth/session/revoke', flagged.access_token, {
      session_id: victim.session.id,
    });
    expect(other.status).toBe(401);
    expect(other.body.error).toBe('step_up_required');
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: victim.access_token })).status,
    ).toBe(200);
    const itself = await post('/api/auth/session/revoke', flagged.access_token, {
      session_id: flagged.session.id,
    });
    expect(itself.status).toBe(200);
  });
});

describe('device identity is the device secret, not the id', () => {
  it('a sign-in naming a trusted device’s id (from any access token) gets a new, untrusted device', async () => {
    const email = await newAccount();
    const owner = await signIn(email, { device: { id: 'laptop-trusted-01' } });
    const secret = owner.device.secret;
    expect(secret).toMatch(/^ds_[A-Za-z0-9_-]{43}$/);
    expect((await post('/api/auth/devices/laptop-trusted-01/trust', owner.access_token)).status).toBe(200);

    const copiedDid = String(decodeJwt(owner.access_token).did);
    for (const device of [{ id: copiedDid }, { id: copiedDid, secret: `ds_${'A'.repeat(43)}` }]) {
      const attacker = await signIn(email, { device }, '198.51.100.9');
      expect(attacker.device).toMatchObject({ trusted: false, new: true });
      expect(attacker.device.id).not.toBe(copiedDid);
      // A client that sent a secret keeps it (it is its own); one that sent none is issued one.
      if (device.secret === undefined) expect(attacker.device.secret).toMatch(/^ds_/);
      else expect(attacker.device.secret).toBeUndefined();
      const idle = Date.parse(attacker.session.idle_expires_at) - Date.parse(attacker.session.created_at);
      expect(idle).toBe(30 * 60_000);
      const logs = await request<{ logs: Array<{ action: string; detail: Record<string, unknown> | null }> }>(
        server.url,
        'GET',
        '/api/auth/session/logs?limit=5',
        { token: attacker.access_token },
      );
      expect(logs.body.logs.map((row) => row.action)).toContain('new_device_login');
      expect(logs.body.logs.find((row) => row.action === 'login')?.detail).toMatchObject({
        device_claim_refused: true,
      });
    }

    // The trusted device itself, with its secret, is recognised, keeps its trust and gets no new secret.
    const again = await signIn(email, { device: { id: 'laptop-trusted-01', secret } });
    expect(again.device).toEqual({ id: 'laptop-trusted-01', trusted: true, new: false });
    const device = await server.app.sessiond.store.findDevice(owner.session.user_id, 'laptop-trusted-01');
    expect(device?.lastIP).toBe('192.0.2.1');
  });

  it('a trusted device first seen before binding gets a secret at its next sign-in and loses its trust', async () => {
    const email = await newAccount();
    const owner = await signIn(email, { device: { id: 'legacy-device-01' } });
    await post('/api/auth/devices/legacy-device-01/trust', owner.access_token);
    // As a row written before migration 0007 looks: no secret.
    const { database } = server.app.sessiond;
    await database.transact((trx) =>
      trx.updateTable('devices').set({ secretHash: null }).where('id', '=', 'legacy-device-01').execute(),
    );
    const bound = await signIn(email, { device: { id: 'legacy-device-01' } });
    expect(bound.device).toMatchObject({ id: 'legacy-device-01', trusted: false, new: false });
    expect(bound.device.secret).toMatch(/^ds_/);
    // From now on the id alone is not that device.
    const copied = await signIn(email, { device: { id: 'legacy-device-01' } });
    expect(copied.device).toMatchObject({ new: true, trusted: false });
    expect(copied.device.id).not.toBe('legacy-device-01');
    const holder = await signIn(email, { device: { id: 'legacy-device-01', secret: bound.device.secret } });
    expect(holder.device).toEqual({ id: 'legacy-device-01', trusted: false, new: false });
  });

  it('counts trusted_device only beside another signal', async () => {
    const email = await newAccount();
    const owner = await signIn(email, { device: { id: 'desk-trusted-002' } });
    await post('/api/auth/devices/desk-trusted-002/trust', owner.access_token);
    const again = await signIn(email, { device: { id: 'desk-trusted-002', secret: owner.device.secret } });
    const logs = await request<{
      logs: Array<{ action: string; detail: { risk?: { signals: unknown[] } } }>;
    }>(server.url, 'GET', '/api/auth/session/logs?limit=1', { token: again.access_token });
    expect(logs.body.logs[0]).toMatchObject({ action: 'login', detail: { risk: { signals: [] } } });
  });
});

describe('a password spray from many IPs does not lock the real user out', () => {
  const spray = async (email: string, ips: number, attemptsEach: number) => {
    for (let ip = 0; ip < ips; ip += 1) {
      for (let i = 0; i < attemptsEach; i += 1) {
        await createSession({ email, password: 'not the password at all' }, `203.0.113.${ip + 10}`);
      }
    }
  };

  it('throttles each attacking IP on the account and lets the user in from their own', async () => {
    server.clock.advance(16 * 60_000);
    const email = await newAccount();
    await spray(email, 6, 6); // 36 failures: every attacker pair is throttled, the ceiling (40) not reached
    const attacker = await createSession({ email, password: PASSWORD }, '203.0.113.10');
    expect(attacker.status).toBe(429);
    expect(attacker.body.error).toBe('rate_limited');
    expect((await createSession({ email, password: PASSWORD }, '192.0.2.77')).status).toBe(200);
  });

  it('past the account ceiling, admits a trusted device or password + TOTP, and nobody else', async () => {
    server.clock.advance(16 * 60_000);
    const email = await newAccount();
    const home = await signIn(email, { device: { id: 'home-device-0001' } });
    await post('/api/auth/devices/home-device-0001/trust', home.access_token);
    const code = await enrolTOTP(await stepUp(home.access_token, { password: PASSWORD }));

    await spray(email, 9, 5); // 45 failures: past the ceiling of 40
    const plain = await createSession({ email, password: PASSWORD }, '192.0.2.78');
    expect(plain.status).toBe(429);
    // The refusal comes before the password is checked: a wrong one gets the same answer.
    const wrong = await createSession({ email, password: 'not the password at all' }, '192.0.2.78');
    expect(wrong.body).toEqual(plain.body);
    // A copied device id is not the trusted device.
    expect(
      (await createSession({ email, password: PASSWORD, device: { id: 'home-device-0001' } }, '192.0.2.78'))
        .status,
    ).toBe(429);

    const trusted = await createSession(
      { email, password: PASSWORD, device: { id: 'home-device-0001', secret: home.device.secret } },
      '192.0.2.78',
    );
    expect(trusted.status).toBe(200);

    const guessed = await createSession(
      { email, password: 'not the password at all', totp: code() },
      '192.0.2.79',
    );
    expect(guessed.status).toBe(401);
    server.clock.advance(30_000);
    const twoFactors = await createSession({ email, password: PASSWORD, totp: code() }, '192.0.2.79');
    expect(twoFactors.status, JSON.stringify(twoFactors.body)).toBe(200);
    expect(decodeJwt(twoFactors.body.access_token)).toMatchObject({ acr: 'aal2' });
  });
});
