import { PassThrough } from 'node:stream';
import type { TokenResponse } from '@sessiond/protocol';
import { decodeJwt } from 'jose';
import { TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, signIn, signUpAndIn } from './helpers/api.js';
import { SMTP_PASSWORD, type SMTPSink, startSMTPSink } from './helpers/smtp-sink.js';
import { demandStepUp } from './helpers/step-up.js';
import { freePort, startTestServer, type TestServer } from './helpers/test-server.js';

const MIN_AGE_S = 300;

let sink: SMTPSink;
let server: TestServer;
const logLines: string[] = [];
beforeAll(async () => {
  sink = await startSMTPSink();
  const logs = new PassThrough();
  logs.on('data', (chunk: Buffer) => logLines.push(chunk.toString('utf8')));
  server = await startTestServer({
    env: {
      SESSIOND_SMTP_URL: sink.url,
      SESSIOND_MAIL_FROM: 'Shop <security@shop.test>',
      SESSIOND_LOG_LEVEL: 'debug',
      SESSIOND_STEP_UP_PASSWORD_MIN_AGE_SECONDS: String(MIN_AGE_S),
    },
    logDestination: logs,
  });
});
afterAll(async () => {
  await server.close();
  await sink.close();
});

type Grant = TokenResponse & { email: string };
type ErrorBody = { error: string; message: string; factors?: string[]; password_accepted_in?: number };

const post = <T = Record<string, unknown>>(path: string, token: string, body: Record<string, unknown> = {}) =>
  request<T>(server.url, 'POST', path, { token, body });
const sendCode = (token: string) =>
  post<{ sent: boolean; expires_in: number; sent_to: string } & Partial<ErrorBody>>(
    '/api/auth/session/step-up/email-code',
    token,
  );
const stepUp = (token: string, body: Record<string, unknown>) =>
  post<TokenResponse & Partial<ErrorBody>>('/api/auth/session/step-up', token, body);
const otherThan = (code: string): string => (code === '000000' ? '111111' : '000000');

/** A session and the next code mailed for its step-up. */
async function codeFor(grant: Grant): Promise<string> {
  const sent = await sendCode(grant.access_token);
  expect(sent.status).toBe(200);
  return sink.nextCode(grant.email);
}

