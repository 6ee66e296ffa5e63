import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { type SMTPSink, startSMTPSink } from '../../server/test/helpers/smtp-sink.js';
import { SoftAuthenticator } from '../../server/test/helpers/soft-authenticator.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { SecondFactorRequiredError } from '../src/errors.js';
import { createSessionClient, type SessionClient } from '../src/session-client.js';
import type { WebAuthnAdapter } from '../src/webauthn.js';

/**
 * Risk verdicts at sign-in (decision 026) through the client: what makes a sign-in suspicious is
 * real history, five failed logins of the account and then a new device from a new network.
 */
const ORIGIN = 'http://localhost:4000';
let sink: SMTPSink;
let server: TestServer;
beforeAll(async () => {
  sink = await startSMTPSink();
  server = await startTestServer({
    issuerIsURL: true,
    env: {
      SESSIOND_TRUST_PROXY: 'true',
      SESSIOND_SMTP_URL: sink.url,
      SESSIOND_WEBAUTHN_RP_ID: 'localhost',
      SESSIOND_WEBAUTHN_ORIGINS: ORIGIN,
    },
  });
});
afterAll(async () => {
  await server?.close();
  await sink?.close();
});

let network = 10;
const nextIP = (): string => {
  network += 1;
  return `203.0.${network}.9`;
};

/** A client on a network of its own (the server trusts X-Forwarded-For in this suite). */
function clientFrom(ip: string, webAuthn?: WebAuthnAdapter): SessionClient {
  return createSessionClient({
    baseUrl: server.url,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('x-forwarded-for', ip);
      return fetch(input, { ...init, headers });
    },
    ...(webAuthn ? { webAuthn } : {}),
  });
}

async function newUser(): Promise<{ email: string; userId: string }> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  const user = await server.app.sessiond.store.findUserByEmail(email);
  return { email, userId: user!.id };
}

async function withTOTP(email: string): Promise<() => string> {
  const { store, totp } = server.app.sessiond;
  const { secret } = await totp.enroll((await store.findUserByEmail(email))!);
  const generator = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 });
  const code = () => {
    server.clock.advance(30_000);
    return generator.generate({ timestamp: server.clock.now() });
  };
  const user = (await store.findUserByEmail(email))!;
  await totp.confirm(user, code(), {
    action: 'totp_enrolled',
    success: true,
    userId: user.id,
    ip: null,
    userAgent: null,
    createdAt: server.clock.now(),
  });
  return code;
}

async function failLogins(email: string): Promise<void> {
  const ip = nextIP();
  for (let i = 0; i < 5; i += 1) {
    const failed = await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: 'not the password at all' },
      headers: { 'x-forwarded-for': ip },
    });
    expect(failed.status).toBe(401);
  }
}

async function refusedSignIn(client: SessionClient, email: string): Promise<SecondFactorRequiredError> {
  const error = await client
    .signIn({ email, password: PASSWORD, device: { name: 'Laptop' } })
    .catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(SecondFactorRequiredError);
  expect(client.state.get()).toMatchObject({ status: 'unauthenticated', session: null });
  return error as SecondFactorRequiredError;
}

describe('a sign-in held for a second factor, through the client', () => {
  it('TOTP: a typed error naming the factors, a wrong code retried, then a session at aal2', async () => {
    const { email, userId } = await newUser();
    const code = await withTOTP(email);
    await failLogins(email);
    const client = clientFrom(nextIP());
    const held = await refusedSignIn(client, email);
    expect(held).toMatchObject({
      kind: 'auth',
      code: 'second_factor_required',
      factors: ['totp', 'email_code'],
      expiresInMs: 300_000,
    });
    // The pending token stays inside the client: not on the error, not anywhere the app logs.
    expect(JSON.stringify({ ...held, message: held.message })).not.toMatch(/ps_/);
    expect(held.details).toBeUndefined();

    await expect(client.completeSignIn({ totp: '000000' })).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect(client.state.get().status).toBe('unauthenticated');
    const state = await client.completeSignIn({ totp: code() });
    expect(state).toMatchObject({ status: 'authenticated', user: { id: userId }, session: { acr: 'aal2' } });
    expect((await client.fetch('/api/auth/session/status')).status).toBe(200);
    // The device named at signIn is the one recorded, once the factor passed.
    expect((await server.app.sessiond.store.listDevices(userId)).map((device) => device.name)).toEqual([
      'Laptop',
    ]);
    // Used up: nothing is pending any more.
    await expect(client.completeSignIn({ totp: code() })).rejects.toMatchObject({ kind: 'request' });
    client.close();
  });

  it('email code: the server mails it at once when it is the only factor; a resend replaces it', async () => {
    const { email } = await newUser();
    await failLogins(email);
    const client = clientFrom(nextIP());
    const held = await refusedSignIn(client, email);
    expect(held.factors).toEqual(['email_code']);
    expect(held.emailCode).toEqual({ sentTo: `${email.slice(0, 1)}***@example.com`, expiresInMs: 600_000 });
    const first = await sink.nextCode(email);
    server.clock.advance(31_000);
    expect(await client.sendSignInEmailCode()).toMatchObject({ sentTo: held.emailCode?.sentTo });
    const second = await sink.nextCode(email);
    if (first !== second) {
      await expect(client.completeSignIn({ emailCode: first })).rejects.toMatchObject({
        code: 'invalid_credentials',
      });
    }
    const state = await client.completeSignIn({ emailCode: second });
    expect(state).toMatchObject({ status: 'authenticated', session: { acr: 'aal1' } });
    client.close();
  });

  it('passkey: the assertion is bound to this pending sign-in and opens the session at aal2', async () => {
    const { email } = await newUser();
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const webAuthn: WebAuthnAdapter = {
      startRegistration: async (options) => authenticator.register(options),
      startAuthentication: async (options) => authenticator.assert(options),
    };
    const home = clientFrom('192.0.2.1', webAuthn);
    await home.signIn({ email, password: PASSWORD });
    await home.sendStepUpEmailCode();
    await home.stepUp({ emailCode: await sink.nextCode(email) });
    await home.passkeys.register({ name: 'Laptop' });

    await failLogins(email);
    const client = clientFrom(nextIP(), webAuthn);
    const held = await refusedSignIn(client, email);
    expect(held.factors).toEqual(['passkey', 'email_code']);
    const state = await client.completeSignIn({ passkey: true });
    expect(state).toMatchObject({ status: 'authenticated', session: { acr: 'aal2' } });
    home.close();
    client.close();
  });

  it('completeSignIn with nothing pending is refused without a request', async () => {
    const client = clientFrom(nextIP());
    await expect(client.completeSignIn({ totp: '123456' })).rejects.toMatchObject({ kind: 'request' });
    await expect(client.sendSignInEmailCode()).rejects.toMatchObject({ kind: 'request' });
    client.close();
  });
});
