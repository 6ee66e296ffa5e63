import type { TokenResponse } from '@sessiond/protocol';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from './helpers/api.js';
import { SoftAuthenticator } from './helpers/soft-authenticator.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * Risk verdicts at sign-in (decision 026): a suspicious password sign-in by a user with a second
 * factor gets no session until that factor passes. What makes these sign-ins suspicious is real
 * history: five failed logins of the account, then a sign-in from a new device.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { SESSIOND_TRUST_PROXY: 'true' } });
});
afterAll(async () => {
  await server.close();
});

type PendingAnswer = {
  error: string;
  factors: string[];
  pending_token: string;
  expires_in: number;
};

let network = 10;
/** Each test signs in from networks of its own, so no test's failures leak into another's IP signal. */
const nextIP = (): string => {
  network += 1;
  return `198.51.${network}.7`;
};

/** A user with TOTP enabled (through the factor's own service: the HTTP route needs a step-up first). */
async function userWithTOTP(): Promise<{ email: string; userId: string; code: () => string }> {
  const email = uniqueEmail();
  expect(
    (await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } })).status,
  ).toBe(201);
  const { store, totp } = server.app.sessiond;
  const user = await store.findUserByEmail(email);
  if (!user) throw new Error('no user');
  const { secret } = await totp.enroll(user);
  const generator = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 });
  // Each code is for a step of its own: a code is good once (TOTPFactor).
  const code = () => {
    server.clock.advance(30_000);
    return generator.generate({ timestamp: server.clock.now() });
  };
  await totp.confirm((await store.findUserByEmail(email))!, code(), {
    action: 'totp_enrolled',
    success: true,
    userId: user.id,
    ip: null,
    userAgent: null,
    createdAt: server.clock.now(),
  });
  return { email, userId: user.id, code };
}

async function failLogins(email: string, times = 5): Promise<void> {
  const ip = nextIP();
  for (let i = 0; i < times; i += 1) {
    const failed = await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: 'not the password at all' },
      headers: { 'x-forwarded-for': ip },
    });
    expect(failed.status).toBe(401);
  }
}

function suspiciousSignIn(email: string, extra: Record<string, unknown> = {}) {
  return request<PendingAnswer & TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
    body: { email, password: PASSWORD, ...extra },
    headers: { 'x-forwarded-for': nextIP() },
  });
}

function verify(body: Record<string, unknown>) {
  return request<TokenResponse & { error?: string; factors?: string[] }>(
    server.url,
    'POST',
    '/api/auth/session/verify',
    { body, headers: { 'x-forwarded-for': nextIP() } },
  );
}

/** Whether the session of this access token is flagged for step-up. */
async function isFlagged(accessToken: string): Promise<boolean> {
  const status = await request<{ session: { step_up_required: boolean } }>(
    server.url,
    'GET',
    '/api/auth/session/status',
    { token: accessToken },
  );
  return status.body.session.step_up_required;
}

async function metric(name: string): Promise<string[]> {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  return text.split('\n').filter((line) => line.startsWith(name));
}

