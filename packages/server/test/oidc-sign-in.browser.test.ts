import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../client/test/browser/chromium.js';
import { RedirectBrowser } from './helpers/redirect-browser.js';
import { startTestIdP, type TestIdP } from './helpers/test-idp.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * The whole redirect flow in Chromium: sessiond on 127.0.0.1, the provider on `localhost`, so the
 * provider's redirect back is a cross-site navigation and the login-state cookie must survive it
 * (SameSite=Lax). The app page is on sessiond's origin, allowed by the default redirect list.
 */
let idp: TestIdP;
let server: TestServer;
let browser: Browser;
let context: BrowserContext | undefined;

const APP_PAGE = '/app/after-sign-in';

beforeAll(async () => {
  idp = await startTestIdP({ hostname: 'localhost', user: { sub: 'browser-user', email: 'b@example.com' } });
  server = await startTestServer({
    issuerIsURL: true,
    env: {
      SESSIOND_OIDC_PROVIDERS: JSON.stringify([
        { name: 'corp', issuer: idp.issuer, client_id: idp.clientId, client_secret: idp.clientSecret },
      ]),
    },
    routes: (app) => {
      app.get(APP_PAGE, async (_request, reply) =>
        reply.type('text/html').send('<!doctype html><title>app</title><p>the app</p>'),
      );
    },
  });
  await idp.register([`${server.url}/api/auth/oidc/corp/callback`]);
  // The redirect chain counts for SameSite as RFC 6265bis §5.2.1 says (Chromium only with this
  // feature): the provider's redirect back is then cross-site, as in other browsers.
  browser = await launchChromium({ extraArgs: ['--enable-features=CookieSameSiteConsidersRedirectChain'] });
});

afterEach(async () => {
  await context?.close();
  context = undefined;
  idp.nextLogin = { user: { sub: 'browser-user', email: 'b@example.com' } };
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await idp?.close();
});

function start(): string {
  return `${server.url}/api/auth/oidc/corp/start?${new URLSearchParams({ redirect: `${server.url}${APP_PAGE}` })}`;
}

it('signs in through the provider and lands on the app page with an HttpOnly cookie session', async () => {
  context = await browser.newContext();
  const page = await context.newPage();
  const visited: string[] = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest()) visited.push(new URL(request.url()).origin);
  });
  await page.goto(start());
  await page.waitForURL(`${server.url}${APP_PAGE}`);
  // It really went through the provider, on another site.
  expect(visited).toContain(idp.issuer);
  const status = await page.evaluate(async () => {
    const response = await fetch('/api/auth/session/status');
    return { status: response.status, body: await response.json(), cookies: document.cookie };
  });
  expect(status.status).toBe(200);
  expect(status.body.session.acr).toBe('aal1');
  // No token, no login state is readable by the page.
  expect(status.cookies).not.toContain('sessiond_at');
  expect(status.cookies).not.toContain('sessiond_oidc');
  // Every cookie of sessiond's origin, whatever its Path.
  const cookies = (await context.cookies()).filter((cookie) => cookie.domain === '127.0.0.1');
  expect(cookies.find((cookie) => cookie.name === 'sessiond_at')?.httpOnly).toBe(true);
  expect(cookies.find((cookie) => cookie.name === 'sessiond_oidc')).toBeUndefined();
  // The refresh cookie (SameSite=Strict) was kept too, though set by the response to a cross-site
  // navigation (RFC 6265bis §5.6 lets a top-level navigation set it): the page can refresh.
  expect(cookies.find((cookie) => cookie.name === 'sessiond_rt')?.sameSite).toBe('Strict');
  const refreshed = await page.evaluate(async () => {
    const response = await fetch('/api/auth/session/refresh', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-sessiond-transport': 'cookie',
        'x-sessiond-csrf': '1',
      },
      body: '{}',
    });
    return response.status;
  });
  expect(refreshed).toBe(200);
});

it('a provider error lands on the app page with error=oidc_provider_error and no session', async () => {
  idp.nextLogin = { error: 'access_denied' };
  context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(start());
  await page.waitForURL((url) => url.pathname === APP_PAGE);
  const url = new URL(page.url());
  expect(url.searchParams.get('error')).toBe('oidc_provider_error');
  expect(url.searchParams.get('provider_error')).toBe('access_denied');
  const status = await page.evaluate(async () => (await fetch('/api/auth/session/status')).status);
  expect(status).toBe(401);
});

it('a callback carried into another browser (login CSRF) is refused with oidc_state_invalid', async () => {
  // The attacker signs in with their own account up to the callback, and keeps its URL unused.
  const callbackPrefix = `${server.url}/api/auth/oidc/corp/callback`;
  const { final: callback } = await new RedirectBrowser().follow(start(), { stopAt: [callbackPrefix] });
  expect(callback.startsWith(callbackPrefix)).toBe(true);

  context = await browser.newContext();
  const victim = await context.newPage();
  const response = await victim.goto(callback);
  expect(response?.status()).toBe(400);
  expect(JSON.parse((await victim.locator('body').textContent()) ?? '').error).toBe('oidc_state_invalid');
  const cookies = await context.cookies(server.url);
  expect(cookies.find((cookie) => cookie.name === 'sessiond_at')).toBeUndefined();
});
