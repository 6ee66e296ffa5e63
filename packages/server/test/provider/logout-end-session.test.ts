import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/lib/crypto.js';
import type { TokenGrant } from '../../src/sessions/session-service.js';
import { refresh, signUpAndIn } from '../helpers/api.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../helpers/test-server.js';
import {
  LogoutReceiver,
  logoutClients,
  openSession,
  openSSOSession,
  until,
  verifyLogoutToken,
} from './logout-helpers.js';

const SIGNED_OUT = 'https://shop.example/signed-out';
const HOUR = 3_600_000;

let receiver: LogoutReceiver;
let server: TestServer;

beforeAll(async () => {
  receiver = await LogoutReceiver.start();
  server = await startTestServer({ env: { SESSIOND_CLIENTS: logoutClients(receiver) } });
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});

/** A browser signed in at sessiond (its SSO cookie) with a shop and a blog session under it. */
async function signedInBrowser() {
  const user = await signUpAndIn(server.url);
  const sso = await openSSOSession(server, user.email);
  const shop = await openSession(server, user.email, { clientId: 'shop', ssoSessionId: sso.session.id });
  const blog = await openSession(server, user.email, { clientId: 'blog', ssoSessionId: sso.session.id });
  const cookie = `sessiond_sso=${new SecretBox(TEST_SECRET, 'sso-session').seal(sso.session.id)}`;
  return { user, sso, shop, blog, cookie };
}

/**
 * An ID token as the code exchange issues it (decision 028: RS256 with the key ring, typ JWT,
 * sid = the app session), here signed directly with the ring.
 */
