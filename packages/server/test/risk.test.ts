import type { TokenResponse } from '@sessiond/protocol';
import { decodeJwt } from 'jose';
import { TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from './helpers/api.js';
import { letPasswordCountAgain } from './helpers/step-up.js';
import { openSync } from './helpers/sync-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const CHROME_UPDATED = CHROME.replace('131.0.0.0', '132.0.0.0');
const CURL = 'curl/8.5.0';

let server: TestServer;
beforeAll(async () => {
  // Behind a proxy, so tests can sign in "from" other networks with X-Forwarded-For.
  server = await startTestServer({ env: { SESSIOND_TRUST_PROXY: 'true', SESSIOND_RISK_MAX_SESSIONS: '4' } });
});
afterAll(async () => {
  await server.close();
});

type Grant = TokenResponse & { email: string };
const from = (ip: string, userAgent = CHROME) => ({ 'x-forwarded-for': ip, 'user-agent': userAgent });

async function newAccount(): Promise<string> {
  const email = uniqueEmail();
  const answer = await request(server.url, 'POST', '/api/auth/signup', {
    body: { email, password: PASSWORD },
  });
  expect(answer.status).toBe(201);
  return email;
}

/** Device secrets, kept as a real client keeps them: a device is its id and its secret. */
const deviceSecrets = new Map<string, string>();

async function signIn(email: string, headers: Record<string, string>, device?: string): Promise<Grant> {
  const secret = device && deviceSecrets.get(`${email} ${device}`);
  const answer = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
    body: {
      email,
      password: PASSWORD,
      ...(device ? { device: { id: device, ...(secret ? { secret } : {}) } } : {}),
    },
    headers,
  });
  expect(answer.status).toBe(200);
  if (answer.body.device.secret)
    deviceSecrets.set(`${email} ${answer.body.device.id}`, answer.body.device.secret);
  return { ...answer.body, email };
}

const status = (grant: Grant) =>
  request<{ session: { step_up_required: boolean } }>(server.url, 'GET', '/api/auth/session/status', {
    token: grant.access_token,
  });
const flagged = async (grant: Grant) => (await status(grant)).body.session.step_up_required;

/** The verdict the audit log holds for the sign-in or refresh that just happened. */
async function lastVerdict(grant: Grant, action: string) {
  const logs = await request<{
    logs: Array<{ action: string; detail: { risk?: { signals: Array<{ signal: string }> } } }>;
  }>(server.url, 'GET', '/api/auth/session/logs?limit=50', { token: grant.access_token });
  const row = logs.body.logs.find((l) => l.action === action);
  return row?.detail.risk?.signals.map((s) => s.signal) ?? [];
}

