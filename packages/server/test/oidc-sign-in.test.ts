import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { TokenResponse } from '@sessiond/protocol';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { RedirectAllowList } from '../src/oidc/redirect-allow-list.js';
import { PASSWORD, request } from './helpers/api.js';
import { RedirectBrowser } from './helpers/redirect-browser.js';
import { startTestIdP, type TestIdP } from './helpers/test-idp.js';
import { freePort, startTestServer, type TestServer } from './helpers/test-server.js';

/** The app's page after sign-in: allowed by SESSIOND_OIDC_REDIRECTS, served by nobody. */
const APP = 'http://app.test/after-sign-in';
/** A native app's loopback redirect (any port, RFC 8252 §7.3) and its private-use scheme one. */
const NATIVE_LOOPBACK = 'http://127.0.0.1/native-callback';
const NATIVE_SCHEME = 'com.example.app:/oauth';

let idp: TestIdP;
let other: TestIdP;
let server: TestServer;
let downIssuer: string;
const logs: string[] = [];

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function startURL(provider: string, params: Record<string, string>): string {
  return `${server.url}/api/auth/oidc/${provider}/start?${new URLSearchParams(params)}`;
}

/** Walks a whole sign-in: sessiond's start, the provider, sessiond's callback, to `stopAt`. */
async function signInThrough(
  browser: RedirectBrowser,
  provider: string,
  params: Record<string, string>,
  stopAt: string,
) {
  return browser.follow(startURL(provider, params), { stopAt: [stopAt] });
}

function callbackHop(hops: { url: string }[]): number {
  return hops.findIndex((hop) => hop.url.includes('/callback'));
}

async function userOfAccessCookie(browser: RedirectBrowser): Promise<string> {
  const token = browser.jar(server.url).get('sessiond_at');
  expect(token).toBeDefined();
  return String(decodeJwt(token ?? '').sub);
}

beforeAll(async () => {
  idp = await startTestIdP({ user: { sub: 'alice-at-corp', email: 'alice@example.com' } });
  other = await startTestIdP({ user: { sub: 'alice-at-corp', email: 'alice@example.com' } });
  // A provider nothing answers for: discovery fails.
  downIssuer = `http://127.0.0.1:${await freePort()}`;
  const log = new PassThrough();
  log.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  server = await startTestServer({
    issuerIsURL: true,
    logDestination: log,
    env: {
      SESSIOND_LOG_LEVEL: 'info',
      SESSIOND_OIDC_PROVIDERS: JSON.stringify([
        { name: 'corp', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret },
        { name: 'other', issuer: other.issuer, client_id: other.clientId, client_secret: other.clientSecret },
        { name: 'down', issuer: downIssuer, client_id: 'x' },
      ]),
      SESSIOND_OIDC_REDIRECTS: [APP, NATIVE_LOOPBACK, NATIVE_SCHEME].join(','),
    },
  });
  await idp.register([`${server.url}/api/auth/oidc/corp/callback`]);
  await other.register([`${server.url}/api/auth/oidc/other/callback`]);
});

afterAll(async () => {
  await server?.close();
  await idp?.close();
  await other?.close();
});

beforeEach(() => {
  idp.nextLogin = { user: { sub: 'alice-at-corp', email: 'alice@example.com' } };
  idp.tamperIDToken = undefined;
});

