import type { TokenResponse } from '@sessiond/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminStore } from '../src/admin/admin-store.js';
import { createAdminKey } from '../src/admin/create-admin-key.js';
import type { HealthEvent } from '../src/admin-ui/health-sample.js';
import { PASSWORD, refresh, request, signUpAndIn, uniqueEmail } from './helpers/api.js';
import { BACKEND, BACKEND_ENV, backendSession } from './helpers/backend.js';
import { openSync } from './helpers/sync-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const KEY = `sk_admin_${'D'.repeat(43)}`;
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    env: { SESSIOND_ADMIN_API_KEYS: KEY, SESSIOND_TRUST_PROXY: 'true', ...BACKEND_ENV },
  });
});

afterAll(async () => {
  await server?.close();
});

/** A browser's view of the dashboard: its cookie and the CSRF token of its page. */
interface AdminBrowser {
  cookie: string;
  csrf: string;
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL(path, server.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
}

function cookieOf(response: Response): string {
  const header = response.headers.getSetCookie().find((c) => c.startsWith('sessiond_admin='));
  if (!header) throw new Error(`no sessiond_admin cookie: ${response.status}`);
  return header.split(';', 1)[0] as string;
}

async function signInAdmin(key: string = KEY): Promise<AdminBrowser> {
  const response = await post('/admin/sign-in', form({ key }), { 'sec-fetch-site': 'same-origin' });
  expect(response.status).toBe(303);
  const cookie = cookieOf(response);
  const page = await fetch(new URL('/admin', server.url), { headers: { cookie } });
  const csrf = /<meta name="sessiond-admin-csrf" content="([^"]+)">/.exec(await page.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on the dashboard');
  return { cookie, csrf };
}

function api<T = Record<string, unknown>>(
  browser: AdminBrowser | undefined,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; csrf?: string | null } = {},
): Promise<{ status: number; headers: Headers; body: T & { error?: string; message?: string } }> {
  const headers: Record<string, string> = { ...options.headers };
  if (browser) headers.cookie = browser.cookie;
  const csrf = options.csrf === undefined ? browser?.csrf : options.csrf;
  if (method !== 'GET' && csrf) headers['x-sessiond-admin-csrf'] = csrf;
  return request(server.url, method, `/admin/api${path}`, {
    headers,
    ...(method === 'GET' ? {} : { body: {} }),
  }) as never;
}

describe('sign-in', () => {
  it('shows the key form with the strict CSP, no-store and no inline script or style', async () => {
    const response = await fetch(new URL('/admin', server.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(CSP);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const text = await response.text();
    expect(text).toContain('<label for="admin-key">Admin API key</label>');
    expect(text).toContain('<form method="post" action="/admin/sign-in">');
    expect(text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(text).not.toMatch(/\sstyle=|<style/);
    expect(text).not.toContain('sessiond-admin-csrf');
  });

  it('refuses a wrong key with the form again (401) and sets no cookie', async () => {
    for (const key of [`sk_admin_${'W'.repeat(43)}`, 'short', '']) {
      const response = await post('/admin/sign-in', form({ key }));
      expect(response.status).toBe(401);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(response.headers.get('content-security-policy')).toBe(CSP);
      expect(await response.text()).toContain('That is not a valid admin API key.');
    }
  });

  it('sets an HttpOnly, SameSite=Strict cookie on /admin for 8 hours that does not hold the key', async () => {
    const response = await post('/admin/sign-in', form({ key: KEY }));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/admin');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const header = response.headers.getSetCookie().find((c) => c.startsWith('sessiond_admin='));
    expect(header).toBeDefined();
    const attributes = (header as string).split('; ').slice(1);
    expect(attributes).toEqual(
      expect.arrayContaining(['Max-Age=28800', 'Path=/admin', 'HttpOnly', 'SameSite=Strict']),
    );
    // http issuer: no Secure (the https case is below).
    expect(attributes).not.toContain('Secure');
    const value = cookieOf(response).slice('sessiond_admin='.length);
    expect(value).not.toContain(KEY);
    expect(Buffer.from(value, 'base64url').toString('latin1')).not.toContain(KEY);
  });

  it('marks the cookie Secure behind an https issuer', async () => {
    const https = await startTestServer({
      env: { SESSIOND_ADMIN_API_KEYS: KEY, SESSIOND_ISSUER: 'https://sessiond.example' },
    });
    try {
      const response = await fetch(new URL('/admin/sign-in', https.url), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ key: KEY }),
      });
      expect(response.status).toBe(303);
      const header = response.headers.getSetCookie().find((c) => c.startsWith('sessiond_admin='));
      expect(header?.split('; ')).toContain('Secure');
    } finally {
      await https.close();
    }
  });

  it('serves the dashboard with a CSRF token once signed in, and its assets under the same CSP', async () => {
    const browser = await signInAdmin();
    const page = await fetch(new URL('/admin', server.url), { headers: { cookie: browser.cookie } });
    const text = await page.text();
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(text).toContain('<script type="module" src="/admin/assets/admin.js"></script>');
    expect(text).toContain('<input type="hidden" name="csrf" value="');
    expect(text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(text).not.toMatch(/\sstyle=|<style/);
    for (const [path, type] of [
      ['/admin/assets/admin.js', 'text/javascript; charset=utf-8'],
      ['/admin/assets/admin.css', 'text/css; charset=utf-8'],
    ] as const) {
      const asset = await fetch(new URL(path, server.url));
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toBe(type);
      expect(asset.headers.get('cache-control')).toBe('no-store');
      expect(asset.headers.get('content-security-policy')).toBe(CSP);
    }
  });

  it('refuses a sign-in form sent from another site', async () => {
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }]) {
      const response = await post('/admin/sign-in', form({ key: KEY }), headers);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toBe('csrf_required');
      expect(response.headers.getSetCookie()).toEqual([]);
    }
  });

  it('signs out only with the page token, and clears the cookie', async () => {
    const browser = await signInAdmin();
    const refused = await post('/admin/sign-out', form({}), { cookie: browser.cookie });
    expect(refused.status).toBe(403);
    const response = await post('/admin/sign-out', form({ csrf: browser.csrf }), { cookie: browser.cookie });
    expect(response.status).toBe(200);
    const header = response.headers.getSetCookie().find((c) => c.startsWith('sessiond_admin='));
    expect(header).toMatch(/^sessiond_admin=; Max-Age=0; Path=\/admin; HttpOnly; SameSite=Strict/);
    expect(await response.text()).toContain('You are signed out.');
  });
});

