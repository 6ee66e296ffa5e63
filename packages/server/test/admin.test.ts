import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AdminLogPage, AdminSessionPage, TokenResponse } from '@sessiond/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { sha256 } from '../src/lib/crypto.js';
import { type APIResponse, PASSWORD, refresh, request, signUpAndIn, uniqueEmail } from './helpers/api.js';
import { TestClock } from './helpers/test-clock.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

// Configured keys: one created the way docs/configuration.md suggests, one an operator's own secret.
const KEY = `sk_admin_${'Q'.repeat(43)}`;
const OTHER_KEY = 'an-operators-own-secret-of-40-characters.';

const UA = {
  desktop:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  mobile:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  tablet:
    'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
};

const ENV = {
  SESSIOND_ADMIN_API_KEYS: `${OTHER_KEY},${KEY}`,
  // The tests choose each sign-in's IP with X-Forwarded-For.
  SESSIOND_TRUST_PROXY: 'true',
  SESSIOND_LOGIN_LIMIT_PER_ACCOUNT_IP: '1000',
  SESSIOND_LOGIN_LIMIT_PER_ACCOUNT: '1000',
  SESSIOND_LOGIN_LIMIT_PER_IP: '1000',
};

/** Every admin route, with a path that would otherwise be valid. */
const ROUTES: ReadonlyArray<[string, string]> = [
  ['GET', '/api/admin/users/u/sessions'],
  ['GET', '/api/admin/users/u/devices'],
  ['POST', '/api/admin/sessions/s/revoke'],
  ['POST', '/api/admin/users/u/revoke-all'],
  ['GET', '/api/admin/logs'],
  ['GET', '/api/admin/analytics/logins-per-day'],
  ['GET', '/api/admin/analytics/active-by-device'],
  ['GET', '/api/admin/analytics/session-duration'],
  ['GET', '/api/admin/analytics/failed-logins'],
  ['GET', '/api/admin/analytics/suspicious-ips'],
];

function adminCall<T = Record<string, unknown>>(
  server: TestServer,
  method: string,
  path: string,
  key: string = KEY,
): Promise<APIResponse<T & { error?: string; message?: string }>> {
  return request(server.url, method, path, { headers: { authorization: `Bearer ${key}` } });
}

async function signInFrom(
  server: TestServer,
  email: string,
  options: { ip: string; userAgent?: string; password?: string },
): Promise<APIResponse<TokenResponse & { error?: string }>> {
  return request(server.url, 'POST', '/api/auth/session/create', {
    body: { email, password: options.password ?? PASSWORD },
    headers: {
      'x-forwarded-for': options.ip,
      ...(options.userAgent ? { 'user-agent': options.userAgent } : {}),
    },
  });
}

async function signUp(server: TestServer, email: string): Promise<string> {
  const response = await request<{ user: { id: string } }>(server.url, 'POST', '/api/auth/signup', {
    body: { email, password: PASSWORD },
  });
  expect(response.status).toBe(201);
  return response.body.user.id;
}

const status = (server: TestServer, token: string) =>
  request(server.url, 'GET', '/api/auth/session/status', { token });