describe('web sign-in (cookie transport)', () => {
  it('signs in through the provider, sets the session cookies and returns to the allowed target', async () => {
    const browser = new RedirectBrowser();
    const { hops, final } = await signInThrough(browser, 'corp', { redirect: APP }, APP);
    expect(final).toBe(APP);
    expect(hops[0]?.status).toBe(303);
    expect(hops[0]?.location?.startsWith(`${idp.issuer}/auth?`)).toBe(true);
    const authorize = new URL(hops[0]?.location ?? '');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('state')).toBeTruthy();
    const callback = hops[callbackHop(hops)];
    expect(callback?.status).toBe(303);
    const sessiondJar = browser.jar(server.url);
    expect(sessiondJar.get('sessiond_rt')).toMatch(/^rt_/);
    // The login state is used once: the callback clears it.
    expect(sessiondJar.get('sessiond_oidc')).toBeUndefined();
    const claims = decodeJwt(sessiondJar.get('sessiond_at') ?? '');
    expect(claims.amr).toEqual(['fed']);
    expect(claims.acr).toBe('aal1');

    const status = await request(server.url, 'GET', '/api/auth/session/status', {
      headers: { cookie: sessiondJar.header('/api/auth/session/status') },
    });
    expect(status.status).toBe(200);
    const logsResponse = await request<{ logs: { action: string }[] }>(
      server.url,
      'GET',
      '/api/auth/session/logs',
      {
        headers: { cookie: sessiondJar.header('/api/auth/session/logs') },
      },
    );
    expect(logsResponse.body.logs.map((entry) => entry.action)).toContain('login');

    // Signing in again through the same provider reaches the same user: linked by (issuer, sub).
    const again = new RedirectBrowser();
    await signInThrough(again, 'corp', { redirect: APP }, APP);
    expect(await userOfAccessCookie(again)).toBe(claims.sub);
  });

  it('a returning browser is the same device: its device cookie reaches the callback', async () => {
    idp.nextLogin = { user: { sub: 'bob-returns', email: 'bob@example.com' } };
    const browser = new RedirectBrowser();
    await signInThrough(browser, 'corp', { redirect: APP }, APP);
    const secret = browser.jar(server.url).get('sessiond_ds');
    expect(secret).toMatch(/^ds_/);
    const first = decodeJwt(browser.jar(server.url).get('sessiond_at') ?? '');
    idp.nextLogin = { user: { sub: 'bob-returns', email: 'bob@example.com' } };
    await signInThrough(browser, 'corp', { redirect: APP }, APP);
    const second = decodeJwt(browser.jar(server.url).get('sessiond_at') ?? '');
    expect(second.sid).not.toBe(first.sid);
    expect(second.did).toBe(first.did);
    const devices = await request<{ devices: Array<{ id: string }> }>(
      server.url,
      'GET',
      '/api/auth/devices',
      {
        headers: { cookie: browser.jar(server.url).header('/api/auth/devices') },
      },
    );
    expect(devices.body.devices.map((d) => d.id)).toEqual([first.did]);
    // Another browser is another device.
    idp.nextLogin = { user: { sub: 'bob-returns', email: 'bob@example.com' } };
    const other = new RedirectBrowser();
    await signInThrough(other, 'corp', { redirect: APP }, APP);
    expect(decodeJwt(other.jar(server.url).get('sessiond_at') ?? '').did).not.toBe(first.did);
  });

  it('without redirect=, the default target (sessiond’s own origin) must be on the list too', async () => {
    const browser = new RedirectBrowser();
    const start = await browser.get(startURL('corp', {}));
    // The issuer's origin is not on this server's list (SESSIOND_OIDC_REDIRECTS replaces the default).
    expect(start.status).toBe(400);
    expect(JSON.parse(start.body).error).toBe('redirect_not_allowed');
  });

  it('links by (issuer, sub): the same sub and email at another provider is another account, and an email never reaches a password account', async () => {
    const signup = await request(server.url, 'POST', '/api/auth/signup', {
      body: { email: 'alice@example.com', password: PASSWORD },
    });
    expect(signup.status).toBe(201);
    const passwordUser = (signup.body as { user: { id: string } }).user.id;

    const atCorp = new RedirectBrowser();
    await signInThrough(atCorp, 'corp', { redirect: APP }, APP);
    const atOther = new RedirectBrowser();
    await signInThrough(atOther, 'other', { redirect: APP }, APP);
    const corpUser = await userOfAccessCookie(atCorp);
    const otherUser = await userOfAccessCookie(atOther);
    expect(corpUser).not.toBe(otherUser);
    expect(corpUser).not.toBe(passwordUser);
    expect(otherUser).not.toBe(passwordUser);
    const links = await server.app.sessiond.store.listUserLinks(corpUser);
    expect(links.map((link) => [link.source, link.subject])).toEqual([
      [`oidc:${idp.issuer}`, 'alice-at-corp'],
    ]);
  });

  it('a provider error comes back to the target as error=oidc_provider_error, with no session', async () => {
    idp.nextLogin = { error: 'access_denied', description: 'the user cancelled' };
    const browser = new RedirectBrowser();
    const { final } = await signInThrough(browser, 'corp', { redirect: APP }, APP);
    const url = new URL(final);
    expect(`${url.origin}${url.pathname}`).toBe(APP);
    expect(url.searchParams.get('error')).toBe('oidc_provider_error');
    expect(url.searchParams.get('provider_error')).toBe('access_denied');
    expect(browser.jar(server.url).get('sessiond_at')).toBeUndefined();
  });
});

