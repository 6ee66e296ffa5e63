import { mkdirSync } from 'node:fs';
import { createServer as createHTTPServer, type Server as HTTPServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../../client/test/browser/chromium.js';
import { registerPasskeyInPage } from '../../../client/test/browser/register-passkey.js';
import { PASSWORD, request, uniqueEmail } from '../helpers/api.js';
import { freePort, startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * The sign-in page in real Chromium. WebAuthn needs a domain RP id and a secure context, so the
 * issuer is http://localhost:<port>, where a plain TCP forwarder passes every byte to sessiond on
 * 127.0.0.1 (Playwright's routing does not see the requests a fulfilled redirect leads to). The
 * app's redirect URI is answered by the browser context.
 */
/** The app: a loopback redirect URI (RFC 8252 §7.3), answered by a real listener. */
let REDIRECT: string;
let app: HTTPServer;
/** Screenshots, to look at: outside the repository unless SESSIOND_TEST_OUTPUT names a place. */
const OUTPUT = process.env.SESSIOND_TEST_OUTPUT ?? join(tmpdir(), 'sessiond-test-output');
let server: TestServer;
let browser: Browser;
let context: BrowserContext | undefined;
let ISSUER: string;
let forwarder: Server;

beforeAll(async () => {
  app = createHTTPServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><title>app</title><p>back in the app</p>');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  REDIRECT = `http://127.0.0.1:${(app.address() as { port: number }).port}/callback`;
  const port = await freePort();
  ISSUER = `http://localhost:${port}`;
  server = await startTestServer({
    env: {
      SESSIOND_ISSUER: ISSUER,
      SESSIOND_CLIENTS: JSON.stringify([
        { id: 'default' },
        { id: 'web', name: 'Shop', redirect_uris: ['http://127.0.0.1/callback'] },
      ]),
      SESSIOND_WEBAUTHN_RP_ID: 'localhost',
      SESSIOND_WEBAUTHN_ORIGINS: ISSUER,
      SESSIOND_STEP_UP_PASSWORD_MIN_AGE_SECONDS: '0',
    },
  });
  const target = new URL(server.url);
  forwarder = createServer((socket) => {
    const upstream = connect(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve));
  browser = await launchChromium();
  mkdirSync(OUTPUT, { recursive: true });
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => forwarder?.close(resolve));
  await new Promise((resolve) => app?.close(resolve));
  await server?.close();
});

interface Tab {
  page: Page;
  /** Console messages and page errors: a CSP violation shows up here. */
  problems: string[];
}

async function openTab(): Promise<Tab> {
  context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { page, problems };
}

function authorizeURL(extra: Record<string, string> = {}): string {
  return `${ISSUER}/oauth/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: 'web',
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'st',
    ...extra,
  })}`;
}

async function newUser(): Promise<string> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  return email;
}

it('signs in by keyboard alone, in a readable page, with no CSP violation', async () => {
  const email = await newUser();
  const { page, problems } = await openTab();
  await page.goto(authorizeURL());
  await expect(page.title()).resolves.toBe('Sign in to Shop');
  // The email field has the focus first; Tab goes to the password, then the button.
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('email');
  await page.keyboard.type('wrong@example.com');
  await page.keyboard.press('Tab');
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('password');
  await page.keyboard.type('not the password');
  await page.keyboard.press('Enter');
  const alert = page.getByRole('alert').filter({ hasText: 'The email or password is wrong.' });
  await alert.waitFor();
  // The error summary takes the focus, so a screen reader reads it first.
  await expect(page.evaluate(() => document.activeElement?.getAttribute('role'))).resolves.toBe('alert');
  await page.screenshot({ path: join(OUTPUT, 'sign-in-page-error.png'), fullPage: true });
  await page.getByLabel('Email').fill('');
  await page.getByLabel('Email').focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Tab');
  await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Sign in');
  // Visible focus: the focused button has an outline.
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
  expect(outline).toBe('solid');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${REDIRECT}**`);
  const landed = new URL(page.url());
  expect(landed.searchParams.get('code')).toBeTruthy();
  expect(landed.searchParams.get('state')).toBe('st');
  expect(problems.filter((text) => /Content Security Policy|Refused/.test(text))).toEqual([]);
});

it('signs in with a passkey through the DevTools virtual authenticator', async () => {
  const email = await newUser();
  const { page, problems } = await openTab();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  await page.goto(authorizeURL());
  // Register a passkey as an app would: a password session that steps up, then the ceremony.
  const registered = await registerPasskeyInPage(page, { email, password: PASSWORD });
  expect(registered).toBe(true);
  // The page's own button (shown by sign-in.js), reached by keyboard.
  const button = page.getByRole('button', { name: 'Sign in with a passkey' });
  await expect(button.isVisible()).resolves.toBe(true);
  await page.screenshot({ path: join(OUTPUT, 'sign-in-page.png'), fullPage: true });
  await button.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(`${REDIRECT}**`).catch((error) => {
    throw new Error(`${error}: ${problems.join(' | ')}`);
  });
  expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
  const user = await server.app.sessiond.store.findUserByEmail(email);
  const sessions = await server.app.sessiond.store.listLiveSessions(user!.id, server.clock.now());
  const sso = sessions.find((session) => session.clientId === 'sessiond');
  expect(sso?.acr).toBe('aal2');
  expect(sso?.amr).toContain('hwk');
  expect(problems.filter((text) => /Content Security Policy|Refused/.test(text))).toEqual([]);
});