describe('risk: each signal drives the verdict it should', () => {
  it('lets an honest sign-in on a new device through, and says which signal fired', async () => {
    const email = await newAccount();
    const grant = await signIn(email, from('203.0.113.7'));
    expect(await flagged(grant)).toBe(false);
    expect(await lastVerdict(grant, 'login')).toEqual(['new_device']);
  });

  it('demands step-up after failed logins on a new device; low-risk calls and state keep working', async () => {
    const email = await newAccount();
    for (let i = 0; i < 5; i += 1) {
      await request(server.url, 'POST', '/api/auth/session/create', {
        body: { email, password: 'not the password at all' },
        headers: from('198.51.100.9'),
      });
    }
    const grant = await signIn(email, from('203.0.113.8'));
    expect(await flagged(grant)).toBe(true);
    // The failures came from another network: the IP signal stays quiet.
    expect(await lastVerdict(grant, 'login')).toEqual(['new_device', 'failed_logins_account']);
    const sensitive = await request(server.url, 'POST', '/api/auth/session/revoke-all', {
      token: grant.access_token,
      body: {},
    });
    expect(sensitive.status).toBe(401);
    expect(sensitive.body).toMatchObject({ error: 'step_up_required' });
    expect(sensitive.headers.get('www-authenticate')).toContain('error="insufficient_user_authentication"');
    const op = await request(server.url, 'POST', '/api/state/cart/ops', {
      token: grant.access_token,
      body: { client_op_id: 'keep', op: 'increment', path: ['items', 'a', 'qty'], value: 1 },
    });
    expect(op.status).toBe(200);
    // The password just typed proves nothing new (decision 024): refused, saying what would do.
    const atOnce = await request(server.url, 'POST', '/api/auth/session/step-up', {
      token: grant.access_token,
      body: { password: PASSWORD },
    });
    expect(atOnce.status).toBe(401);
    expect(atOnce.body).toMatchObject({ error: 'factor_not_accepted', factors: [] });
    // This user has no second factor and there is no mail: once the sign-in is old enough, the
    // password clears it, with a fresh auth_time (and no second factor, so acr stays aal1).
    letPasswordCountAgain(server);
    const stepped = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/step-up', {
      token: grant.access_token,
      body: { password: PASSWORD },
    });
    expect(stepped.status).toBe(200);
    expect(decodeJwt(stepped.body.access_token)).toMatchObject({
      acr: 'aal1',
      auth_time: Math.floor(server.clock.now() / 1000),
    });
    expect(await flagged({ ...grant, access_token: stepped.body.access_token })).toBe(false);
  });

  it('flags a session whose refresh token moves to another browser, and tells the user’s other devices', async () => {
    const email = await newAccount();
    const laptop = await signIn(email, from('203.0.113.10'));
    const phone = await signIn(email, from('203.0.113.10'));
    const socket = await openSync(server.url, { token: phone.access_token });
    await socket.next('ready');
    const stolen = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/refresh', {
      body: { refresh_token: laptop.refresh_token },
      headers: from('203.0.113.10', CURL),
    });
    expect(stolen.status).toBe(200);
    expect(await socket.next('event', (e) => e.event === 'session.step_up_required')).toMatchObject({
      session_id: laptop.session.id,
      detail: { reason: 'risk' },
    });
    expect(await flagged({ ...laptop, access_token: stolen.body.access_token })).toBe(true);
    socket.close();
  });

  it('does not flag a browser update or a network change alone, but logs the verdict; both together flag', async () => {
    const email = await newAccount();
    const grant = await signIn(email, from('203.0.113.20'));
    const updated = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/refresh', {
      body: { refresh_token: grant.refresh_token },
      headers: from('203.0.113.21', CHROME_UPDATED),
    });
    const afterUpdate = { ...grant, ...updated.body };
    expect(await flagged(afterUpdate)).toBe(false);
    const moved = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/refresh', {
      body: { refresh_token: updated.body.refresh_token },
      headers: from('192.0.2.50', CHROME_UPDATED),
    });
    const afterMove = { ...grant, ...moved.body };
    expect(await flagged(afterMove)).toBe(false);
    expect(await lastVerdict(afterMove, 'risk_assessed')).toEqual(['ip_network_changed']);
    const both = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/refresh', {
      body: { refresh_token: moved.body.refresh_token },
      headers: from('2001:db8:1::5', CURL),
    });
    expect(await flagged({ ...grant, ...both.body })).toBe(true);
  });

  it('counts failed logins from one IP across accounts; a trusted device outweighs them', async () => {
    const email = await newAccount();
    const first = await signIn(email, from('198.51.100.77'));
    const trust = await request(server.url, 'POST', `/api/auth/devices/${first.device.id}/trust`, {
      token: first.access_token,
      body: { trusted: true },
    });
    expect(trust.status).toBe(200);
    for (let i = 0; i < 5; i += 1) {
      await request(server.url, 'POST', '/api/auth/session/create', {
        body: { email: uniqueEmail(), password: 'not the password at all' },
        headers: from('198.51.100.77'),
      });
    }
    const fresh = await signIn(await newAccount(), from('198.51.100.77'));
    expect(await lastVerdict(fresh, 'login')).toEqual(['new_device', 'failed_logins_ip']);
    expect(await flagged(fresh)).toBe(true);
    const trusted = await signIn(email, from('198.51.100.77'), first.device.id);
    expect(await lastVerdict(trusted, 'login')).toEqual(['failed_logins_ip', 'trusted_device']);
    expect(await flagged(trusted)).toBe(false);
  });

  it('never flags honest concurrent refreshes of one token', async () => {
    const email = await newAccount();
    const grant = await signIn(email, from('203.0.113.30'));
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        request<TokenResponse>(server.url, 'POST', '/api/auth/session/refresh', {
          body: { refresh_token: grant.refresh_token },
          headers: from('203.0.113.30'),
        }),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(await flagged({ ...grant, ...answers[0]!.body })).toBe(false);
  });

  it('flags sign-in velocity across networks, too many sessions, and a recent refresh-token reuse', async () => {
    const fast = await newAccount();
    const device = (await signIn(fast, from('203.0.113.40'))).device.id;
    await signIn(fast, from('198.51.100.40'), device);
    const third = await signIn(fast, from('192.0.2.40'), device);
    expect(await lastVerdict(third, 'login')).toEqual(['signin_velocity']);

    const many = await newAccount();
    const known = (await signIn(many, from('203.0.113.41'))).device.id;
    for (let i = 0; i < 3; i += 1) await signIn(many, from('203.0.113.41'), known);
    const fifth = await signIn(many, from('203.0.113.41'));
    expect(await lastVerdict(fifth, 'login')).toEqual(['new_device', 'concurrent_sessions']);
    expect(await flagged(fifth)).toBe(true);

    const reused = await newAccount();
    const victim = await signIn(reused, from('203.0.113.42'));
    const rotated = await request(server.url, 'POST', '/api/auth/session/refresh', {
      body: { refresh_token: victim.refresh_token },
      headers: from('203.0.113.42'),
    });
    expect(rotated.status).toBe(200);
    server.clock.advance(60_000);
    const replay = await request(server.url, 'POST', '/api/auth/session/refresh', {
      body: { refresh_token: victim.refresh_token },
      headers: from('203.0.113.42'),
    });
    expect(replay.body).toMatchObject({ error: 'refresh_token_reused' });
    const next = await signIn(reused, from('203.0.113.42'), victim.device.id);
    expect(await lastVerdict(next, 'login')).toEqual(['refresh_token_reused']);
    expect(await flagged(next)).toBe(true);
  });
});