describe('the login state is bound to the browser that started', () => {
  /** Runs a sign-in up to the callback, and returns the callback URL without fetching it. */
  async function untilCallback(browser: RedirectBrowser): Promise<string> {
    const callback = `${server.url}/api/auth/oidc/corp/callback`;
    const { final } = await signInThrough(browser, 'corp', { redirect: APP }, callback);
    expect(final.startsWith(callback)).toBe(true);
    return final;
  }

  it('refuses a callback whose state was altered', async () => {
    const browser = new RedirectBrowser();
    const callback = new URL(await untilCallback(browser));
    callback.searchParams.set('state', `${callback.searchParams.get('state')}x`);
    const hop = await browser.get(callback.href);
    expect(hop.status).toBe(400);
    expect(JSON.parse(hop.body).error).toBe('oidc_state_invalid');
    expect(browser.jar(server.url).get('sessiond_at')).toBeUndefined();
  });

  it('refuses an altered login-state cookie', async () => {
    const browser = new RedirectBrowser();
    const callback = await untilCallback(browser);
    const jar = browser.jar(server.url);
    const sealed = jar.get('sessiond_oidc') ?? '';
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1);
    jar.put('sessiond_oidc', flipped, '/api/auth/oidc');
    const hop = await browser.get(callback);
    expect(hop.status).toBe(400);
    expect(JSON.parse(hop.body).error).toBe('oidc_state_invalid');
  });

  it('refuses a callback delivered to another browser (login CSRF, a swapped response)', async () => {
    const attacker = new RedirectBrowser();
    const callback = await untilCallback(attacker);
    const victim = new RedirectBrowser();
    // The victim has a sign-in of their own under way: its state is not the attacker's.
    await untilCallback(victim);
    const hop = await victim.get(callback);
    expect(hop.status).toBe(400);
    expect(JSON.parse(hop.body).error).toBe('oidc_state_invalid');
    // And without any login state at all.
    const bare = await new RedirectBrowser().get(callback);
    expect(JSON.parse(bare.body).error).toBe('oidc_state_invalid');
  });

  it('refuses the same callback twice (the state cookie is spent)', async () => {
    const browser = new RedirectBrowser();
    const callback = await untilCallback(browser);
    const first = await browser.get(callback);
    expect(first.status).toBe(303);
    const second = await browser.get(callback);
    expect(JSON.parse(second.body).error).toBe('oidc_state_invalid');
  });
});