describe('a suspicious password sign-in of a user with a second factor', () => {
  it('gets no session and no device until the second factor passes, then one at aal2', async () => {
    const { email, userId, code } = await userWithTOTP();
    await failLogins(email);
    const pending = await suspiciousSignIn(email, { device: { name: 'Laptop' } });
    expect(pending.status).toBe(401);
    expect(pending.body).toMatchObject({
      error: 'second_factor_required',
      factors: ['totp'],
      expires_in: 300,
    });
    expect(pending.body.pending_token).toMatch(/^ps_/);
    expect(pending.body).not.toHaveProperty('access_token');
    const { store } = server.app.sessiond;
    expect(await store.listLiveSessions(userId, server.clock.now())).toEqual([]);
    expect(await store.listDevices(userId)).toEqual([]);

    const done = await verify({
      pending_token: pending.body.pending_token,
      totp: code(),
      device: { name: 'Laptop' },
    });
    expect(done.status).toBe(200);
    expect(decodeJwt(done.body.access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    // The factor that passed is the step-up the verdict asked for: the session is not flagged.
    expect(await isFlagged(done.body.access_token)).toBe(false);
    expect((await store.listDevices(userId)).map((device) => device.name)).toEqual(['Laptop']);

    const logs = await request<{ logs: Array<{ action: string; detail: Record<string, unknown> }> }>(
      server.url,
      'GET',
      '/api/auth/session/logs?limit=50',
      { token: done.body.access_token },
    );
    const actions = logs.body.logs.map((row) => row.action);
    expect(actions).toEqual(expect.arrayContaining(['second_factor_required', 'login']));
    expect(actions).not.toContain('step_up_required');
    expect(logs.body.logs.find((row) => row.action === 'login')?.detail).toMatchObject({
      second_factor: 'totp',
    });

    // The pending sign-in is used up.
    const again = await verify({ pending_token: pending.body.pending_token, totp: code() });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('ceremony_invalid');
  });

  it('counts wrong factors and forgets the pending sign-in after five', async () => {
    const { email, code } = await userWithTOTP();
    await failLogins(email);
    const pending = await suspiciousSignIn(email);
    const token = pending.body.pending_token;
    for (let i = 0; i < 4; i += 1) {
      const wrong = await verify({ pending_token: token, totp: '000000' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_credentials');
    }
    expect((await verify({ pending_token: token, totp: '000000' })).status).toBe(401);
    const late = await verify({ pending_token: token, totp: code() });
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('ceremony_invalid');
  });

  it('accepts only the factors it named', async () => {
    const { email } = await userWithTOTP();
    await failLogins(email);
    const pending = await suspiciousSignIn(email);
    const other = await verify({ pending_token: pending.body.pending_token, email_code: '123456' });
    expect(other.status).toBe(401);
    expect(other.body).toMatchObject({ error: 'factor_not_accepted', factors: ['totp'] });
    const noPasskey = await request(server.url, 'POST', '/api/auth/session/verify/passkey-options', {
      body: { pending_token: pending.body.pending_token },
    });
    expect(noPasskey.status).toBe(409);
    expect(noPasskey.body.error).toBe('factor_unavailable');
  });

  it('refuses made-up, malformed and expired pending tokens', async () => {
    const madeUp = await verify({ pending_token: `ps_${'A'.repeat(43)}`, totp: '123456' });
    expect(madeUp.body.error).toBe('ceremony_invalid');
    const malformed = await verify({ pending_token: 'nope', totp: '123456' });
    expect(malformed.body.error).toBe('ceremony_invalid');
    const { email, code } = await userWithTOTP();
    await failLogins(email);
    const pending = await suspiciousSignIn(email);
    server.clock.advance(5 * 60_000 + 1);
    const expired = await verify({ pending_token: pending.body.pending_token, totp: code() });
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe('ceremony_invalid');
  });

  it('is not held back when the TOTP code came with the password', async () => {
    const { email, code } = await userWithTOTP();
    await failLogins(email);
    const signedIn = await suspiciousSignIn(email, { totp: code() });
    expect(signedIn.status).toBe(200);
    expect(decodeJwt(signedIn.body.access_token)).toMatchObject({ acr: 'aal2' });
    expect(await isFlagged(signedIn.body.access_token)).toBe(false);
  });
});

describe('a suspicious passkey sign-in', () => {
  it('opens unflagged: the passkey (user verification required) is already the second factor', async () => {
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    const first = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD },
      headers: { 'x-forwarded-for': nextIP() },
    });
    // Old enough for the password alone to step up, then registered (decision 024, 016).
    server.clock.advance(301_000);
    const stepped = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/step-up', {
      token: first.body.access_token,
      body: { password: PASSWORD },
    });
    expect(stepped.status).toBe(200);
    const authenticator = new SoftAuthenticator({ origin: 'http://sessiond.test' });
    const options = await request<{ ceremony_id: string; options: PublicKeyCredentialCreationOptionsJSON }>(
      server.url,
      'POST',
      '/api/auth/passkeys/register/options',
      { token: stepped.body.access_token, body: {} },
    );
    const registered = await request(server.url, 'POST', '/api/auth/passkeys/register', {
      token: stepped.body.access_token,
      body: { ceremony_id: options.body.ceremony_id, response: authenticator.register(options.body.options) },
    });
    expect(registered.status).toBe(201);

    await failLogins(email);
    const started = await request<{ ceremony_id: string; options: PublicKeyCredentialRequestOptionsJSON }>(
      server.url,
      'POST',
      '/api/auth/passkeys/sign-in/options',
      { body: {} },
    );
    const signedIn = await request<TokenResponse>(server.url, 'POST', '/api/auth/passkeys/sign-in', {
      body: { ceremony_id: started.body.ceremony_id, response: authenticator.assert(started.body.options) },
      headers: { 'x-forwarded-for': nextIP() },
    });
    expect(signedIn.status).toBe(200);
    expect(await isFlagged(signedIn.body.access_token)).toBe(false);
    const logs = await request<{
      logs: Array<{ action: string; detail: { risk?: { suspicious: boolean } } }>;
    }>(server.url, 'GET', '/api/auth/session/logs?limit=50', { token: signedIn.body.access_token });
    // The verdict was suspicious (new device, failed logins): the passkey answered it.
    expect(logs.body.logs.find((row) => row.action === 'login')?.detail.risk?.suspicious).toBe(true);
  });
});

describe('a suspicious sign-in of a user with no second factor and no mail delivery', () => {
  it('still signs in, flagged for step-up, as before', async () => {
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    await failLogins(email);
    const signedIn = await suspiciousSignIn(email);
    expect(signedIn.status).toBe(200);
    expect(await isFlagged(signedIn.body.access_token)).toBe(true);
  });
});

describe('verdict metrics', () => {
  it('counts each verdict', async () => {
    const before = await metric('sessiond_sign_in_risk_verdicts_total');
    expect(before).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/verdict="allowed"/),
        expect.stringMatching(/verdict="step_up_required"/),
        expect.stringMatching(/verdict="second_factor_required"/),
        expect.stringMatching(/verdict="second_factor_passed"/),
      ]),
    );
    const count = async (verdict: string) =>
      Number(
        (await metric('sessiond_sign_in_risk_verdicts_total'))
          .find((line) => line.includes(`verdict="${verdict}"`))
          ?.split(' ')
          .at(-1),
      );
    const required = await count('second_factor_required');
    const passed = await count('second_factor_passed');
    const { email, code } = await userWithTOTP();
    await failLogins(email);
    const pending = await suspiciousSignIn(email);
    expect(await count('second_factor_required')).toBe(required + 1);
    expect((await verify({ pending_token: pending.body.pending_token, totp: code() })).status).toBe(200);
    expect(await count('second_factor_passed')).toBe(passed + 1);
  });
});