describe('risk: weights are configuration', () => {
  it('flags a new device alone when its weight reaches the threshold; a trusted device lowers the score', async () => {
    const strict = await startTestServer({
      env: { SESSIOND_RISK_WEIGHTS: 'new_device=60,trusted_device=-100' },
    });
    try {
      const email = uniqueEmail();
      await request(strict.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
      const sign = (device?: string) =>
        request<TokenResponse>(strict.url, 'POST', '/api/auth/session/create', {
          body: { email, password: PASSWORD, ...(device ? { device: { id: device } } : {}) },
        });
      const first = (await sign()).body;
      const status = await request<{ session: { step_up_required: boolean } }>(
        strict.url,
        'GET',
        '/api/auth/session/status',
        {
          token: first.access_token,
        },
      );
      expect(status.body.session.step_up_required).toBe(true);
      await expect(startTestServer({ env: { SESSIOND_RISK_WEIGHTS: 'nope=1' } })).rejects.toThrow(
        /signal=points/,
      );
    } finally {
      await strict.close();
    }
  });
});

describe('TOTP: enrolment and step-up', () => {
  it('enrols with a confirmed code, steps up with a code once, refuses a replay and a wrong code', async () => {
    const email = await newAccount();
    const grant = await signIn(email, from('203.0.113.50'));
    const notYet = await request(server.url, 'POST', '/api/auth/session/step-up', {
      token: grant.access_token,
      body: { totp: '123456' },
    });
    expect(notYet.body).toMatchObject({ error: 'totp_not_enrolled' });
    // Enrolment needs a fresh re-authentication (decision 016): here, the password, which
    // counts once the sign-in is old enough (decision 024).
    letPasswordCountAgain(server);
    const reauthenticated = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/step-up', {
      token: grant.access_token,
      body: { password: PASSWORD },
    });
    const token = reauthenticated.body.access_token;
    const enrolled = await request<{ secret: string; otpauth_uri: string }>(
      server.url,
      'POST',
      '/api/auth/totp/enroll',
      { token },
    );
    expect(enrolled.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\//);
    const app = new TOTP({ secret: enrolled.body.secret, digits: 6, period: 30, algorithm: 'SHA1' });
    const code = () => app.generate({ timestamp: server.clock.now() });
    const wrong = code() === '000000' ? '111111' : '000000';
    expect(
      (await request(server.url, 'POST', '/api/auth/totp/confirm', { token, body: { code: wrong } })).body,
    ).toMatchObject({
      error: 'invalid_credentials',
    });
    expect(
      (await request(server.url, 'POST', '/api/auth/totp/confirm', { token, body: { code: code() } })).status,
    ).toBe(200);
    server.clock.advance(30_000);
    const stepUp = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/step-up', {
      token,
      body: { totp: code() },
    });
    expect(stepUp.status).toBe(200);
    expect(decodeJwt(stepUp.body.access_token)).toMatchObject({ acr: 'aal2' });
    const replay = await request(server.url, 'POST', '/api/auth/session/step-up', {
      token: stepUp.body.access_token,
      body: { totp: code() },
    });
    expect(replay.body).toMatchObject({ error: 'invalid_credentials' });
    // The TOTP secret is sealed at rest.
    const user = await server.app.sessiond.store.findUserById(grant.session.user_id);
    expect(user?.totpSecretSealed).toBeTruthy();
    expect(user?.totpSecretSealed).not.toContain(enrolled.body.secret);
  });
});