describe('the cookie', () => {
  it('is required by /admin/api; an altered cookie or the admin key as a Bearer does not do', async () => {
    const browser = await signInAdmin();
    const altered = `${browser.cookie.slice(0, -4)}AAAA`;
    for (const headers of [{}, { cookie: altered }, { authorization: `Bearer ${KEY}` }]) {
      const response = await api(undefined, 'GET', '/logs', { headers });
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('admin_key_invalid');
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    // Unknown routes answer 401 too before the cookie is checked: nothing to probe.
    expect((await api(undefined, 'GET', '/nope')).status).toBe(401);
    expect((await api(browser, 'GET', '/nope')).status).toBe(404);
  });

  it('stops working at once when its key is deleted', async () => {
    const store = new AdminStore(server.app.sessiond.database);
    const created = await createAdminKey(store, { name: 'dashboard test', now: Date.now() });
    const browser = await signInAdmin(created.key);
    expect((await api(browser, 'GET', '/logs?limit=1')).status).toBe(200);
    expect(await store.deleteKey(created.id)).toBe(true);
    const after = await api(browser, 'GET', '/logs?limit=1');
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('admin_key_invalid');
    // The page itself falls back to the key form.
    const page = await fetch(new URL('/admin', server.url), { headers: { cookie: browser.cookie } });
    expect(await page.text()).toContain('<label for="admin-key">');
  });

  it('expires after 8 hours even while its key is valid', async () => {
    const browser = await signInAdmin();
    server.clock.advance(8 * 3600 * 1000);
    try {
      expect((await api(browser, 'GET', '/logs?limit=1')).status).toBe(401);
    } finally {
      server.clock.advance(-8 * 3600 * 1000);
    }
  });

  it('does not authenticate the key-based /api/admin', async () => {
    const browser = await signInAdmin();
    const response = await request(server.url, 'GET', '/api/admin/logs', {
      headers: { cookie: browser.cookie },
    });
    expect(response.status).toBe(401);
  });
});

describe('CSRF', () => {
  it('refuses a state change without the token, with another cookie token, or from another site', async () => {
    const user = await signUpAndIn(server.url);
    const browser = await signInAdmin();
    const other = await signInAdmin();
    const path = `/sessions/${user.session.id}/revoke`;
    const attempts: Array<{ csrf?: string | null; headers?: Record<string, string> }> = [
      { csrf: null },
      { csrf: other.csrf },
      { csrf: 'x' },
      { headers: { 'sec-fetch-site': 'cross-site' } },
      { headers: { 'sec-fetch-site': 'same-site' } },
      { headers: { origin: 'https://evil.example' } },
    ];
    for (const attempt of attempts) {
      const response = await api(browser, 'POST', path, attempt);
      expect(response.status, JSON.stringify(attempt)).toBe(403);
      expect(response.body.error).toBe('csrf_required');
    }
    // Still live: nothing was revoked.
    const sessions = await api<{ sessions: Array<{ state: string }> }>(
      browser,
      'GET',
      `/users/${user.session.user_id}/sessions`,
    );
    expect(sessions.body.sessions.map((s) => s.state)).toEqual(['live']);
    const ok = await api(browser, 'POST', path, {
      headers: { 'sec-fetch-site': 'same-origin', origin: 'http://sessiond.test' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ session_id: user.session.id, revoked: true });
  });
});

describe('users', () => {
  it('finds a user by email (as sign-in spells it), by id and by backend external id', async () => {
    const browser = await signInAdmin();
    const email = uniqueEmail();
    const user = await signUpAndIn(server.url, { email });
    const id = user.session.user_id;
    const byEmail = await api<{ users: Array<{ id: string; matched_by: string }> }>(
      browser,
      'GET',
      `/users/lookup?q=${encodeURIComponent(`  ${email.toUpperCase()} `)}`,
    );
    expect(byEmail.body.users).toEqual([expect.objectContaining({ id, email, matched_by: 'email' })]);
    const byId = await api<{ users: unknown[] }>(browser, 'GET', `/users/lookup?q=${id}`);
    expect(byId.body.users).toEqual([expect.objectContaining({ id, matched_by: 'id' })]);
    const external = `ext-${Date.now()}`;
    const grant = await backendSession(server.url, { user: { external_id: external } });
    const byExternal = await api<{ users: unknown[] }>(browser, 'GET', `/users/lookup?q=${external}`);
    expect(byExternal.body.users).toEqual([
      expect.objectContaining({ id: grant.session.user_id, matched_by: `backend:${BACKEND.id}` }),
    ]);
    const none = await api<{ users: unknown[] }>(browser, 'GET', '/users/lookup?q=nobody@example.com');
    expect(none.body.users).toEqual([]);
    expect((await api(browser, 'GET', '/users/lookup')).status).toBe(400);
  });

  it("lists a user's sessions and devices, revokes one, then all", async () => {
    const browser = await signInAdmin();
    const first = await signUpAndIn(server.url, { device: { name: 'phone' } });
    const second = (
      await request<TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
        body: { email: first.email, password: PASSWORD, device: { name: 'laptop' } },
        headers: { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'dashboard-test/1.0' },
      })
    ).body;
    const third = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
      body: { email: first.email, password: PASSWORD },
    });
    const userId = first.session.user_id;
    const sessions = await api<{ sessions: Array<Record<string, unknown>> }>(
      browser,
      'GET',
      `/users/${userId}/sessions?state=live`,
    );
    expect(sessions.body.sessions).toHaveLength(3);
    expect(sessions.body.sessions).toContainEqual(
      expect.objectContaining({
        id: second.session.id,
        ip: '203.0.113.9',
        user_agent: 'dashboard-test/1.0',
        state: 'live',
      }),
    );
    const devices = await api<{ devices: Array<{ name: string | null }> }>(
      browser,
      'GET',
      `/users/${userId}/devices`,
    );
    expect(devices.body.devices.map((d) => d.name)).toEqual(expect.arrayContaining(['phone', 'laptop']));

    const one = await api(browser, 'POST', `/sessions/${second.session.id}/revoke`);
    expect(one.body).toEqual({ session_id: second.session.id, revoked: true });
    const live = await api<{ sessions: Array<{ id: string }> }>(
      browser,
      'GET',
      `/users/${userId}/sessions?state=live`,
    );
    expect(live.body.sessions.map((s) => s.id).sort()).toEqual(
      [first.session.id, third.body.session.id].sort(),
    );
    // The revoked session's refresh token is dead.
    expect((await refresh(server.url, second.refresh_token)).status).toBe(401);

    const all = await api(browser, 'POST', `/users/${userId}/revoke-all`);
    expect(all.body).toEqual({ user_id: userId, revoked: 2 });
    const none = await api<{ sessions: unknown[] }>(browser, 'GET', `/users/${userId}/sessions?state=live`);
    expect(none.body.sessions).toEqual([]);
    expect((await api(browser, 'GET', '/users/no-such-user/sessions')).body.error).toBe('user_not_found');
  });
});

