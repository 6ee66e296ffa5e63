import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenResponse } from '@sessiond/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { SessionStore } from '../src/store/session-store.js';
import { type APIResponse, PASSWORD, request, signUpAndIn, uniqueEmail } from './helpers/api.js';
import { CookieJar, type SetCookie, setCookies } from './helpers/cookies.js';
import { letPasswordCountAgain } from './helpers/step-up.js';
import { TestClock } from './helpers/test-clock.js';
import { startTestServer, TEST_SECRET, type TestServer } from './helpers/test-server.js';

const COOKIE_MODE = { 'x-sessiond-transport': 'cookie' };
const CSRF = { 'x-sessiond-csrf': '1' };
const FOURTEEN_DAYS = 14 * 86_400;

type Body = Record<string, unknown>;

/** A browser tab: its cookie jar, and requests that carry (and update) it. */
class Browser {
  readonly jar = new CookieJar();

  constructor(readonly baseURL: string) {}

  async call<T = Body>(
    method: string,
    path: string,
    options: { body?: Body; headers?: Record<string, string> } = {},
  ): Promise<APIResponse<T>> {
    const cookie = this.jar.header(path);
    const response = await request<T>(this.baseURL, method, path, {
      ...(options.body !== undefined ? { body: options.body } : {}),
      headers: { ...(cookie ? { cookie } : {}), ...options.headers },
    });
    this.jar.update(response.headers);
    return response;
  }

  /** Signs a new user up, then in, in cookie mode. */
  async signUpAndIn(headers: Record<string, string> = {}): Promise<APIResponse<Body>> {
    const email = uniqueEmail();
    const signup = await request(this.baseURL, 'POST', '/api/auth/signup', {
      body: { email, password: PASSWORD },
    });
    expect(signup.status).toBe(201);
    return this.call('POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD },
      headers: { ...COOKIE_MODE, ...headers },
    });
  }

  refresh(headers: Record<string, string> = CSRF, body: Body = {}): Promise<APIResponse<Body>> {
    return this.call('POST', '/api/auth/session/refresh', { body, headers: { ...COOKIE_MODE, ...headers } });
  }
}

/** Asserts a response cleared both cookies: empty value, Max-Age=0, the attributes they were set with. */
function expectCleared(cookies: Map<string, SetCookie>, names: { access: string; refresh: string }): void {
  expect(cookies.get(names.access)).toEqual({
    name: names.access,
    value: '',
    attributes: { 'max-age': '0', path: '/', httponly: true, samesite: 'Lax' },
  });
  expect(cookies.get(names.refresh)).toEqual({
    name: names.refresh,
    value: '',
    attributes: { 'max-age': '0', path: '/api/auth/session', httponly: true, samesite: 'Strict' },
  });
}

const PLAIN = { access: 'sessiond_at', refresh: 'sessiond_rt' };