async function idTokenFor(app: TokenGrant, options: { expiredHours?: number } = {}): Promise<string> {
  const now = Math.floor(server.clock.now() / 1000) - (options.expiredHours ?? 0) * 3600;
  const { kid, privateKey } = server.app.sessiond.keys.signingKey();
  return new SignJWT({
    iss: server.app.sessiond.config.issuer,
    sub: app.session.userId,
    aud: app.session.clientId,
    azp: app.session.clientId,
    iat: now,
    exp: now + 900,
    auth_time: now,
    acr: 'aal1',
    sid: app.session.id,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .sign(privateKey);
}

function logoutURL(params: Record<string, string>): string {
  return `${server.url}/oauth/logout?${new URLSearchParams(params)}`;
}

async function get(params: Record<string, string>, cookie?: string): Promise<Response> {
  return fetch(logoutURL(params), { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

async function post(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/oauth/logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

async function ended(grant: TokenGrant): Promise<boolean> {
  return (await server.app.sessiond.store.findSession(grant.session.id))?.endedAt !== null;
}

const ENTITIES: Record<string, string> = { quot: '"', lt: '<', gt: '>', '#39': "'", '#96': '`', amp: '&' };

function hiddenFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    // As a browser reads the attribute: entities back to text.
    fields[match[1]!] = match[2]!.replace(
      /&(quot|lt|gt|#39|#96|amp);/g,
      (_, name: string) => ENTITIES[name]!,
    );
  }
  return fields;
}

describe('with a valid id_token_hint for this browser', () => {
  it('signs out at once: SSO and app sessions end, the cookie goes, back to the app with state', async () => {
    const browser = await signedInBrowser();
    const response = await get(
      {
        id_token_hint: await idTokenFor(browser.shop),
        post_logout_redirect_uri: SIGNED_OUT,
        state: 'st-123',
        ui_locales: 'fr',
      },
      browser.cookie,
    );
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${SIGNED_OUT}?state=st-123`);
    expect(response.headers.get('set-cookie')).toMatch(/^sessiond_sso=;.*Max-Age=0/);
    expect(await ended(browser.sso)).toBe(true);
    expect(await ended(browser.shop)).toBe(true);
    expect(await ended(browser.blog)).toBe(true);
    // The apps' refresh tokens are refused, and each app hears of it on its back channel.
    expect((await refresh(server.url, browser.shop.refreshToken)).body.error).toBe('session_revoked');
    expect((await refresh(server.url, browser.blog.refreshToken)).body.error).toBe('session_revoked');
    await until(async () => {
      const sids = await Promise.all(
        receiver
          .accepted('/blog/backchannel')
          .map(async (r) => (await verifyLogoutToken(server, r.token, 'blog')).sid),
      );
      return sids.includes(browser.blog.session.id);
    });
    // The user's sessions outside this SSO session (the JSON API's) are untouched.
    expect((await refresh(server.url, browser.user.refresh_token)).status).toBe(200);
  });

  it('an expired hint still counts; POST works like GET', async () => {
    const browser = await signedInBrowser();
    const response = await post(
      { id_token_hint: await idTokenFor(browser.blog, { expiredHours: 5 }) },
      { cookie: browser.cookie },
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('You are signed out');
    expect(await ended(browser.sso)).toBe(true);
    expect(await ended(browser.shop)).toBe(true);
  });

  it('a post_logout_redirect_uri not registered for the client is not followed', async () => {
    const browser = await signedInBrowser();
    for (const uri of ['https://evil.example/', `${SIGNED_OUT}/x`, 'https://blog.example/callback']) {
      const response = await get(
        { id_token_hint: await idTokenFor(browser.shop), post_logout_redirect_uri: uri, state: 's' },
        browser.cookie,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('location')).toBeNull();
    }
    // The blog's hint cannot use the shop's redirect either.
    const other = await signedInBrowser();
    const response = await get(
      { id_token_hint: await idTokenFor(other.blog), post_logout_redirect_uri: SIGNED_OUT },
      other.cookie,
    );
    expect(response.headers.get('location')).toBeNull();
  });

  it('a client_id that is not the hint’s audience is refused, signing nothing out', async () => {
    const browser = await signedInBrowser();
    const response = await get(
      { id_token_hint: await idTokenFor(browser.shop), client_id: 'blog' },
      browser.cookie,
    );
    expect(response.status).toBe(400);
    expect(await ended(browser.sso)).toBe(false);
  });
});

describe('without a valid hint the user confirms (logout CSRF)', () => {
  it('asks first, then signs out on the confirmation form and goes back with state', async () => {
    const browser = await signedInBrowser();
    const page = await get(
      { client_id: 'shop', post_logout_redirect_uri: SIGNED_OUT, state: '"><script>alert(1)</script>' },
      browser.cookie,
    );
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' https://shop.example");
    const text = await page.text();
    expect(text).toContain('<html lang="en">');
    expect(text).not.toContain('<script>');
    expect(await ended(browser.sso)).toBe(false);
    const fields = hiddenFields(text);
    expect(fields.state).toBe('"><script>alert(1)</script>');

    const confirmed = await post(fields, { cookie: browser.cookie, 'sec-fetch-site': 'same-origin' });
    expect(confirmed.status).toBe(302);
    const location = new URL(confirmed.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(SIGNED_OUT);
    expect(location.searchParams.get('state')).toBe('"><script>alert(1)</script>');
    expect(await ended(browser.sso)).toBe(true);
    expect(await ended(browser.shop)).toBe(true);
    expect(await ended(browser.blog)).toBe(true);
  });

  it('a hint with a wrong signature, an access token, or another browser’s session is no hint', async () => {
    const browser = await signedInBrowser();
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({
      iss: server.app.sessiond.config.issuer,
      sub: browser.shop.session.userId,
      aud: 'shop',
      sid: browser.shop.session.id,
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: server.app.sessiond.keys.signingKey().kid })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    const elsewhere = await signedInBrowser();
    for (const hint of [forged, browser.shop.access.token, await idTokenFor(elsewhere.shop)]) {
      const response = await get({ id_token_hint: hint }, browser.cookie);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('Sign out?');
    }
    expect(await ended(browser.sso)).toBe(false);
    expect(await ended(elsewhere.sso)).toBe(false);
  });

  it('refuses a confirmation without this browser’s token, or sent from another site', async () => {
    const browser = await signedInBrowser();
    const page = await get({}, browser.cookie);
    const fields = hiddenFields(await page.text());
    expect(fields.csrf).toBeDefined();
    const other = await signedInBrowser();
    // Another browser's token (an attacker's own) does not fit this SSO session.
    const foreign = hiddenFields(await (await get({}, other.cookie)).text());
    expect((await post(foreign, { cookie: browser.cookie })).status).toBe(400);
    expect((await post({ ...fields, csrf: 'x' }, { cookie: browser.cookie })).status).toBe(400);
    expect((await post(fields, { cookie: browser.cookie, 'sec-fetch-site': 'cross-site' })).status).toBe(400);
    expect(await ended(browser.sso)).toBe(false);
    expect((await post(fields, { cookie: browser.cookie })).status).toBe(200);
    expect(await ended(browser.sso)).toBe(true);
  });

  it('a browser with no SSO session is already signed out: back to a registered redirect, or the page', async () => {
    const redirected = await get({ client_id: 'shop', post_logout_redirect_uri: SIGNED_OUT, state: 'a b' });
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe(`${SIGNED_OUT}?state=a+b`);
    const unregistered = await get({ client_id: 'shop', post_logout_redirect_uri: 'https://evil.example/' });
    expect(unregistered.status).toBe(200);
    expect(unregistered.headers.get('location')).toBeNull();
    expect((await get({ client_id: 'nobody' })).status).toBe(400);
    // An SSO session that timed out counts as none.
    const browser = await signedInBrowser();
    server.clock.advance(24 * HOUR);
    const response = await get({}, browser.cookie);
    expect(await response.text()).toContain('You are signed out');
  });
});
