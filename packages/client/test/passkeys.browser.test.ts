import type { Browser, BrowserContext, CDPSession, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { demandStepUp } from '../../server/test/helpers/step-up.js';
import { freePort, startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { launchChromium } from './browser/chromium.js';
import { serveTestPage } from './browser/test-page.js';

/**
 * Passkeys in real Chromium with the DevTools virtual authenticator (CTAP2, internal, resident
 * keys, user verification). WebAuthn needs a domain as RP id and a secure context: the app is
 * http://localhost:<port> (localhost is potentially trustworthy), proxied to sessiond on
 * 127.0.0.1 by the browser context, so the RP id and the one accepted origin are known before
 * sessiond starts. A second origin on the same RP id (another port) is one sessiond does not
 * accept: the browser signs for it, the server must refuse it.
 */
let server: TestServer;
let browser: Browser;
let context: BrowserContext | undefined;
let APP: string;
let OTHER: string;

beforeAll(async () => {
  APP = `http://localhost:${await freePort()}`;
  OTHER = `http://localhost:${await freePort()}`;
  server = await startTestServer({
    issuerIsURL: true,
    env: {
      SESSIOND_WEBAUTHN_RP_ID: 'localhost',
      SESSIOND_WEBAUTHN_ORIGINS: APP,
      // These tests step up with the password right after signing in, before the first passkey.
      SESSIOND_STEP_UP_PASSWORD_MIN_AGE_SECONDS: '0',
    },
    routes: serveTestPage,
  });
  browser = await launchChromium();
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Forwards a request for one of the app's origins to sessiond, as a reverse proxy would. */
async function proxy(route: Route): Promise<void> {
  const url = new URL(route.request().url());
  const response = await route.fetch({ url: new URL(url.pathname + url.search, server.url).toString() });
  await route.fulfill({ response });
}

interface Tab {
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

/** A tab with a virtual platform authenticator, on the app's page at `origin`. */
async function openTab(origin = APP): Promise<Tab> {
  context = await browser.newContext();
  await context.route(`${APP}/**`, proxy);
  await context.route(`${OTHER}/**`, proxy);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  await goTo(page, origin);
  return { page, cdp, authenticatorId };
}

async function goTo(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/test/app.html`);
  await page.waitForFunction(() => (window as unknown as { client?: unknown }).client !== undefined);
}

/** Runs `call` against the page's client and returns its result, or `{ failed: {kind, code} }`. */
function inPage<T>(page: Page, call: string, arg?: unknown): Promise<T> {
  return page.evaluate(
    async ([source, argument]) => {
      const client = (window as unknown as { client: unknown }).client;
      try {
        return await new Function('client', 'arg', `return (${source})(client, arg);`)(client, argument);
      } catch (error) {
        const { kind, code, name, message } = error as Record<string, string>;
        return { failed: { kind, code, name, message } };
      }
    },
    [call, arg] as const,
  );
}

async function newUser(): Promise<string> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  return email;
}

const signIn = (page: Page, email: string) =>
  inPage(
    page,
    '(c, a) => c.signIn({ email: a, password: "correct horse battery staple" }).then(() => null)',
    email,
  );
const waitForStatus = (page: Page, wanted: string) =>
  page.waitForFunction(
    (s) =>
      (window as unknown as { client: { state: { get(): { status: string } } } }).client.state.get()
        .status === s,
    wanted,
  );
const status = (page: Page) => inPage<string>(page, '(c) => c.state.get().status');
const session = (page: Page) =>
  inPage<{ id: string; acr: string } | null>(page, '(c) => c.state.get().session');

/** The cart as sessiond holds it, read through the page's client. */
const cartOnServer = (page: Page) =>
  inPage<unknown>(page, '(c) => c.fetch("/api/state/cart").then((r) => r.json())');
const addToCart = (page: Page, sku: string, qty: number) =>
  inPage<number>(
    page,
    `(c, a) => c.fetch("/api/state/cart/ops", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_op_id: crypto.randomUUID(), op: "increment", path: ["items", a.sku, "qty"], value: a.qty }) }).then((r) => r.status)`,
    { sku, qty },
  );

async function credentialsOf(tab: Tab): Promise<unknown[]> {
  const { credentials } = await tab.cdp.send('WebAuthn.getCredentials', {
    authenticatorId: tab.authenticatorId,
  });
  return credentials;
}

describe('passkeys in Chromium with the DevTools virtual authenticator', () => {
  it('registers, signs in with it, steps up with it (the cart untouched), and removes it', async () => {
    const tab = await openTab();
    const { page } = tab;
    const email = await newUser();
    await signIn(page, email);
    expect(await addToCart(page, 'sku-mug', 2)).toBe(200);
    expect(await addToCart(page, 'sku-tea', 1)).toBe(200);
    const cart = await cartOnServer(page);
    expect(cart).toMatchObject({ document: { items: { 'sku-mug': { qty: 2 }, 'sku-tea': { qty: 1 } } } });

    // Registering needs a fresh re-authentication (decision 016).
    expect(await inPage(page, '(c) => c.passkeys.register()')).toMatchObject({
      failed: { code: 'reauthentication_required' },
    });
    expect(await credentialsOf(tab)).toHaveLength(0);
    await inPage(page, '(c) => c.stepUp({ password: "correct horse battery staple" })');
    const passkey = await inPage<{ id: string; name: string }>(
      page,
      '(c) => c.passkeys.register({ name: "Chromium" })',
    );
    expect(passkey).toMatchObject({ name: 'Chromium', backed_up: false, device_type: 'singleDevice' });
    const [credential] = (await credentialsOf(tab)) as {
      credentialId: string;
      isResidentCredential: boolean;
    }[];
    expect(credential).toMatchObject({ isResidentCredential: true });
    expect(Buffer.from(credential!.credentialId, 'base64').toString('base64url')).toBe(passkey.id);
    expect(await inPage(page, '(c) => c.passkeys.list()')).toEqual([passkey]);

    // Signed out, then back in with the passkey alone: discoverable, no email typed. Like any
    // sign-in, it reaches the other tabs.
    await inPage(page, '(c) => c.signOut()');
    expect(await status(page)).toBe('unauthenticated');
    const otherTab = await context!.newPage();
    await goTo(otherTab, APP);
    expect(await status(otherTab)).toBe('unauthenticated');
    await inPage(page, '(c) => c.signInWithPasskey({ device: { name: "Chromium" } }).then(() => null)');
    expect(await status(page)).toBe('authenticated');
    await waitForStatus(otherTab, 'authenticated');
    expect(await session(page)).toMatchObject({ acr: 'aal2' });
    expect(await cartOnServer(page)).toEqual(cart);

    // A step-up demanded by the server, answered with the passkey: same session, same cart.
    const { id: sessionId } = (await session(page))!;
    await demandStepUp(server, sessionId);
    expect(
      await inPage(
        page,
        '(c) => c.fetch("/api/auth/session/revoke-all", { method: "POST", body: "{}", headers: { "content-type": "application/json" } }).then((r) => r.status)',
      ),
    ).toBe(401);
    expect(await status(page)).toBe('step_up_required');
    await waitForStatus(otherTab, 'step_up_required');
    await inPage(page, '(c) => c.stepUp({ passkey: true })');
    expect(await status(page)).toBe('authenticated');
    await waitForStatus(otherTab, 'authenticated');
    expect(await session(page)).toMatchObject({ id: sessionId, acr: 'aal2' });
    expect(await cartOnServer(page)).toEqual(cart);

    // Removing it (the passkey step-up is recent): it no longer signs anyone in.
    expect(await inPage(page, '(c, id) => c.passkeys.remove(id).then(() => "removed")', passkey.id)).toBe(
      'removed',
    );
    expect(await inPage(page, '(c) => c.passkeys.list()')).toEqual([]);
    expect(await cartOnServer(page)).toEqual(cart);
    await inPage(page, '(c) => c.signOut()');
    expect(await inPage(page, '(c) => c.signInWithPasskey()')).toMatchObject({
      failed: { code: 'passkey_invalid' },
    });
    expect(await status(page)).toBe('unauthenticated');
  });

  it('refuses an assertion made for an origin sessiond does not accept, and a replayed one', async () => {
    const tab = await openTab();
    const { page } = tab;
    const email = await newUser();
    await signIn(page, email);
    await inPage(page, '(c) => c.stepUp({ password: "correct horse battery staple" })');
    await inPage(page, '(c) => c.passkeys.register()');
    await inPage(page, '(c) => c.signOut()');

    // The same tab and authenticator on another port of localhost: the browser signs (the RP
    // id matches), with that origin in clientDataJSON; sessiond accepts only APP.
    await goTo(page, OTHER);
    expect(await inPage(page, '(c) => c.signInWithPasskey()')).toMatchObject({
      failed: { kind: 'auth', code: 'passkey_invalid' },
    });
    expect(await status(page)).toBe('unauthenticated');

    // Back on the app's origin: capture the sign-in the client posts, then post it again.
    await goTo(page, APP);
    const posted: string[] = [];
    await page.route('**/api/auth/passkeys/sign-in', async (route) => {
      posted.push(route.request().postData() ?? '');
      await proxy(route);
    });
    await inPage(page, '(c) => c.signInWithPasskey().then(() => null)');
    expect(await status(page)).toBe('authenticated');
    expect(posted).toHaveLength(1);
    const body = JSON.parse(posted[0]!) as { ceremony_id: string; response: { id: string } };
    const replay = await request(server.url, 'POST', '/api/auth/passkeys/sign-in', { body });
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'ceremony_invalid' });
    // Nor does the same assertion pass in a new ceremony: its challenge was the old one.
    const fresh = await request<{ ceremony_id: string }>(
      server.url,
      'POST',
      '/api/auth/passkeys/sign-in/options',
      {
        body: {},
      },
    );
    const moved = await request(server.url, 'POST', '/api/auth/passkeys/sign-in', {
      body: { ...body, ceremony_id: fresh.body.ceremony_id },
    });
    expect(moved.status).toBe(401);
    expect(moved.body).toMatchObject({ error: 'passkey_invalid' });
  });
});