describe('email one-time codes', () => {
  it('mails a code that steps up once: acr kept, otp in amr, the factor in the audit log', async () => {
    const grant = await signUpAndIn(server.url);
    const sent = await sendCode(grant.access_token);
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({
      sent: true,
      expires_in: 600,
      sent_to: `${grant.email.slice(0, 1)}***@example.com`,
    });
    const mail = await sink.nextMail(grant.email);
    expect(mail.from).toBe('security@shop.test');
    // The credentials of SESSIOND_SMTP_URL were used to log in to the SMTP server.
    expect(mail.authUser).toBe('sessiond');
    expect(mail.text).toMatch(/step-up/);
    expect(mail.text).toMatch(/10 minutes/);
    const code = /\b(\d{6})\b/.exec(mail.text)?.[1] as string;

    const stepped = await stepUp(grant.access_token, { email_code: code });
    expect(stepped.status).toBe(200);
    const claims = decodeJwt(stepped.body.access_token);
    // An email code re-authenticates but is no AAL2 authenticator (NIST SP 800-63B §5.1.3.1).
    expect(claims.acr).toBe('aal1');
    const session = await server.app.sessiond.store.findSession(grant.session.id);
    expect(session).toMatchObject({ reauthFactor: 'email_code', acr: 'aal1' });
    expect(session?.amr).toEqual(['pwd', 'otp']);

    const again = await stepUp(stepped.body.access_token, { email_code: code });
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_credentials');

    const logs = await request<{ logs: { action: string; success: boolean; error: string | null }[] }>(
      server.url,
      'GET',
      '/api/auth/session/logs',
      { token: stepped.body.access_token },
    );
    const stepUps = logs.body.logs.filter((log) => log.action === 'step_up');
    expect(stepUps.map((log) => [log.success, log.error])).toEqual([
      [false, 'invalid_credentials'],
      [true, null],
    ]);
  });

  it('counts wrong codes: four leave the code working, the fifth kills it', async () => {
    const survivor = await signUpAndIn(server.url);
    const code = await codeFor(survivor);
    for (let i = 0; i < 4; i += 1) {
      expect((await stepUp(survivor.access_token, { email_code: otherThan(code) })).body.error).toBe(
        'invalid_credentials',
      );
    }
    expect((await stepUp(survivor.access_token, { email_code: code })).status).toBe(200);

    const victim = await signUpAndIn(server.url);
    const killed = await codeFor(victim);
    for (let i = 0; i < 5; i += 1) await stepUp(victim.access_token, { email_code: otherThan(killed) });
    const late = await stepUp(victim.access_token, { email_code: killed });
    expect(late.status).toBe(401);
    expect(late.body.error).toBe('invalid_credentials');
  });

  it("refuses the code of another session, even the same user's", async () => {
    const first = await signUpAndIn(server.url);
    const second = { ...(await signIn(server.url, first.email)), email: first.email };
    const code = await codeFor(first);
    const stolen = await stepUp(second.access_token, { email_code: code });
    expect(stolen.status).toBe(401);
    expect(stolen.body.error).toBe('invalid_credentials');
    expect((await stepUp(first.access_token, { email_code: code })).status).toBe(200);
  });

  it('refuses an expired code', async () => {
    const grant = await signUpAndIn(server.url);
    const code = await codeFor(grant);
    server.clock.advance(10 * 60_000);
    const expired = await stepUp(grant.access_token, { email_code: code });
    expect(expired.status).toBe(401);
    expect(expired.body.error).toBe('invalid_credentials');
  });

  it('replaces the previous code with a new send', async () => {
    const grant = await signUpAndIn(server.url);
    const first = await codeFor(grant);
    server.clock.advance(30_000);
    const second = await codeFor(grant);
    if (first !== second) {
      expect((await stepUp(grant.access_token, { email_code: first })).status).toBe(401);
    }
    expect((await stepUp(grant.access_token, { email_code: second })).status).toBe(200);
  });

  it('limits sends per user: one per 30 s, five per hour, with Retry-After', async () => {
    const grant = await signUpAndIn(server.url);
    await codeFor(grant);
    const tooSoon = await sendCode(grant.access_token);
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.body.error).toBe('rate_limited');
    expect(Number(tooSoon.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(tooSoon.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    for (let i = 0; i < 4; i += 1) {
      server.clock.advance(30_000);
      await codeFor(grant);
    }
    server.clock.advance(30_000);
    const hourly = await sendCode(grant.access_token);
    expect(hourly.status).toBe(429);
    expect(Number(hourly.headers.get('retry-after'))).toBeGreaterThan(30);
    // Refused sends mailed nothing.
    expect(sink.pending().filter((mail) => mail.to.includes(grant.email))).toEqual([]);
  });

  it('never writes a code or the SMTP password to the log', async () => {
    const grant = await signUpAndIn(server.url);
    const code = await codeFor(grant);
    await stepUp(grant.access_token, { email_code: code });
    const log = logLines.join('');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(SMTP_PASSWORD);
    expect(log).not.toMatch(new RegExp(`\\b${code}\\b`));
  });
});

describe('step-up policy (decision 024)', () => {
  it('refuses the password on a fresh session, naming the factors that count, and accepts it on an old one', async () => {
    const grant = await signUpAndIn(server.url);
    const fresh = await stepUp(grant.access_token, { password: PASSWORD });
    expect(fresh.status).toBe(401);
    expect(fresh.body).toMatchObject({ error: 'factor_not_accepted', factors: ['email_code'] });
    const listed = await request<{ factors: string[] }>(server.url, 'GET', '/api/auth/session/step-up', {
      token: grant.access_token,
    });
    expect(listed.body).toEqual({ factors: ['email_code'] });

    server.clock.advance(MIN_AGE_S * 1000);
    const old = await stepUp(grant.access_token, { password: PASSWORD });
    expect(old.status).toBe(200);
    expect(decodeJwt(old.body.access_token)).toMatchObject({ acr: 'aal1' });
    // The step-up made auth_time fresh: the password alone does not count again at once.
    const right = await stepUp(old.body.access_token, { password: PASSWORD });
    expect(right.body.error).toBe('factor_not_accepted');
  });

  it('steps up to aal2 with TOTP', async () => {
    const grant = await signUpAndIn(server.url);
    // Enrolling needs a recent re-authentication (decision 016), and the refusal names what does.
    const notYet = await post<ErrorBody>('/api/auth/totp/enroll', grant.access_token);
    expect(notYet.body).toMatchObject({ error: 'reauthentication_required', factors: ['email_code'] });
    const reauthenticated = await stepUp(grant.access_token, { email_code: await codeFor(grant) });
    const token = reauthenticated.body.access_token;
    const enrolled = await post<{ secret: string }>('/api/auth/totp/enroll', token);
    const totp = new TOTP({ secret: enrolled.body.secret, digits: 6, period: 30, algorithm: 'SHA1' });
    const code = (): string => totp.generate({ timestamp: server.clock.now() });
    expect((await post('/api/auth/totp/confirm', token, { code: code() })).status).toBe(200);
    server.clock.advance(30_000);
    const listed = await request<{ factors: string[] }>(server.url, 'GET', '/api/auth/session/step-up', {
      token,
    });
    expect(listed.body.factors).toEqual(['totp', 'email_code']);

    const stepped = await stepUp(token, { totp: code() });
    expect(stepped.status).toBe(200);
    expect(decodeJwt(stepped.body.access_token)).toMatchObject({ acr: 'aal2' });
    const session = await server.app.sessiond.store.findSession(grant.session.id);
    expect(session).toMatchObject({ acr: 'aal2', reauthFactor: 'totp' });
    expect(session?.amr).toEqual(['pwd', 'otp', 'mfa']);

    // With TOTP enabled only a strong factor changes factors: the refusal names TOTP alone.
    const other = { ...(await signIn(server.url, grant.email)), email: grant.email };
    const emailed = await stepUp(other.access_token, { email_code: await codeFor(other) });
    const weak = await post<ErrorBody>('/api/auth/totp/enroll', emailed.body.access_token);
    expect(weak.body).toMatchObject({ error: 'reauthentication_required', factors: ['totp'] });
  });

  it('leaves the cart and other state untouched', async () => {
    const grant = await signUpAndIn(server.url);
    const op = await post('/api/state/cart/ops', grant.access_token, {
      client_op_id: 'add-1',
      op: 'increment',
      path: ['items', 'sku-1', 'qty'],
      value: 2,
    });
    expect(op.status).toBe(200);
    await demandStepUp(server, grant.session.id);
    const stepped = await stepUp(grant.access_token, { email_code: await codeFor(grant) });
    expect(stepped.status).toBe(200);
    const cart = await request(server.url, 'GET', '/api/state/cart', { token: stepped.body.access_token });
    expect(cart.body).toEqual({ namespace: 'cart', seq: 1, document: { items: { 'sku-1': { qty: 2 } } } });
  });

  it('answers step_up_required with acr_values and the factors that clear it', async () => {
    const grant = await signUpAndIn(server.url);
    await demandStepUp(server, grant.session.id);
    const refused = await post<ErrorBody>('/api/auth/session/revoke-all', grant.access_token);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'step_up_required', factors: ['email_code'] });
    // An email code keeps aal1: that is the level the acceptable step-up leads to.
    expect(refused.headers.get('www-authenticate')).toMatch(/error="insufficient_user_authentication"/);
    expect(refused.headers.get('www-authenticate')).toMatch(/acr_values="aal1"/);
    // The flag clears with an accepted factor, and the operation goes through.
    const stepped = await stepUp(grant.access_token, { email_code: await codeFor(grant) });
    expect(
      (await post('/api/auth/session/revoke-all', stepped.body.access_token, { keep_current: true })).status,
    ).toBe(200);
  });
});

