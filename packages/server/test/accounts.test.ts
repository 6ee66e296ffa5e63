import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    env: { SESSIOND_LOGIN_LIMIT_PER_IP: '8', SESSIOND_LOGIN_LIMIT_PER_ACCOUNT_IP: '3' },
  });
});
afterAll(async () => {
  await server.close();
});

const signup = (email: string, password = PASSWORD) =>
  request(server.url, 'POST', '/api/auth/signup', { body: { email, password } });
const login = (email: string, password: string) =>
  request(server.url, 'POST', '/api/auth/session/create', { body: { email, password } });

describe('accounts', () => {
  it('normalises the email so one mailbox is one account', async () => {
    const local = `Mixed.Case.${Date.now()}`;
    const created = await signup(`  ${local}@Example.COM `);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ user: { email: `${local.toLowerCase()}@example.com` } });
    const duplicate = await signup(`${local.toLowerCase()}@example.com`);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ error: 'email_taken' });
    expect((await login(`${local.toUpperCase()}@EXAMPLE.com`, PASSWORD)).status).toBe(200);
  });

  it('enforces the password policy and email shape', async () => {
    expect((await signup(uniqueEmail(), 'short')).body).toMatchObject({ error: 'weak_password' });
    expect((await signup('not-an-email', PASSWORD)).body).toMatchObject({ error: 'invalid_request' });
  });

  it('stores only an argon2id hash of the password', async () => {
    const email = uniqueEmail();
    await signup(email);
    const user = await server.app.sessiond.store.findUserByEmail(email);
    expect(user?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(user?.passwordHash).not.toContain(PASSWORD);
  });

  it('answers a wrong password and an unknown email identically, and logs the failure', async () => {
    const email = uniqueEmail();
    await signup(email);
    const wrong = await login(email, 'wrong password!!');
    const unknown = await login(uniqueEmail(), 'wrong password!!');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toEqual({ error: 'invalid_credentials', message: 'email or password is wrong' });
    const ok = await request<{ access_token: string }>(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD },
    });
    const logs = await request<{ logs: Array<{ action: string; success: boolean; error: string | null }> }>(
      server.url,
      'GET',
      '/api/auth/session/logs',
      { token: ok.body.access_token },
    );
    expect(logs.body.logs.at(-1)).toMatchObject({
      action: 'login_failed',
      success: false,
      error: 'invalid_credentials',
    });
  });
});

describe('sign-up rate limit', () => {
  it('throttles sign-ups per IP per hour with Retry-After', async () => {
    const limited = await startTestServer({ env: { SESSIOND_SIGNUP_LIMIT_PER_IP: '2' } });
    try {
      const signUp = () =>
        request(limited.url, 'POST', '/api/auth/signup', {
          body: { email: uniqueEmail(), password: PASSWORD },
        });
      expect((await signUp()).status).toBe(201);
      expect((await signUp()).status).toBe(201);
      const third = await signUp();
      expect(third.status).toBe(429);
      expect(third.body).toMatchObject({ error: 'rate_limited' });
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(3000);
      limited.clock.advance(60 * 60_000);
      expect((await signUp()).status).toBe(201);
    } finally {
      await limited.close();
    }
  });
});

describe('sign-in rate limits', () => {
  it('throttles an (account, IP) pair after repeated failures, with Retry-After, even with the right password', async () => {
    const email = uniqueEmail();
    await signup(email);
    for (let i = 0; i < 3; i += 1) expect((await login(email, 'wrong password!!')).status).toBe(401);
    const limited = await login(email, PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'rate_limited' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    server.clock.advance(15 * 60_000);
    expect((await login(email, PASSWORD)).status).toBe(200);
  });

  it('a success clears the failures of its (account, IP) pair', async () => {
    const email = uniqueEmail();
    await signup(email);
    await login(email, 'wrong password!!');
    await login(email, 'wrong password!!');
    expect((await login(email, PASSWORD)).status).toBe(200);
    await login(email, 'wrong password!!');
    await login(email, 'wrong password!!');
    expect((await login(email, PASSWORD)).status).toBe(200);
  });

  it('throttles one IP spraying many accounts', async () => {
    server.clock.advance(60_000);
    const statuses: number[] = [];
    for (let i = 0; i < 9; i += 1) statuses.push((await login(uniqueEmail(), 'wrong password!!')).status);
    expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
    expect(statuses[8]).toBe(429);
    server.clock.advance(60_000);
    expect((await login(uniqueEmail(), 'wrong password!!')).status).toBe(401);
  });
});