describe('the ID token is validated', () => {
  it('accepts an ID token re-signed unchanged with the provider’s key (the tamper hook itself is sound)', async () => {
    idp.tamperIDToken = async (payload) => ({ payload, key: 'own' });
    const browser = new RedirectBrowser();
    const { final } = await signInThrough(browser, 'corp', { redirect: APP }, APP);
    expect(final).toBe(APP);
  });

  it('refuses an ID token with another nonce', async () => {
    idp.tamperIDToken = async (payload) => ({ payload: { ...payload, nonce: 'not-the-nonce' }, key: 'own' });
    const browser = new RedirectBrowser();
    const { final } = await signInThrough(browser, 'corp', { redirect: APP }, APP);
    expect(new URL(final).searchParams.get('error')).toBe('oidc_login_failed');
    expect(browser.jar(server.url).get('sessiond_at')).toBeUndefined();
  });

  it('refuses an ID token signed by another key (same kid)', async () => {
    idp.tamperIDToken = async (payload) => ({ payload, key: 'stranger' });
    const browser = new RedirectBrowser();
    const { final } = await signInThrough(browser, 'corp', { redirect: APP }, APP);
    expect(new URL(final).searchParams.get('error')).toBe('oidc_login_failed');
    expect(browser.jar(server.url).get('sessiond_at')).toBeUndefined();
  });
});

describe('redirect targets', () => {
  it.each([
    ['another site', 'https://evil.test/after-sign-in'],
    ['another path on an allowed host', 'http://app.test/admin'],
    ['a path that resolves elsewhere', 'http://app.test/after-sign-in/../admin'],
    ['credentials in the URL', 'http://user@app.test/after-sign-in'],
    ['a scheme lookalike', 'com.example.evil:/oauth'],
    ['a loopback path not listed', 'http://127.0.0.1:4000/other'],
    ['not a URL', '//evil.test'],
  ])('refuses %s before going to the provider', async (_name, target) => {
    const hop = await new RedirectBrowser().get(startURL('corp', { redirect: target }));
    expect(hop.status).toBe(400);
    expect(JSON.parse(hop.body).error).toBe('redirect_not_allowed');
    expect(hop.location).toBeUndefined();
  });

  it('answers 502 oidc_provider_unavailable when the provider cannot be discovered, and tries again later', async () => {
    const first = await new RedirectBrowser().get(startURL('down', { redirect: APP }));
    expect(first.status).toBe(502);
    expect(JSON.parse(first.body).error).toBe('oidc_provider_unavailable');
    // The failure is not cached: the next start asks again (and fails again, nothing listens).
    const second = await new RedirectBrowser().get(startURL('down', { redirect: APP }));
    expect(JSON.parse(second.body).error).toBe('oidc_provider_unavailable');
    // A callback for it without a login state is refused before anything else.
    const callback = await new RedirectBrowser().get(
      `${server.url}/api/auth/oidc/down/callback?code=x&state=y`,
    );
    expect(JSON.parse(callback.body).error).toBe('oidc_state_invalid');
  });

  it('refuses an unknown provider with oidc_provider_unknown', async () => {
    const hop = await new RedirectBrowser().get(startURL('nobody', { redirect: APP }));
    expect(hop.status).toBe(404);
    expect(JSON.parse(hop.body).error).toBe('oidc_provider_unknown');
  });

  it('matches entries as documented', () => {
    const list = new RedirectAllowList(
      ['https://shop.test/', 'https://app.test/cb', 'http://127.0.0.1/native', 'com.example.app:/oauth'],
      'http://sessiond.test',
    );
    expect(list.check('https://shop.test/any/path?x=1')).toBeDefined();
    expect(list.check('https://shop.test:8443/')).toBeUndefined();
    expect(list.check('http://shop.test/')).toBeUndefined();
    expect(list.check('https://app.test/cb?next=1')).toBeDefined();
    expect(list.check('https://app.test/cb/more')).toBeUndefined();
    expect(list.check('http://127.0.0.1:53123/native')).toBeDefined();
    expect(list.check('http://127.0.0.1:53123/other')).toBeUndefined();
    expect(list.check('com.example.app:/oauth')).toBeDefined();
    expect(list.check('com.example.app:/other')).toBeUndefined();
    expect(list.check('https://shop.test/#frag')).toBeUndefined();
    // The default (no entries): sessiond's own origin.
    const fallback = new RedirectAllowList([], 'http://sessiond.test');
    expect(fallback.check('http://sessiond.test/welcome')).toBeDefined();
    expect(fallback.check('http://other.test/')).toBeUndefined();
  });
});