describe('without mail delivery', () => {
  let bare: TestServer;
  beforeAll(async () => {
    bare = await startTestServer();
  });
  afterAll(async () => {
    await bare.close();
  });

  it('has no email codes, and a password-only user waits for the password to count', async () => {
    const grant = await signUpAndIn(bare.url);
    const send = await request<ErrorBody>(bare.url, 'POST', '/api/auth/session/step-up/email-code', {
      token: grant.access_token,
      body: {},
    });
    expect(send.status).toBe(409);
    expect(send.body.error).toBe('factor_unavailable');
    const fresh = await request<ErrorBody>(bare.url, 'POST', '/api/auth/session/step-up', {
      token: grant.access_token,
      body: { password: PASSWORD },
    });
    expect(fresh.status).toBe(401);
    expect(fresh.body).toMatchObject({
      error: 'factor_not_accepted',
      factors: [],
      password_accepted_in: 300,
    });
    await demandStepUp(bare, grant.session.id);
    const flagged = await request<ErrorBody>(bare.url, 'POST', '/api/auth/session/revoke-all', {
      token: grant.access_token,
      body: {},
    });
    expect(flagged.body).toMatchObject({ error: 'step_up_required', factors: [] });

    bare.clock.advance(300_000);
    const later = await request<TokenResponse>(bare.url, 'POST', '/api/auth/session/step-up', {
      token: grant.access_token,
      body: { password: PASSWORD },
    });
    expect(later.status).toBe(200);
  });
});