describe('admin API keys', () => {
  let server: TestServer;
  const logLines: string[] = [];
  beforeAll(async () => {
    server = await startTestServer({
      env: { ...ENV, SESSIOND_LOG_LEVEL: 'info' },
      logDestination: new Writable({
        write(chunk, _encoding, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses every admin route without a key, with 401 admin_key_invalid and a challenge', async () => {
    for (const [method, path] of ROUTES) {
      const response = await request(server.url, method, path);
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.body).toMatchObject({ error: 'admin_key_invalid' });
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="sessiond-admin"');
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('refuses a wrong key of the right form, on every route', async () => {
    for (const [method, path] of ROUTES) {
      const response = await adminCall(server, method, path, `sk_admin_${'R'.repeat(43)}`);
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.body).toMatchObject({
        error: 'admin_key_invalid',
        message: 'admin API key is not valid',
      });
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
    // One character off the configured key.
    const near = await adminCall(server, 'GET', '/api/admin/logs', `${KEY.slice(0, -1)}R`);
    expect(near.status).toBe(401);
  });

  it('refuses keys of the wrong form and other credentials', async () => {
    const user = await signUpAndIn(server.url);
    const notBearer = 'authorization header is not Bearer <admin key>';
    const notAKey = 'not an admin API key';
    const cases: Array<[string, string]> = [
      [`Basic ${Buffer.from(`admin:${KEY}`).toString('base64')}`, notBearer],
      [KEY, notBearer],
      [`Bearer ${KEY} extra`, notBearer],
      ['Bearer short', notAKey],
      [`Bearer ${'x'.repeat(257)}`, notAKey],
      [`Bearer ${KEY.slice(0, 20)}!${KEY.slice(21)}`, notAKey],
      // A user's access token is not an admin key (too long), nor is a refresh token (unknown).
      [`Bearer ${user.access_token}`, notAKey],
      [`Bearer ${user.refresh_token}`, 'admin API key is not valid'],
    ];
    for (const [authorization, message] of cases) {
      const response = await request(server.url, 'GET', '/api/admin/logs', { headers: { authorization } });
      expect(response.status, authorization).toBe(401);
      expect(response.body, authorization).toEqual({ error: 'admin_key_invalid', message });
    }
  });

  it('accepts each configured key, the Bearer scheme in any case', async () => {
    expect((await adminCall(server, 'GET', '/api/admin/logs')).status).toBe(200);
    expect((await adminCall(server, 'GET', '/api/admin/logs', OTHER_KEY)).status).toBe(200);
    const lower = await request(server.url, 'GET', '/api/admin/logs', {
      headers: { authorization: `bearer ${KEY}` },
    });
    expect(lower.status).toBe(200);
    expect(lower.headers.get('cache-control')).toBe('no-store');
  });

  it('keeps configured keys only as hashes, and refuses ill-formed ones at start-up without echoing them', () => {
    const config = loadConfig({ SESSIOND_ADMIN_API_KEYS: `${KEY}, ${OTHER_KEY}` });
    expect(config.adminAPIKeyHashes).toEqual([sha256(KEY), sha256(OTHER_KEY)]);
    expect(JSON.stringify(config)).not.toContain(KEY);
    expect(JSON.stringify(config)).not.toContain(OTHER_KEY);
    const weak = 'admin-password';
    const failure = (() => {
      try {
        loadConfig({ SESSIOND_ADMIN_API_KEYS: `${KEY},${weak}` });
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toContain('SESSIOND_ADMIN_API_KEYS');
    expect((failure as Error).message).not.toContain(weak);
  });

  it('`sessiond admin create-key` prints a key once, stores its hash only, and the running server accepts it', async () => {
    const env = { ...process.env, ...server.cliEnv };
    const created = await run(process.execPath, [MAIN, 'admin', 'create-key', '--name', 'ci robot'], { env });
    const key = created.stdout.trim();
    expect(key).toMatch(/^sk_admin_[A-Za-z0-9_-]{43}$/);
    const id = /created admin key ([0-9a-f-]{36}) \(ci robot\)/.exec(created.stderr)?.[1];
    expect(id).toBeDefined();

    const accepted = await adminCall(server, 'GET', '/api/admin/analytics/active-by-device', key);
    expect(accepted.status).toBe(200);

    const rows = await server.app.sessiond.database.db.selectFrom('adminKeys').selectAll().execute();
    expect(rows).toEqual([expect.objectContaining({ id, name: 'ci robot', keyHash: sha256(key) })]);
    const bytes = await server.storedText();
    expect(bytes).not.toContain(key);
    expect(bytes).not.toContain(key.slice(9));

    const listed = await run(process.execPath, [MAIN, 'admin', 'list-keys'], { env });
    expect(listed.stdout).toContain(`${id}`);
    expect(listed.stdout).toContain('ci robot');
    expect(listed.stdout).not.toContain(key);

    await run(process.execPath, [MAIN, 'admin', 'revoke-key', id!], { env });
    expect((await adminCall(server, 'GET', '/api/admin/logs', key)).status).toBe(401);
  });

  it('`sessiond admin create-key` refuses unknown options and bad names', async () => {
    const env = { ...process.env, ...server.cliEnv };
    for (const args of [
      ['--nmae', 'x'],
      ['--name', ''],
      ['--name', 'a\u0007b'],
    ]) {
      const failure = await run(process.execPath, [MAIN, 'admin', 'create-key', ...args], { env }).catch(
        (error: { code: number; stdout: string }) => error,
      );
      expect(failure, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
    }
  });

  it('never writes a key to the log', async () => {
    await adminCall(server, 'GET', '/api/admin/logs');
    await adminCall(server, 'GET', '/api/admin/logs', `sk_admin_${'Z'.repeat(43)}`);
    const user = await signUpAndIn(server.url);
    await adminCall(server, 'POST', `/api/admin/sessions/${user.session.id}/revoke`);
    const text = logLines.join('');
    expect(text).toContain('admin revoke');
    expect(text).toContain('"admin_key":"config:2"');
    for (const secret of [KEY, OTHER_KEY, 'Z'.repeat(43)]) expect(text).not.toContain(secret);
  });
});

describe('admin: users, sessions and logs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: ENV });
  });
  afterAll(async () => {
    await server.close();
  });

  it('lists a user’s sessions (live and ended) and devices, newest first, page by page', async () => {
    const email = uniqueEmail();
    const userId = await signUp(server, email);
    const grants: TokenResponse[] = [];
    for (const userAgent of [UA.desktop, UA.mobile, UA.tablet]) {
      server.clock.advance(1_000);
      grants.push((await signInFrom(server, email, { ip: '192.0.2.10', userAgent })).body);
    }
    await request(server.url, 'POST', '/api/auth/session/logout', { token: grants[0]!.access_token });

    const all = await adminCall<AdminSessionPage>(server, 'GET', `/api/admin/users/${userId}/sessions`);
    expect(all.status).toBe(200);
    expect(all.body.sessions.map((s) => s.id)).toEqual(grants.map((g) => g.session.id).reverse());
    expect(all.body.sessions.map((s) => s.state)).toEqual(['live', 'live', 'ended']);
    expect(all.body.sessions[2]).toMatchObject({ end_reason: 'logout', user_id: userId, ip: '192.0.2.10' });
    expect(all.body.next_cursor).toBeNull();

    const live = await adminCall<AdminSessionPage>(
      server,
      'GET',
      `/api/admin/users/${userId}/sessions?state=live`,
    );
    expect(live.body.sessions.map((s) => s.id)).toEqual([grants[2]!.session.id, grants[1]!.session.id]);

    // One per page: every session once, in order, then no cursor.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=1&cursor=${cursor}` : '?limit=1';
      const page = await adminCall<AdminSessionPage>(
        server,
        'GET',
        `/api/admin/users/${userId}/sessions${query}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.sessions.length).toBeLessThanOrEqual(1);
      paged.push(...page.body.sessions.map((s) => s.id));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(paged).toEqual(all.body.sessions.map((s) => s.id));

    const devices = await adminCall<{
      devices: Array<{ id: string; device_type: string }>;
      next_cursor: null;
    }>(server, 'GET', `/api/admin/users/${userId}/devices`);
    expect(devices.status).toBe(200);
    expect(devices.body.devices.map((d) => d.id)).toEqual(grants.map((g) => g.device.id).reverse());
    expect(devices.body.devices.map((d) => d.device_type)).toEqual(['tablet', 'mobile', 'desktop']);
    const first = await adminCall<{ devices: unknown[]; next_cursor: string }>(
      server,
      'GET',
      `/api/admin/users/${userId}/devices?limit=2`,
    );
    const rest = await adminCall<{ devices: Array<{ id: string }>; next_cursor: null }>(
      server,
      'GET',
      `/api/admin/users/${userId}/devices?limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(first.body.devices).toHaveLength(2);
    expect(rest.body).toEqual({
      devices: [expect.objectContaining({ id: grants[0]!.device.id })],
      next_cursor: null,
    });
  });

  it('refuses unknown users, bad cursors and unknown parameters', async () => {
    const unknown = await adminCall(server, 'GET', '/api/admin/users/nobody/sessions');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('user_not_found');
    expect((await adminCall(server, 'GET', '/api/admin/users/nobody/devices')).body.error).toBe(
      'user_not_found',
    );
    expect((await adminCall(server, 'POST', '/api/admin/users/nobody/revoke-all')).body.error).toBe(
      'user_not_found',
    );
    const grant = await signUpAndIn(server.url);
    const userId = grant.session.user_id;
    const logsCursor = Buffer.from(JSON.stringify(['logs', 1, 1])).toString('base64url');
    for (const query of [
      '?cursor=not-a-cursor',
      `?cursor=${logsCursor}`,
      '?limit=0',
      '?limit=201',
      '?state=dead',
      '?user_id=x',
    ]) {
      const response = await adminCall(server, 'GET', `/api/admin/users/${userId}/sessions${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    }
    const withBody = await request(server.url, 'POST', `/api/admin/sessions/${grant.session.id}/revoke`, {
      headers: { authorization: `Bearer ${KEY}` },
      body: { reason: 'x' },
    });
    expect(withBody.status).toBe(400);
    expect((await status(server, grant.access_token)).status).toBe(200);
  });

  it('revokes one session as actor admin: its next request gets 401 session_revoked, the others live on', async () => {
    const user = await signUpAndIn(server.url);
    const other = (await signInFrom(server, user.email, { ip: '192.0.2.11' })).body;
    const events: Array<{ session_id: string | null; actor: string; reason: string }> = [];
    const unsubscribe = server.app.sessiond.bus.subscribe('session.revoked', (event) => events.push(event));
    try {
      const revoked = await adminCall(server, 'POST', `/api/admin/sessions/${user.session.id}/revoke`);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toEqual({ session_id: user.session.id, revoked: true });
    } finally {
      unsubscribe();
    }
    expect(events).toEqual([
      expect.objectContaining({ session_id: user.session.id, actor: 'admin', reason: 'admin' }),
    ]);

    const refused = await status(server, user.access_token);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'session_revoked' });
    expect((await refresh(server.url, user.refresh_token)).body.error).toBe('session_revoked');
    expect((await status(server, other.access_token)).status).toBe(200);

    const logs = await adminCall<AdminLogPage>(
      server,
      'GET',
      `/api/admin/logs?user_id=${user.session.user_id}&action=session_revoked`,
    );
    expect(logs.body.logs).toEqual([
      expect.objectContaining({
        session_id: user.session.id,
        actor: 'admin',
        detail: { reason: 'admin' },
        user_id: user.session.user_id,
      }),
    ]);

    const again = await adminCall(server, 'POST', `/api/admin/sessions/${user.session.id}/revoke`);
    expect(again.body).toEqual({ session_id: user.session.id, revoked: false });
    const unknown = await adminCall(server, 'POST', '/api/admin/sessions/no-such-session/revoke');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('session_not_found');
  });

  it('revokes all of a user’s sessions as actor admin', async () => {
    const user = await signUpAndIn(server.url);
    const second = (await signInFrom(server, user.email, { ip: '192.0.2.12' })).body;
    const bystander = await signUpAndIn(server.url);
    const revoked = await adminCall(server, 'POST', `/api/admin/users/${user.session.user_id}/revoke-all`);
    expect(revoked.body).toEqual({ user_id: user.session.user_id, revoked: 2 });
    for (const token of [user.access_token, second.access_token]) {
      const refused = await status(server, token);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: 'session_revoked' });
    }
    expect((await status(server, bystander.access_token)).status).toBe(200);
    const logs = await adminCall<AdminLogPage>(
      server,
      'GET',
      `/api/admin/logs?user_id=${user.session.user_id}&action=session_revoked`,
    );
    expect(logs.body.logs.map((l) => [l.actor, l.detail])).toEqual([
      ['admin', { reason: 'admin' }],
      ['admin', { reason: 'admin' }],
    ]);
    const live = await adminCall<AdminSessionPage>(
      server,
      'GET',
      `/api/admin/users/${user.session.user_id}/sessions?state=live`,
    );
    expect(live.body.sessions).toEqual([]);
  });

  it('searches the log by user, action, IP and time range, newest first', async () => {
    const email = uniqueEmail();
    const userId = await signUp(server, email);
    // From here on, the only rows of the log are this test's.
    server.clock.advance(60_000);
    const start = server.clock.now();
    const ips = ['198.51.100.7', '198.51.100.8', '198.51.100.7'];
    for (const ip of ips) {
      server.clock.advance(60_000);
      expect((await signInFrom(server, email, { ip })).status).toBe(200);
    }
    server.clock.advance(60_000);
    expect(
      (await signInFrom(server, email, { ip: '198.51.100.9', password: 'wrong password!' })).status,
    ).toBe(401);
    const end = server.clock.now();

    const byUser = await adminCall<AdminLogPage>(
      server,
      'GET',
      `/api/admin/logs?user_id=${userId}&limit=200`,
    );
    const rows = byUser.body.logs;
    expect(rows.every((row) => row.user_id === userId)).toBe(true);
    expect(rows.filter((row) => row.action === 'login')).toHaveLength(3);
    const times = rows.map((row) => Date.parse(row.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const logins = await adminCall<AdminLogPage>(
      server,
      'GET',
      `/api/admin/logs?user_id=${userId}&action=login`,
    );
    expect(logins.body.logs.map((row) => row.ip)).toEqual([...ips].reverse());

    const failed = await adminCall<AdminLogPage>(
      server,
      'GET',
      '/api/admin/logs?action=login_failed&ip=198.51.100.9',
    );
    expect(failed.body.logs).toEqual([
      expect.objectContaining({
        user_id: userId,
        action: 'login_failed',
        success: false,
        ip: '198.51.100.9',
      }),
    ]);

    const byIP = await adminCall<AdminLogPage>(server, 'GET', '/api/admin/logs?ip=198.51.100.7&action=login');
    expect(byIP.body.logs).toHaveLength(2);
    expect(byIP.body.logs.every((row) => row.ip === '198.51.100.7' && row.action === 'login')).toBe(true);

    // The second sign-in only: from its minute to just before the third.
    const from = new Date(start + 120_000).toISOString();
    const to = new Date(start + 180_000).toISOString();
    const ranged = await adminCall<AdminLogPage>(
      server,
      'GET',
      `/api/admin/logs?action=login&from=${from}&to=${to}`,
    );
    expect(ranged.body.logs).toEqual([expect.objectContaining({ ip: '198.51.100.8', user_id: userId })]);
    const everything = await adminCall<AdminLogPage>(
      server,
      'GET',
      `/api/admin/logs?from=${new Date(start).toISOString()}&to=${new Date(end + 1).toISOString()}&limit=200`,
    );
    expect(everything.body.logs.map((row) => row.id)).toEqual(rows.map((row) => row.id));
  });

  it('pages through the log without skipping or repeating a row, rows of one millisecond included', async () => {
    // revoke-all writes its rows in one millisecond: the cursor must break the tie.
    const user = await signUpAndIn(server.url);
    for (let i = 0; i < 4; i++) await signInFrom(server, user.email, { ip: '192.0.2.13' });
    await adminCall(server, 'POST', `/api/admin/users/${user.session.user_id}/revoke-all`);
    for (const filter of [`user_id=${user.session.user_id}`, 'action=session_revoked', 'ip=192.0.2.13', '']) {
      const whole = await adminCall<AdminLogPage>(server, 'GET', `/api/admin/logs?limit=200&${filter}`);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const suffix: string = cursor ? `&cursor=${cursor}` : '';
        const page = await adminCall<AdminLogPage>(
          server,
          'GET',
          `/api/admin/logs?limit=3&${filter}${suffix}`,
        );
        expect(page.status).toBe(200);
        paged.push(...page.body.logs.map((row) => row.id));
        cursor = page.body.next_cursor;
      } while (cursor !== null);
      expect(paged, filter).toEqual(whole.body.logs.map((row) => row.id));
      expect(new Set(paged).size).toBe(paged.length);
    }
  });

  it('refuses bad search parameters', async () => {
    for (const query of [
      'action=bogus',
      'ip=not-an-ip',
      'from=yesterday',
      'from=2030-01-02&to=2030-01-01',
      'from=2030-01-01&to=2030-01-01',
      'limit=0',
      'limit=201',
      'action=login&action=logout',
      'cursor=',
      `cursor=${Buffer.from(JSON.stringify(['sessions', 1, 'x'])).toString('base64url')}`,
      'sort=asc',
    ]) {
      const response = await adminCall(server, 'GET', `/api/admin/logs?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    }
  });
});

describe('admin analytics on a known data set', () => {
  // 2031-01-10T09:00:00Z, a Friday; the data spans four UTC days.
  const D0 = Date.UTC(2031, 0, 10, 9, 0, 0);
  const MINUTE = 60_000;
  const DAY = 86_400_000;
  let server: TestServer;
  const users: Record<'u1' | 'u2' | 'u3', { id: string; email: string }> = {} as never;
  const sessions: Record<string, TokenResponse> = {};

  beforeAll(async () => {
    server = await startTestServer({ env: ENV, clock: new TestClock(D0) });
    for (const name of ['u1', 'u2', 'u3'] as const) {
      const email = uniqueEmail();
      users[name] = { id: await signUp(server, email), email };
    }
    const signIn = async (
      name: string,
      user: 'u1' | 'u2' | 'u3',
      ip: string,
      userAgent?: string,
    ): Promise<void> => {
      const response = await signInFrom(server, users[user].email, {
        ip,
        ...(userAgent ? { userAgent } : {}),
      });
      expect(response.status).toBe(200);
      sessions[name] = response.body;
    };
    const fail = async (email: string, ip: string): Promise<void> => {
      expect((await signInFrom(server, email, { ip, password: 'not the password' })).status).toBe(401);
    };
    const logout = (name: string) =>
      request(server.url, 'POST', '/api/auth/session/logout', { token: sessions[name]!.access_token });

    // Day 0, 2031-01-10.
    await signIn('s1', 'u1', '198.51.100.1', UA.desktop);
    await signIn('s2', 'u2', '198.51.100.1', UA.mobile);
    await fail(users.u1.email, '198.51.100.2');
    await fail(users.u1.email, '198.51.100.2');
    await fail('nobody-at-all@example.com', '198.51.100.2');
    server.clock.advance(10 * MINUTE);
    await logout('s2'); // lasted 10 minutes
    // Day 1: s1 timed out 30 minutes after its sign-in; the sweeper notices now.
    server.clock.advance(DAY);
    await server.app.sessiond.sweeper.sweep();
    await signIn('s3', 'u3', '198.51.100.3');
    for (let i = 0; i < 3; i++) await fail(users.u2.email, '198.51.100.2');
    server.clock.advance(5 * MINUTE);
    expect(
      (await adminCall(server, 'POST', `/api/admin/sessions/${sessions.s3!.session.id}/revoke`)).status,
    ).toBe(200); // lasted 5 minutes
    // Day 3, 2031-01-13 (nothing on the 12th).
    server.clock.advance(2 * DAY);
    await signIn('s4', 'u1', '198.51.100.4', UA.tablet);
    await signIn('s5', 'u2', '198.51.100.4', UA.desktop);
    await signIn('s6', 'u3', '198.51.100.4', UA.desktop);
    await signIn('s7', 'u3', '198.51.100.4');
    // Within the access token's 15 minutes.
    server.clock.advance(12 * MINUTE);
    expect((await logout('s6')).status).toBe(200); // lasted 12 minutes
    server.clock.advance(MINUTE);
  });
  afterAll(async () => {
    await server.close();
  });

  it('logins per day: every day of the range, zeros included', async () => {
    const response = await adminCall(
      server,
      'GET',
      '/api/admin/analytics/logins-per-day?from=2031-01-09&to=2031-01-14',
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      from: '2031-01-09',
      to: '2031-01-14',
      days: [
        { date: '2031-01-09', logins: 0, failed_logins: 0 },
        { date: '2031-01-10', logins: 2, failed_logins: 3 },
        { date: '2031-01-11', logins: 1, failed_logins: 3 },
        { date: '2031-01-12', logins: 0, failed_logins: 0 },
        { date: '2031-01-13', logins: 4, failed_logins: 0 },
        { date: '2031-01-14', logins: 0, failed_logins: 0 },
      ],
    });
    // By default the 30 days up to today.
    const recent = await adminCall<{ from: string; to: string; days: unknown[] }>(
      server,
      'GET',
      '/api/admin/analytics/logins-per-day',
    );
    expect(recent.body).toMatchObject({ from: '2030-12-15', to: '2031-01-13' });
    expect(recent.body.days).toHaveLength(30);
  });

  it('active sessions by device type, now', async () => {
    const response = await adminCall(server, 'GET', '/api/admin/analytics/active-by-device');
    expect(response.body).toEqual({
      at: new Date(server.clock.now()).toISOString(),
      total: 3,
      device_types: [
        { device_type: 'desktop', sessions: 1 },
        { device_type: 'tablet', sessions: 1 },
        { device_type: 'unknown', sessions: 1 },
      ],
    });
  });

  it('average session duration of the sessions that ended in the range, by reason', async () => {
    const all = await adminCall(
      server,
      'GET',
      '/api/admin/analytics/session-duration?from=2031-01-10&to=2031-01-14T00:00:00Z',
    );
    expect(all.body).toEqual({
      from: '2031-01-10T00:00:00.000Z',
      to: '2031-01-14T00:00:00.000Z',
      sessions: 4,
      average_seconds: (600 + 1800 + 300 + 720) / 4,
      reasons: [
        { reason: 'logout', sessions: 2, average_seconds: (600 + 720) / 2 },
        { reason: 'admin', sessions: 1, average_seconds: 300 },
        { reason: 'idle_timeout', sessions: 1, average_seconds: 1800 },
      ],
    });
    const later = await adminCall<{ sessions: number; average_seconds: number }>(
      server,
      'GET',
      '/api/admin/analytics/session-duration?from=2031-01-11',
    );
    expect(later.body).toMatchObject({ sessions: 3, average_seconds: (1800 + 300 + 720) / 3 });
    const none = await adminCall(
      server,
      'GET',
      '/api/admin/analytics/session-duration?from=2031-01-12&to=2031-01-13',
    );
    expect(none.body).toMatchObject({ sessions: 0, average_seconds: null, reasons: [] });
  });

  it('failed logins per user, most first (unknown emails left out)', async () => {
    const response = await adminCall(
      server,
      'GET',
      '/api/admin/analytics/failed-logins?from=2031-01-10&to=2031-01-14',
    );
    expect(response.body).toEqual({
      from: '2031-01-10T00:00:00.000Z',
      to: '2031-01-14T00:00:00.000Z',
      users: [
        {
          user_id: users.u2.id,
          email: users.u2.email,
          failed_logins: 3,
          last_failed_at: new Date(D0 + 10 * MINUTE + DAY).toISOString(),
        },
        {
          user_id: users.u1.id,
          email: users.u1.email,
          failed_logins: 2,
          last_failed_at: new Date(D0).toISOString(),
        },
      ],
    });
    const top = await adminCall<{ users: Array<{ user_id: string }> }>(
      server,
      'GET',
      '/api/admin/analytics/failed-logins?from=2031-01-10&to=2031-01-14&limit=1',
    );
    expect(top.body.users.map((u) => u.user_id)).toEqual([users.u2.id]);
    // The default window is the last 7 days, which still holds all of them.
    const recent = await adminCall<{ users: unknown[] }>(server, 'GET', '/api/admin/analytics/failed-logins');
    expect(recent.body.users).toHaveLength(2);
  });

  it('IPs with the most sign-in attempts', async () => {
    const response = await adminCall(
      server,
      'GET',
      '/api/admin/analytics/suspicious-ips?from=2031-01-10&to=2031-01-14',
    );
    expect(response.body).toEqual({
      from: '2031-01-10T00:00:00.000Z',
      to: '2031-01-14T00:00:00.000Z',
      ips: [
        { ip: '198.51.100.2', attempts: 6, failed: 6, succeeded: 0, users: 2 },
        { ip: '198.51.100.4', attempts: 4, failed: 0, succeeded: 4, users: 3 },
        { ip: '198.51.100.1', attempts: 2, failed: 0, succeeded: 2, users: 2 },
        { ip: '198.51.100.3', attempts: 1, failed: 0, succeeded: 1, users: 1 },
      ],
    });
    const many = await adminCall<{ ips: Array<{ ip: string }> }>(
      server,
      'GET',
      '/api/admin/analytics/suspicious-ips?from=2031-01-10&to=2031-01-14&min_attempts=4&limit=1',
    );
    expect(many.body.ips.map((entry) => entry.ip)).toEqual(['198.51.100.2']);
    // By default the last 24 hours: only day 3's sign-ins.
    const today = await adminCall<{ ips: Array<{ ip: string }> }>(
      server,
      'GET',
      '/api/admin/analytics/suspicious-ips',
    );
    expect(today.body.ips.map((entry) => entry.ip)).toEqual(['198.51.100.4']);
  });

  it('refuses unbounded, inverted and malformed ranges', async () => {
    for (const path of [
      '/api/admin/analytics/logins-per-day?from=2029-01-01&to=2031-01-13',
      '/api/admin/analytics/logins-per-day?from=2031-01-13&to=2031-01-12',
      '/api/admin/analytics/logins-per-day?from=2031-01-13T00:00:00Z',
      '/api/admin/analytics/session-duration?from=2030-01-01',
      '/api/admin/analytics/failed-logins?from=2030-11-01&to=2031-01-01',
      '/api/admin/analytics/failed-logins?limit=101',
      '/api/admin/analytics/suspicious-ips?from=2031-01-13&to=2031-01-10',
      '/api/admin/analytics/suspicious-ips?from=2031-01-01&to=2031-01-08T00:00:01Z',
      '/api/admin/analytics/suspicious-ips?min_attempts=0',
      '/api/admin/analytics/active-by-device?from=2031-01-01',
    ]) {
      const response = await adminCall(server, 'GET', path);
      expect(response.status, path).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    }
  });
});