describe('native apps (RFC 8252): one-time code and PKCE', () => {
  async function nativeSignIn(redirect = NATIVE_LOOPBACK.replace('127.0.0.1', '127.0.0.1:51234')) {
    const { verifier, challenge } = pkce();
    const browser = new RedirectBrowser();
    const { final } = await signInThrough(
      browser,
      'corp',
      { redirect, code_challenge: challenge, code_challenge_method: 'S256', state: 'app-state-1' },
      redirect,
    );
    const url = new URL(final);
    return { url, verifier, code: url.searchParams.get('code') ?? '', browser };
  }

  it('hands the app a code it exchanges with its verifier for a bearer TokenResponse', async () => {
    const { url, code, verifier, browser } = await nativeSignIn();
    expect(url.searchParams.get('state')).toBe('app-state-1');
    expect(code).toMatch(/^oc_/);
    // No cookie session for the browser: the app gets the tokens.
    expect(browser.jar(server.url).get('sessiond_at')).toBeUndefined();
    const exchange = await request<TokenResponse>(server.url, 'POST', '/api/auth/oidc/exchange', {
      body: { code, code_verifier: verifier, device: { id: 'phone-app-0001', name: 'Phone' } },
    });
    expect(exchange.status).toBe(200);
    expect(exchange.body.token_type).toBe('Bearer');
    expect(exchange.body.refresh_token).toMatch(/^rt_/);
    expect(exchange.body.session.device_id).toBe('phone-app-0001');
    expect(decodeJwt(exchange.body.access_token).amr).toEqual(['fed']);
    const status = await request(server.url, 'GET', '/api/auth/session/status', {
      token: exchange.body.access_token,
    });
    expect(status.status).toBe(200);
  });

  it('works with a private-use scheme redirect', async () => {
    const { url, code } = await nativeSignIn(NATIVE_SCHEME);
    expect(url.protocol).toBe('com.example.app:');
    expect(code).toMatch(/^oc_/);
  });

  it('refuses a replayed code and revokes the session its first use opened', async () => {
    const { code, verifier } = await nativeSignIn();
    const first = await request<TokenResponse>(server.url, 'POST', '/api/auth/oidc/exchange', {
      body: { code, code_verifier: verifier },
    });
    expect(first.status).toBe(200);
    const replay = await request(server.url, 'POST', '/api/auth/oidc/exchange', {
      body: { code, code_verifier: verifier },
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('oidc_code_reused');
    const refresh = await request(server.url, 'POST', '/api/auth/session/refresh', {
      body: { refresh_token: first.body.refresh_token },
    });
    expect(refresh.status).toBe(401);
    expect(refresh.body.error).toBe('session_revoked');
  });

  it('refuses a wrong code_verifier, an unknown code and an expired one', async () => {
    const wrong = await nativeSignIn();
    const refused = await request(server.url, 'POST', '/api/auth/oidc/exchange', {
      body: { code: wrong.code, code_verifier: pkce().verifier },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('oidc_code_invalid');

    const unknown = await request(server.url, 'POST', '/api/auth/oidc/exchange', {
      body: { code: `oc_${randomBytes(32).toString('base64url')}`, code_verifier: pkce().verifier },
    });
    expect(unknown.body.error).toBe('oidc_code_invalid');

    const late = await nativeSignIn();
    server.clock.advance(61_000);
    const expired = await request(server.url, 'POST', '/api/auth/oidc/exchange', {
      body: { code: late.code, code_verifier: late.verifier },
    });
    expect(expired.body.error).toBe('oidc_code_invalid');
  });

  it('refuses a challenge method other than S256', async () => {
    const hop = await new RedirectBrowser().get(
      startURL('corp', {
        redirect: NATIVE_SCHEME,
        code_challenge: pkce().challenge,
        code_challenge_method: 'plain',
      }),
    );
    expect(hop.status).toBe(400);
    expect(JSON.parse(hop.body).error).toBe('invalid_request');
  });
});

describe('secrets stay out of the logs', () => {
  it('logs neither the provider’s code, the app’s code, nor the client secret', async () => {
    const browser = new RedirectBrowser();
    const callback = `${server.url}/api/auth/oidc/corp/callback`;
    const { final } = await signInThrough(browser, 'corp', { redirect: APP }, callback);
    const providerCode = new URL(final).searchParams.get('code') ?? '';
    await browser.get(final);
    const { verifier, challenge } = pkce();
    const native = await signInThrough(
      new RedirectBrowser(),
      'corp',
      { redirect: NATIVE_SCHEME, code_challenge: challenge, code_challenge_method: 'S256' },
      NATIVE_SCHEME,
    );
    const appCode = new URL(native.final).searchParams.get('code') ?? '';
    await request(server.url, 'POST', '/api/auth/oidc/exchange', {
      body: { code: appCode, code_verifier: verifier },
    });
    const text = logs.join('');
    expect(text).toContain('/api/auth/oidc/corp/callback');
    expect(providerCode.length).toBeGreaterThan(10);
    expect(text).not.toContain(providerCode);
    expect(text).not.toContain(appCode);
    expect(text).not.toContain(verifier);
    expect(text).not.toContain(idp.clientSecret);
  });
});

describe('configuration', () => {
  const base = { SESSIOND_ISSUER: 'https://sessiond.test' };
  it.each([
    ['not JSON', '{'],
    [
      'an http issuer off loopback',
      JSON.stringify([{ name: 'a', issuer: 'http://idp.test', client_id: 'x' }]),
    ],
    [
      'a name twice',
      JSON.stringify([
        { name: 'a', issuer: 'https://one.test', client_id: 'x' },
        { name: 'a', issuer: 'https://two.test', client_id: 'x' },
      ]),
    ],
    [
      'an issuer twice',
      JSON.stringify([
        { name: 'a', issuer: 'https://one.test', client_id: 'x' },
        { name: 'b', issuer: 'https://one.test', client_id: 'x' },
      ]),
    ],
    [
      'a scope without openid',
      JSON.stringify([{ name: 'a', issuer: 'https://one.test', client_id: 'x', scope: 'email' }]),
    ],
    [
      'an unknown field',
      JSON.stringify([{ name: 'a', issuer: 'https://one.test', client_id: 'x', secret: 'y' }]),
    ],
    ['an upper-case name', JSON.stringify([{ name: 'Corp', issuer: 'https://one.test', client_id: 'x' }])],
  ])('refuses SESSIOND_OIDC_PROVIDERS with %s', (_name, value) => {
    expect(() => loadConfig({ ...base, SESSIOND_OIDC_PROVIDERS: value })).toThrow(/SESSIOND_OIDC_PROVIDERS/);
  });

  it('refuses a redirect entry that is neither http(s) nor a reverse-domain scheme', () => {
    expect(() => loadConfig({ ...base, SESSIOND_OIDC_REDIRECTS: 'javascript:alert(1)' })).toThrow(
      /SESSIOND_OIDC_REDIRECTS/,
    );
    expect(() => loadConfig({ ...base, SESSIOND_OIDC_REDIRECTS: 'https://app.test/#x' })).toThrow(
      /SESSIOND_OIDC_REDIRECTS/,
    );
  });

  it('reads providers with their defaults', () => {
    const config = loadConfig({
      ...base,
      SESSIOND_OIDC_PROVIDERS: JSON.stringify([
        { name: 'corp', issuer: 'https://login.corp.test', client_id: 'c' },
      ]),
    });
    expect(config.oidcProviders).toEqual([
      {
        name: 'corp',
        issuer: 'https://login.corp.test',
        clientId: 'c',
        clientSecret: undefined,
        scope: 'openid email profile',
      },
    ]);
    expect(config.oidcRedirects).toEqual([]);
  });
});