describe('email codes for a pending sign-in (decision 026)', () => {
  let guarded: TestServer;
  beforeAll(async () => {
    // Behind a proxy, so the failed sign-ins come from another network than the real one.
    guarded = await startTestServer({ env: { SESSIOND_SMTP_URL: sink.url, SESSIOND_TRUST_PROXY: 'true' } });
  });
  afterAll(async () => {
    await guarded.close();
  });

  it("mails the code to finish signing in, bound to that sign-in: a step-up's code is not it, nor the other way", async () => {
    const signedIn = await signUpAndIn(guarded.url);
    const email = signedIn.email;
    await request(guarded.url, 'POST', '/api/auth/session/step-up/email-code', {
      token: signedIn.access_token,
      body: {},
    });
    const stepUpCode = await sink.nextCode(email);
    for (let i = 0; i < 5; i += 1) {
      await request(guarded.url, 'POST', '/api/auth/session/create', {
        body: { email, password: 'not the password at all' },
        headers: { 'x-forwarded-for': '198.51.100.77' },
      });
    }
    guarded.clock.advance(30_000);
    const pending = await request<ErrorBody & { pending_token: string }>(
      guarded.url,
      'POST',
      '/api/auth/session/create',
      { body: { email, password: PASSWORD }, headers: { 'x-forwarded-for': '203.0.113.77' } },
    );
    expect(pending.status).toBe(401);
    expect(pending.body).toMatchObject({ error: 'second_factor_required', factors: ['email_code'] });
    const mail = await sink.nextMail(email);
    expect(mail.text).toMatch(/finish signing in/);
    const signInCode = /\b(\d{6})\b/.exec(mail.text)?.[1] as string;

    const verify = (code: string) =>
      request<TokenResponse & Partial<ErrorBody>>(guarded.url, 'POST', '/api/auth/session/verify', {
        body: { pending_token: pending.body.pending_token, email_code: code },
        headers: { 'x-forwarded-for': '203.0.113.77' },
      });
    if (stepUpCode !== signInCode) {
      expect((await verify(stepUpCode)).body.error).toBe('invalid_credentials');
      const crossed = await request<Partial<ErrorBody>>(guarded.url, 'POST', '/api/auth/session/step-up', {
        token: signedIn.access_token,
        body: { email_code: signInCode },
      });
      expect(crossed.body.error).toBe('invalid_credentials');
    }
    const finished = await verify(signInCode);
    expect(finished.status).toBe(200);
    expect(decodeJwt(finished.body.access_token)).toMatchObject({ acr: 'aal1' });
  });

  it('still answers with the pending sign-in when the send limit holds the code back; the client asks later', async () => {
    const signedIn = await signUpAndIn(guarded.url);
    const email = signedIn.email;
    for (let i = 0; i < 5; i += 1) {
      await request(guarded.url, 'POST', '/api/auth/session/create', {
        body: { email, password: 'not the password at all' },
        headers: { 'x-forwarded-for': '198.51.100.78' },
      });
    }
    // A step-up code a moment ago: the next send within 30 s is refused by the limit.
    await request(guarded.url, 'POST', '/api/auth/session/step-up/email-code', {
      token: signedIn.access_token,
      body: {},
    });
    await sink.nextCode(email);
    const pending = await request<ErrorBody & { pending_token: string; email_code?: unknown }>(
      guarded.url,
      'POST',
      '/api/auth/session/create',
      { body: { email, password: PASSWORD }, headers: { 'x-forwarded-for': '203.0.113.78' } },
    );
    expect(pending.status).toBe(401);
    expect(pending.body).toMatchObject({ error: 'second_factor_required', factors: ['email_code'] });
    expect(pending.body.email_code).toBeUndefined();
    guarded.clock.advance(30_000);
    const asked = await request(guarded.url, 'POST', '/api/auth/session/verify/email-code', {
      body: { pending_token: pending.body.pending_token },
    });
    expect(asked.status).toBe(200);
    const code = await sink.nextCode(email);
    const finished = await request<TokenResponse>(guarded.url, 'POST', '/api/auth/session/verify', {
      body: { pending_token: pending.body.pending_token, email_code: code },
      headers: { 'x-forwarded-for': '203.0.113.78' },
    });
    expect(finished.status).toBe(200);
  });
});

describe('when the SMTP server cannot be reached', () => {
  it('answers 503 and keeps no code', async () => {
    const unreachable = await startTestServer({
      env: { SESSIOND_SMTP_URL: `smtp://sessiond:${SMTP_PASSWORD}@127.0.0.1:${await freePort()}` },
    });
    try {
      const grant = await signUpAndIn(unreachable.url);
      const sent = await request<ErrorBody>(unreachable.url, 'POST', '/api/auth/session/step-up/email-code', {
        token: grant.access_token,
        body: {},
      });
      expect(sent.status).toBe(503);
      expect(sent.body.error).toBe('service_unavailable');
      expect(sent.body.message).not.toContain(SMTP_PASSWORD);
      const ceremonies = await unreachable.app.sessiond.database.db
        .selectFrom('ceremonies')
        .selectAll()
        .execute();
      expect(ceremonies.filter((row) => row.purpose === 'email_code')).toEqual([]);
    } finally {
      await unreachable.close();
    }
  });
});