describe('audit log', () => {
  it('pages through a filtered log with keyset cursors, newest first, no row twice', async () => {
    const browser = await signInAdmin();
    const user = await signUpAndIn(server.url);
    let token = user.refresh_token;
    for (let i = 0; i < 4; i += 1) {
      server.clock.advance(1000);
      const next = await refresh(server.url, token);
      token = (next.body as TokenResponse).refresh_token;
    }
    const filter = `user_id=${user.session.user_id}&action=refresh`;
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/logs?${filter}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api<{
        logs: Array<{ id: number; action: string; created_at: string }>;
        next_cursor: string | null;
      }>(browser, 'GET', path);
      expect(page.status).toBe(200);
      for (const log of page.body.logs) expect(log.action).toBe('refresh');
      seen.push(...page.body.logs.map((log) => log.id));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    expect(pages).toBe(2);
    // The time range filter: only what happened from the second refresh on.
    const all = await api<{ logs: Array<{ created_at: string }> }>(browser, 'GET', `/logs?${filter}`);
    const from = all.body.logs[2]?.created_at as string;
    const ranged = await api<{ logs: unknown[] }>(
      browser,
      'GET',
      `/logs?${filter}&from=${encodeURIComponent(from)}`,
    );
    expect(ranged.body.logs).toHaveLength(3);
    expect((await api(browser, 'GET', '/logs?cursor=garbage')).body.error).toBe('invalid_request');
  });
});

