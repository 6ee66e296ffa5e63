import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, refresh, request, signUpAndIn, uniqueEmail } from './helpers/api.js';
import { setCookies } from './helpers/cookies.js';
import { openSync } from './helpers/sync-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let logs = '';
beforeAll(async () => {
  const destination = new PassThrough();
  destination.on('data', (chunk) => {
    logs += chunk;
  });
  server = await startTestServer({ env: { SESSIOND_LOG_LEVEL: 'trace' }, logDestination: destination });
});
afterAll(async () => {
  await server.close();
});

describe('secrets never reach the logs', () => {
  it('not passwords, refresh tokens or access tokens, at the most verbose level, on success or failure', async () => {
    const grant = await signUpAndIn(server.url);
    const next = await refresh(server.url, grant.refresh_token);
    await request(server.url, 'GET', '/api/auth/session/status', { token: next.body.access_token });
    await request(server.url, 'GET', '/api/auth/session/status', { token: `${next.body.access_token}x` });
    await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email: grant.email, password: 'wrong password!!' },
    });
    await request(server.url, 'POST', '/api/auth/session/create', {
      body: `{"email":"${grant.email}","password":"${PASSWORD}"`,
      headers: { 'content-type': 'application/json' },
    });
    server.clock.advance(60_000);
    await refresh(server.url, grant.refresh_token);
    expect(logs.length).toBeGreaterThan(1000);
    for (const secret of [
      PASSWORD,
      grant.refresh_token,
      next.body.refresh_token,
      grant.access_token,
      next.body.access_token,
    ]) {
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toContain(grant.access_token.split('.')[2]);
  });

  it('not the tokens of the cookie transport, in Set-Cookie or Cookie headers', async () => {
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    const cookieMode = { 'x-sessiond-transport': 'cookie', 'x-sessiond-csrf': '1' };
    const signIn = await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD },
      headers: cookieMode,
    });
    const first = setCookies(signIn.headers);
    const at = first.get('sessiond_at')!.value;
    const rt = first.get('sessiond_rt')!.value;
    const next = await request(server.url, 'POST', '/api/auth/session/refresh', {
      headers: { ...cookieMode, cookie: `sessiond_rt=${rt}` },
    });
    const rotated = setCookies(next.headers).get('sessiond_rt')!.value;
    await request(server.url, 'GET', '/api/auth/session/status', {
      headers: { cookie: `sessiond_at=${at}` },
    });
    await request(server.url, 'POST', '/api/auth/session/touch', {
      headers: { cookie: `sessiond_at=${at}` },
    });
    for (const secret of [at, at.split('.')[2]!, rt, rotated]) expect(logs).not.toContain(secret);
  });

  it('not the tokens of sync sockets, in the subprotocol header or the first message', async () => {
    const bySubprotocol = await signUpAndIn(server.url);
    const byMessage = await signUpAndIn(server.url);
    const sockets = [
      await openSync(server.url, { token: bySubprotocol.access_token, tokenIn: 'protocol' }),
      await openSync(server.url, { token: byMessage.access_token }),
      await openSync(server.url, { token: `${byMessage.access_token}x` }),
    ];
    await sockets[0]!.next('ready');
    await sockets[1]!.next('ready');
    await sockets[2]!.closed;
    for (const socket of sockets.slice(0, 2)) socket.close();
    expect(logs).toContain('/api/sync');
    for (const token of [bySubprotocol.access_token, byMessage.access_token]) {
      expect(logs).not.toContain(token.split('.')[2]);
    }
  });

  it('not a token a client put in the query string: the logged URL keeps the keys, not the values', async () => {
    const grant = await signUpAndIn(server.url);
    const secret = grant.access_token;
    await request(server.url, 'GET', `/api/sync?access_token=${secret}&v=1`);
    await request(server.url, 'GET', `/api/auth/session/status?token=${grant.refresh_token}`, {
      token: secret,
    });
    await request(server.url, 'GET', `/api/nope?refresh_token=${grant.refresh_token}&flag`);
    const lines = logs.split('\n').filter((line) => line.includes('"url":"/api/sync?'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toContain('"url":"/api/sync?access_token=[redacted]&v=[redacted]"');
    expect(logs).toContain('"url":"/api/nope?refresh_token=[redacted]&flag"');
    for (const value of [secret, secret.split('.')[2]!, grant.refresh_token])
      expect(logs).not.toContain(value);
  });
});