describe('cookie transport (plain http issuer)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SESSIOND_REFRESH_GRACE_SECONDS: '10' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('sign-in sets both cookies with the exact attributes, and the body carries no token', async () => {
    const browser = new Browser(server.url);
    const response = await browser.signUpAndIn();
    expect(response.status).toBe(200);
    const cookies = setCookies(response.headers);
    expect([...cookies.keys()].sort()).toEqual(['sessiond_at', 'sessiond_ds', 'sessiond_rt']);
    const access = cookies.get('sessiond_at')!;
    const refresh = cookies.get('sessiond_rt')!;
    // The device secret (decision 017): HttpOnly, on the session endpoints, outliving sessions.
    expect(cookies.get('sessiond_ds')?.value).toMatch(/^ds_[A-Za-z0-9_-]{43}$/);
    expect(cookies.get('sessiond_ds')?.attributes).toEqual({
      httponly: true,
      path: '/api/auth',
      samesite: 'Strict',
      'max-age': String(400 * 86_400),
    });
    expect(access.value).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(access.attributes).toEqual({ httponly: true, path: '/', samesite: 'Lax', 'max-age': '900' });
    expect(refresh.value).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    // Max-Age runs to the session's absolute deadline: the whole lifetime, right after sign-in.
    expect(refresh.attributes).toEqual({
      httponly: true,
      path: '/api/auth/session',
      samesite: 'Strict',
      'max-age': String(FOURTEEN_DAYS),
    });
    expect(Object.keys(response.body).sort()).toEqual(['device', 'expires_in', 'session', 'token_type']);
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, device: { new: true } });
    expect(JSON.stringify(response.body)).not.toContain(access.value);
    expect(JSON.stringify(response.body)).not.toContain(refresh.value);
    expect(JSON.stringify(response.body)).not.toContain('ds_');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('the device cookie makes the next sign-in the same device, for any user of the browser; sign-out keeps it', async () => {
    const browser = new Browser(server.url);
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    const signIn = (who: string, deviceId?: string, tab = browser) =>
      tab.call('POST', '/api/auth/session/create', {
        body: { email: who, password: PASSWORD, ...(deviceId ? { device: { id: deviceId } } : {}) },
        headers: COOKIE_MODE,
      });
    const first = await signIn(email);
    const deviceId = (first.body.device as { id: string }).id;
    const secret = browser.jar.get('sessiond_ds');
    expect(secret).toMatch(/^ds_/);
    const logout = await browser.call('POST', '/api/auth/session/logout', { body: {}, headers: CSRF });
    expect(logout.status).toBe(200);
    expect(setCookies(logout.headers).has('sessiond_ds')).toBe(false);

    const again = await signIn(email, deviceId);
    expect(again.body.device).toEqual({ id: deviceId, trusted: false, new: false });
    expect(setCookies(again.headers).has('sessiond_ds')).toBe(false);

    // Another user of the same browser is new on the device, which keeps its id and its one secret.
    const other = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email: other, password: PASSWORD } });
    expect((await signIn(other, deviceId)).body.device).toEqual({ id: deviceId, trusted: false, new: true });
    expect(browser.jar.get('sessiond_ds')).toBe(secret);
    expect((await signIn(email, deviceId)).body.device).toMatchObject({ id: deviceId, new: false });

    // Another browser naming that id, without the cookie, is a new device with a secret of its own.
    const stranger = new Browser(server.url);
    const copied = await signIn(email, deviceId, stranger);
    expect(copied.body.device).toMatchObject({ trusted: false, new: true });
    expect((copied.body.device as { id: string }).id).not.toBe(deviceId);
    expect(stranger.jar.get('sessiond_ds')).not.toBe(secret);
  });

  it('reads need only the access cookie, without the anti-CSRF header', async () => {
    const browser = new Browser(server.url);
    const signIn = await browser.signUpAndIn();
    const status = await browser.call<{ session: { id: string } }>('GET', '/api/auth/session/status');
    expect(status.status).toBe(200);
    expect(status.body.session.id).toBe((signIn.body.session as { id: string }).id);
    expect((await browser.call('GET', '/api/auth/devices')).status).toBe(200);
    // No cookie at all is still token_missing.
    expect((await request(server.url, 'GET', '/api/auth/session/status')).body).toMatchObject({
      error: 'token_missing',
    });
  });

  it('a cookie-authenticated POST needs x-sessiond-csrf: 1, else 403 csrf_required', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    const bare = await browser.call('POST', '/api/auth/session/touch');
    expect(bare.status).toBe(403);
    expect(bare.body).toEqual({
      error: 'csrf_required',
      message: 'State-changing cookie requests need the anti-CSRF header',
    });
    const wrongValue = await browser.call('POST', '/api/auth/session/touch', {
      headers: { 'x-sessiond-csrf': 'true' },
    });
    expect(wrongValue.body).toMatchObject({ error: 'csrf_required' });
    const touched = await browser.call('POST', '/api/auth/session/touch', { headers: CSRF });
    expect(touched.status).toBe(200);
    expect(touched.body).toHaveProperty('session');
  });

  it('a cookie-authenticated DELETE needs the header too', async () => {
    const browser = new Browser(server.url);
    const signIn = await browser.signUpAndIn();
    const deviceId = (signIn.body.device as { id: string }).id;
    const refused = await browser.call('DELETE', `/api/auth/devices/${deviceId}`);
    expect(refused.body).toMatchObject({ error: 'csrf_required' });
    expect((await browser.call('GET', '/api/auth/session/status')).status).toBe(200);
    const forgotten = await browser.call('DELETE', `/api/auth/devices/${deviceId}`, { headers: CSRF });
    expect(forgotten.body).toEqual({ forgotten: true });
  });

  it('logout by cookie needs the header, then ends the session and clears both cookies', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    const accessCookie = browser.jar.get('sessiond_at')!;
    const refused = await browser.call('POST', '/api/auth/session/logout');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'csrf_required' });
    // A refused request clears nothing, or any page could sign the user out.
    expect(refused.headers.getSetCookie()).toEqual([]);
    expect((await browser.call('GET', '/api/auth/session/status')).status).toBe(200);

    const logout = await browser.call('POST', '/api/auth/session/logout', { headers: CSRF });
    expect(logout.status).toBe(200);
    expect(logout.body).toEqual({ logged_out: true });
    expectCleared(setCookies(logout.headers), PLAIN);
    expect(browser.jar.get('sessiond_at')).toBeUndefined();
    const after = await request(server.url, 'GET', '/api/auth/session/status', {
      headers: { cookie: `sessiond_at=${accessCookie}` },
    });
    expect(after.body).toMatchObject({ error: 'session_revoked' });
  });

  it('a cookie-authenticated POST from a foreign Origin is 403 even with the header', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    for (const origin of ['http://evil.test', 'null', 'http://sessiond.test:8080', 'https://sessiond.test']) {
      const response = await browser.call('POST', '/api/auth/session/touch', {
        headers: { ...CSRF, origin },
      });
      expect(response.status, origin).toBe(403);
      expect(response.body).toMatchObject({ error: 'csrf_required' });
    }
    // The issuer's own origin is fine (SESSIOND_ISSUER is http://sessiond.test in these tests).
    const own = await browser.call('POST', '/api/auth/session/touch', {
      headers: { ...CSRF, origin: 'http://sessiond.test' },
    });
    expect(own.status).toBe(200);
  });

  it('refresh by cookie needs the header; with it the refresh cookie rotates', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    const first = { at: browser.jar.get('sessiond_at')!, rt: browser.jar.get('sessiond_rt')! };

    const refused = await browser.refresh({});
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'csrf_required' });
    expect(refused.headers.getSetCookie()).toEqual([]);

    server.clock.advance(60_000);
    const refreshed = await browser.refresh();
    expect(refreshed.status).toBe(200);
    expect(Object.keys(refreshed.body).sort()).toEqual(['device', 'expires_in', 'session', 'token_type']);
    const cookies = setCookies(refreshed.headers);
    expect(cookies.get('sessiond_rt')?.value).toMatch(/^rt_/);
    expect(browser.jar.get('sessiond_rt')).not.toBe(first.rt);
    expect(browser.jar.get('sessiond_at')).not.toBe(first.at);
    // A minute of the session's lifetime is gone, and so is a minute of the refresh cookie's.
    expect(cookies.get('sessiond_rt')?.attributes['max-age']).toBe(String(FOURTEEN_DAYS - 60));
    expect(cookies.get('sessiond_at')?.attributes['max-age']).toBe('900');

    // No body at all is fine too, and the new cookie keeps the chain going.
    const again = await browser.call('POST', '/api/auth/session/refresh', {
      headers: { ...COOKIE_MODE, ...CSRF },
    });
    expect(again.status).toBe(200);
  });

  it('the old refresh cookie replayed after the grace window is reuse: 401, session revoked, cookies cleared', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    const stolen = browser.jar.get('sessiond_rt')!;
    expect((await browser.refresh()).status).toBe(200);
    const successor = browser.jar.get('sessiond_rt')!;

    // Inside the grace window the replaced cookie still yields the same successor.
    const thief = new Browser(server.url);
    thief.jar.put('sessiond_rt', stolen, '/api/auth/session');
    const honestRace = await thief.refresh();
    expect(honestRace.status).toBe(200);
    expect(thief.jar.get('sessiond_rt')).toBe(successor);

    server.clock.advance(10_000);
    thief.jar.put('sessiond_rt', stolen, '/api/auth/session');
    const replay = await thief.refresh();
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: 'refresh_token_reused' });
    expectCleared(setCookies(replay.headers), PLAIN);
    expect((await browser.refresh()).body).toMatchObject({ error: 'session_revoked' });
    expect(browser.jar.get('sessiond_rt')).toBeUndefined();
  });

  it('a cookie refresh from a foreign Origin is 403 and leaves the cookies alone', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    const refused = await browser.refresh({ ...CSRF, origin: 'http://evil.test' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'csrf_required' });
    expect(refused.headers.getSetCookie()).toEqual([]);
    expect((await browser.refresh({ ...CSRF, origin: 'http://sessiond.test' })).status).toBe(200);
  });

  it('a cookie refresh without a refresh cookie is 401 and clears the cookies', async () => {
    const response = await new Browser(server.url).refresh();
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: 'refresh_token_invalid',
      message: 'no refresh token: the refresh cookie is missing',
    });
    expectCleared(setCookies(response.headers), PLAIN);
  });

  it('a cookie refresh may name the token in the body when there is no cookie yet (moving from bearer)', async () => {
    const grant = await signUpAndIn(server.url);
    const browser = new Browser(server.url);
    const response = await browser.refresh(CSRF, { refresh_token: grant.refresh_token });
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('refresh_token');
    expect(browser.jar.get('sessiond_rt')).toMatch(/^rt_/);
    // The body token was consumed like any refresh: its cookie successor is the live one now.
    expect(browser.jar.get('sessiond_rt')).not.toBe(grant.refresh_token);
  });

  it('sign-in in cookie mode from a foreign Origin is 403 (login CSRF)', async () => {
    const browser = new Browser(server.url);
    const response = await browser.signUpAndIn({ origin: 'http://evil.test' });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: 'csrf_required' });
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('an unknown x-sessiond-transport value is 400, not a silent fall-back to bearer', async () => {
    const browser = new Browser(server.url);
    const response = await browser.signUpAndIn({ 'x-sessiond-transport': 'cookies' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_request' });
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('step-up in cookie mode answers with fresh cookies', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    const before = browser.jar.get('sessiond_rt');
    const issuedBefore = (await browser.call('GET', '/api/auth/session/status')).body.token;
    // The password counts again once the sign-in is old enough (decision 024).
    letPasswordCountAgain(server);
    const refused = await browser.call('POST', '/api/auth/session/step-up', {
      body: { password: PASSWORD },
      headers: COOKIE_MODE,
    });
    expect(refused.body).toMatchObject({ error: 'csrf_required' });
    const stepUp = await browser.call('POST', '/api/auth/session/step-up', {
      body: { password: PASSWORD },
      headers: { ...COOKIE_MODE, ...CSRF },
    });
    expect(stepUp.status).toBe(200);
    expect(stepUp.body).not.toHaveProperty('access_token');
    expect(stepUp.body).toMatchObject({ session: { acr: 'aal1' } });
    expect(browser.jar.get('sessiond_rt')).not.toBe(before);
    const after = (await browser.call('GET', '/api/auth/session/status')).body;
    expect(after).toMatchObject({ session: { acr: 'aal1' } });
    // The cookies carry the step-up's fresh access token.
    expect(after.token).not.toEqual(issuedBefore);
  });

  it('revoke-all by cookie clears the cookies, but not with keep_current', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    const kept = await browser.call('POST', '/api/auth/session/revoke-all', {
      body: { keep_current: true },
      headers: CSRF,
    });
    expect(kept.status).toBe(200);
    expect(kept.headers.getSetCookie()).toEqual([]);
    const all = await browser.call('POST', '/api/auth/session/revoke-all', { body: {}, headers: CSRF });
    expect(all.body).toEqual({ revoked: 1 });
    expectCleared(setCookies(all.headers), PLAIN);
  });

  it('Authorization: Bearer comes first: with that header the cookie is not looked at', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    const response = await browser.call('GET', '/api/auth/session/status', {
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'token_invalid' });
  });

  it('bearer clients are unaffected: tokens in the body, no cookies, no anti-CSRF header needed', async () => {
    const grant = await signUpAndIn(server.url);
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    const signIn = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD },
      headers: { 'x-sessiond-transport': 'bearer' },
    });
    expect(signIn.headers.getSetCookie()).toEqual([]);
    expect(signIn.body.refresh_token).toMatch(/^rt_/);
    // A bearer token is not attached by the browser, so it needs no CSRF defence, whatever the Origin.
    const touch = await request(server.url, 'POST', '/api/auth/session/touch', {
      token: grant.access_token,
      headers: { origin: 'http://evil.test' },
    });
    expect(touch.status).toBe(200);
    const refresh = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/refresh', {
      body: { refresh_token: grant.refresh_token },
    });
    expect(refresh.status).toBe(200);
    expect(refresh.body.refresh_token).toMatch(/^rt_/);
    expect(refresh.headers.getSetCookie()).toEqual([]);
    const logout = await request(server.url, 'POST', '/api/auth/session/logout', {
      token: refresh.body.access_token,
    });
    expect(logout.status).toBe(200);
    expect(logout.headers.getSetCookie()).toEqual([]);
  });

  it('sends no CORS headers when SESSIOND_CORS_ORIGINS is unset', async () => {
    const preflight = await fetch(new URL('/api/auth/session/refresh', server.url), {
      method: 'OPTIONS',
      headers: { origin: 'http://app.test', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    const get = await fetch(new URL('/healthz', server.url), { headers: { origin: 'http://app.test' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS with SESSIOND_CORS_ORIGINS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SESSIOND_CORS_ORIGINS: 'http://app.test' } });
  });
  afterAll(async () => {
    await server.close();
  });

  const preflight = (origin: string) =>
    fetch(new URL('/api/auth/session/refresh', server.url), {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-sessiond-csrf,x-sessiond-transport',
      },
    });

  it('answers a preflight from a listed origin, with credentials and the client headers', async () => {
    const response = await preflight('http://app.test');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://app.test');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE');
    expect(response.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, x-sessiond-csrf, x-sessiond-transport',
    );
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('gives any other origin no CORS header at all', async () => {
    const response = await preflight('http://evil.test');
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('access-control-allow-headers')).toBeNull();
    const get = await fetch(new URL('/healthz', server.url), { headers: { origin: 'http://evil.test' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets a listed origin use the cookie transport; another origin still gets 403', async () => {
    const browser = new Browser(server.url);
    const signIn = await browser.signUpAndIn({ origin: 'http://app.test' });
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get('access-control-allow-origin')).toBe('http://app.test');
    expect(signIn.headers.get('access-control-allow-credentials')).toBe('true');
    const touch = await browser.call('POST', '/api/auth/session/touch', {
      headers: { ...CSRF, origin: 'http://app.test' },
    });
    expect(touch.status).toBe(200);
    const refresh = await browser.refresh({ ...CSRF, origin: 'http://app.test' });
    expect(refresh.status).toBe(200);
    const foreign = await browser.call('POST', '/api/auth/session/touch', {
      headers: { ...CSRF, origin: 'http://evil.test' },
    });
    expect(foreign.body).toMatchObject({ error: 'csrf_required' });
  });
});

describe('cookie transport behind an https issuer', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SESSIOND_ISSUER: 'https://sessiond.test' } });
  });
  afterAll(async () => {
    await server.close();
  });

  const SECURE = { access: '__Host-sessiond_at', refresh: '__Secure-sessiond_rt' };

  it('sets Secure cookies under the __Host- and __Secure- names', async () => {
    const browser = new Browser(server.url);
    const response = await browser.signUpAndIn();
    const cookies = setCookies(response.headers);
    expect([...cookies.keys()].sort()).toEqual(
      [SECURE.access, '__Secure-sessiond_ds', SECURE.refresh].sort(),
    );
    // __Host- demands Secure, Path=/ and no Domain (RFC 6265bis §4.1.3.2).
    expect(cookies.get(SECURE.access)?.attributes).toEqual({
      httponly: true,
      secure: true,
      path: '/',
      samesite: 'Lax',
      'max-age': '900',
    });
    expect(cookies.get(SECURE.refresh)?.attributes).toEqual({
      httponly: true,
      secure: true,
      path: '/api/auth/session',
      samesite: 'Strict',
      'max-age': String(FOURTEEN_DAYS),
    });
  });

  it('reads the prefixed cookies, and only those', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    expect((await browser.call('GET', '/api/auth/session/status')).status).toBe(200);
    // The same token under the unprefixed name is not read: no subdomain can plant it that way.
    const unprefixed = await request(server.url, 'GET', '/api/auth/session/status', {
      headers: { cookie: `sessiond_at=${browser.jar.get(SECURE.access)}` },
    });
    expect(unprefixed.body).toMatchObject({ error: 'token_missing' });
    const refresh = await browser.refresh({ ...CSRF, origin: 'https://sessiond.test' });
    expect(refresh.status).toBe(200);
    const logout = await browser.call('POST', '/api/auth/session/logout', { headers: CSRF });
    const cleared = setCookies(logout.headers);
    expect(cleared.get(SECURE.access)).toMatchObject({
      value: '',
      attributes: { secure: true, 'max-age': '0' },
    });
    expect(cleared.get(SECURE.refresh)).toMatchObject({
      value: '',
      attributes: { secure: true, 'max-age': '0' },
    });
  });

  it('refuses the plain-http origin of the same host', async () => {
    const browser = new Browser(server.url);
    await browser.signUpAndIn();
    const response = await browser.refresh({ ...CSRF, origin: 'http://sessiond.test' });
    expect(response.body).toMatchObject({ error: 'csrf_required' });
  });
});

describe('a cookie refresh that fails for another reason than the session', () => {
  it('keeps the cookies: a storage error (500) does not sign the browser out', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-test-'));
    let storageDown = false;
    const wrapStore = (real: SessionStore) =>
      new Proxy(real, {
        get(target, key) {
          if (key === 'rotateRefreshToken' && storageDown) {
            return () => Promise.reject(new Error('storage is down'));
          }
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const app = await buildApp({
      config: loadConfig({
        SESSIOND_DATA_DIR: dataDir,
        SESSIOND_SECRET: TEST_SECRET,
        SESSIOND_LOG_LEVEL: 'silent',
        SESSIOND_ISSUER: 'http://sessiond.test',
      }),
      wrapStore,
      clock: new TestClock(),
    });
    try {
      const browser = new Browser(await app.listen({ host: '127.0.0.1', port: 0 }));
      await browser.signUpAndIn();
      storageDown = true;
      const failed = await browser.refresh();
      expect(failed.status).toBe(500);
      expect(failed.headers.getSetCookie()).toEqual([]);
      storageDown = false;
      expect((await browser.refresh()).status).toBe(200);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