/** Reads server-sent events from a fetch body until `until` says stop. */
async function readEvents(
  response: Response,
  until: (events: HealthEvent[]) => boolean,
): Promise<HealthEvent[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: HealthEvent[] = [];
  let buffer = '';
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (/^event: health$/m.test(frame) && data) events.push(JSON.parse(data) as HealthEvent);
      end = buffer.indexOf('\n\n');
    }
  }
  await reader.cancel();
  return events;
}

describe('health stream', () => {
  it('pushes health events computed from the metrics, and a refresh made meanwhile shows up', async () => {
    const browser = await signInAdmin();
    const refused = await fetch(new URL('/admin/api/health/stream', server.url));
    expect(refused.status).toBe(401);
    const user = await signUpAndIn(server.url);
    const response = await fetch(new URL('/admin/api/health/stream', server.url), {
      headers: { cookie: browser.cookie },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toBe(CSP);
    let refreshed = false;
    let failed = false;
    const events = await readEvents(response, (seen) => {
      const first = seen[0];
      if (first && !refreshed) {
        refreshed = true;
        void refresh(server.url, user.refresh_token).then(() => {
          failed = true;
          return refresh(server.url, 'rt_not-a-token');
        });
      }
      const last = seen.at(-1);
      return (
        failed &&
        first !== undefined &&
        last !== undefined &&
        last.refresh.total > first.refresh.total &&
        (last.refresh_failures.by_reason.refresh_token_invalid ?? 0) >
          (first.refresh_failures.by_reason.refresh_token_invalid ?? 0)
      );
    });
    const first = events[0] as HealthEvent;
    const last = events.at(-1) as HealthEvent;
    expect(Object.keys(first).sort()).toEqual(
      [
        'at',
        'refresh',
        'refresh_failures',
        'requests_per_second',
        'reuse_detections',
        'revocation_to_socket',
        'sockets',
        'step_ups',
        'webhook_backlog',
        'window_seconds',
      ].sort(),
    );
    expect(last.refresh.count).toBeGreaterThanOrEqual(1);
    expect(last.refresh.p50_ms).toBeGreaterThan(0);
    expect(last.refresh.p99_ms).toBeGreaterThanOrEqual(last.refresh.p50_ms);
    expect(events.length).toBeGreaterThanOrEqual(2);
  });

  it("counts a revocation's socket close and the open sockets", async () => {
    const browser = await signInAdmin();
    const user = await signUpAndIn(server.url);
    const socket = await openSync(server.url, { token: user.access_token });
    await socket.next('ready');
    const response = await fetch(new URL('/admin/api/health/stream', server.url), {
      headers: { cookie: browser.cookie },
    });
    let revoked = false;
    const events = await readEvents(response, (seen) => {
      const first = seen[0];
      if (first && !revoked) {
        revoked = true;
        void api(browser, 'POST', `/sessions/${user.session.id}/revoke`);
      }
      const last = seen.at(-1);
      return (
        first !== undefined &&
        last !== undefined &&
        last.revocation_to_socket.count > first.revocation_to_socket.count
      );
    });
    expect(events[0]?.sockets).toBeGreaterThanOrEqual(1);
    expect((await socket.closed).reason).toBe('session_revoked');
    expect(events.at(-1)?.revocation_to_socket.p50_ms).not.toBeNull();
  });
});

describe('shutdown', () => {
  it('ends open health streams when the server closes, so the close does not wait on them', async () => {
    const other = await startTestServer({ env: { SESSIOND_ADMIN_API_KEYS: KEY } });
    const signIn = await fetch(new URL('/admin/sign-in', other.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ key: KEY }),
    });
    const response = await fetch(new URL('/admin/api/health/stream', other.url), {
      headers: { cookie: cookieOf(signIn) },
    });
    const events = readEvents(response, () => false);
    await other.close();
    // The stream ended (the reader saw its end) rather than hanging the close.
    expect(Array.isArray(await events)).toBe(true);
  });
});
