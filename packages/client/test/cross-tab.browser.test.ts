import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { demandStepUp } from '../../server/test/helpers/step-up.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { launchChromium } from './browser/chromium.js';
import { serveTestPage } from './browser/test-page.js';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let refreshesSeenByServer = 0;
/** While set, the server answers refreshes this late (see refreshAllAtOnce). */
let refreshDelayMs = 0;

beforeAll(async () => {
  server = await startTestServer({
    issuerIsURL: true,
    routes: (app) => {
      serveTestPage(app);
      app.addHook('onRequest', async (req) => {
        if (req.url !== '/api/auth/session/refresh') return;
        refreshesSeenByServer += 1;
        if (refreshDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, refreshDelayMs));
      });
    },
  });
  browser = await launchChromium();
});
afterEach(async () => {
  await context?.close();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type PageState = { status: string; expiresAt: number | null; reason: string | null; at: number };

async function openTabs(
  count: number,
  transport: 'bearer' | 'cookie' = 'bearer',
  query = '',
): Promise<Page[]> {
  context ??= await browser.newContext();
  const tabs: Page[] = [];
  for (let i = 0; i < count; i += 1) {
    const page = await context.newPage();
    await page.goto(`${server.url}/test/app.html?transport=${transport}${query}`);
    await page.waitForFunction(() => (window as unknown as { client?: unknown }).client !== undefined);
    tabs.push(page);
  }
  return tabs;
}

const statusOf = (page: Page) =>
  page.evaluate(
    () =>
      (window as unknown as { client: { state: { get(): { status: string } } } }).client.state.get().status,
  );
const states = (page: Page) => page.evaluate(() => (window as unknown as { states: PageState[] }).states);

async function signIn(page: Page, email: string): Promise<void> {
  await page.evaluate(
    ([e, p]) =>
      (window as unknown as { client: { signIn(i: unknown): Promise<unknown> } }).client.signIn({
        email: e,
        password: p,
      }),
    [email, PASSWORD] as const,
  );
}

type ClientWindow = {
  client: { state: { get(): { status: string; accessTokenExpiresAt: number } }; refresh(): Promise<void> };
};

function waitForStatus(tab: Page, status: string): Promise<unknown> {
  return tab.waitForFunction(
    (s) => (window as unknown as ClientWindow).client.state.get().status === s,
    status,
  );
}

/** Opens `count` tabs, signs in in the first, and waits until every tab knows. */
async function signedInTabs(
  count: number,
  transport: 'bearer' | 'cookie' = 'bearer',
  query = '',
): Promise<Page[]> {
  context = await browser.newContext();
  const tabs = await openTabs(count, transport, query);
  await signIn(tabs[0]!, await newUser());
  for (const tab of tabs) await waitForStatus(tab, 'authenticated');
  return tabs;
}

/**
 * Every tab calls refresh() with the same token in hand; returns how many refreshes reached the
 * server. The first refresh is answered late so that, even on a loaded machine, every tab has
 * made its call before any grant arrives: a call made after its tab already adopted a new grant
 * rightly refreshes again, and would measure scheduling, not coordination.
 */
async function refreshAllAtOnce(tabs: Page[]): Promise<number> {
  const before = refreshesSeenByServer;
  refreshDelayMs = 400;
  try {
    await Promise.all(
      tabs.map((tab) => tab.evaluate(() => (window as unknown as ClientWindow).client.refresh())),
    );
  } finally {
    refreshDelayMs = 0;
  }
  return refreshesSeenByServer - before;
}

async function newUser(): Promise<string> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  return email;
}

describe('cross-tab coordination in Chromium', () => {
  it('a sign-in in one tab signs in every tab', async () => {
    context = await browser.newContext();
    const tabs = await openTabs(2);
    await signIn(tabs[0]!, await newUser());
    await waitForStatus(tabs[1]!, 'authenticated');
    expect(await statusOf(tabs[1]!)).toBe('authenticated');
  });

  it('a forced refresh in one of five tabs updates all others, none of which calls refresh', async () => {
    const tabs = await signedInTabs(5);
    const before = refreshesSeenByServer;
    const expiresBefore = await tabs[1]!.evaluate(
      () =>
        (
          window as unknown as { client: { state: { get(): { accessTokenExpiresAt: number } } } }
        ).client.state.get().accessTokenExpiresAt,
    );
    await tabs[0]!.waitForTimeout(20);
    await tabs[0]!.evaluate(() =>
      (window as unknown as { client: { refresh(): Promise<void> } }).client.refresh(),
    );
    for (const tab of tabs.slice(1)) {
      await tab.waitForFunction(
        (old) =>
          (
            window as unknown as { client: { state: { get(): { accessTokenExpiresAt: number } } } }
          ).client.state.get().accessTokenExpiresAt > old,
        expiresBefore,
      );
      expect(await tab.evaluate(() => (window as unknown as { refreshCalls: number }).refreshCalls)).toBe(0);
    }
    expect(refreshesSeenByServer - before).toBe(1);
  });

  it('five tabs refreshing at the same moment cost one refresh (Web Locks, then re-check)', async () => {
    const tabs = await signedInTabs(5);
    expect(await refreshAllAtOnce(tabs)).toBe(1);
    for (const tab of tabs) expect(await statusOf(tab)).toBe('authenticated');
  });

  it('without Web Locks, the BroadcastChannel lease still makes five simultaneous refreshes cost one', async () => {
    const tabs = await signedInTabs(5, 'bearer', '&locks=off');
    expect(await tabs[0]!.evaluate(() => navigator.locks)).toBeUndefined();
    expect(await refreshAllAtOnce(tabs)).toBe(1);
    for (const tab of tabs) expect(await statusOf(tab)).toBe('authenticated');
  });

  it('a step-up demanded in one tab shows in every tab, and the step-up in one clears it everywhere', async () => {
    const tabs = await signedInTabs(2);
    const sessionId = await tabs[0]!.evaluate(
      () =>
        (
          window as unknown as { client: { state: { get(): { session: { id: string } } } } }
        ).client.state.get().session.id,
    );
    await demandStepUp(server, sessionId);
    const refused = await tabs[0]!.evaluate(async () => {
      const c = (window as unknown as { client: { fetch(p: string, i: RequestInit): Promise<Response> } })
        .client;
      return (
        await c.fetch('/api/auth/session/revoke-all', {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
        })
      ).status;
    });
    expect(refused).toBe(401);
    await waitForStatus(tabs[1]!, 'step_up_required');
    // The password alone steps up only once it was typed long enough ago (decision 024).
    server.clock.advance(301_000);
    await tabs[1]!.evaluate(
      (password) =>
        (window as unknown as { client: { stepUp(p: string): Promise<void> } }).client.stepUp(password),
      PASSWORD,
    );
    await waitForStatus(tabs[0]!, 'authenticated');
    expect(await statusOf(tabs[1]!)).toBe('authenticated');
  });

  it('a sign-out in one tab signs out every tab', async () => {
    const tabs = await signedInTabs(3);
    await tabs[2]!.evaluate(() =>
      (window as unknown as { client: { signOut(): Promise<void> } }).client.signOut(),
    );
    for (const tab of tabs) {
      await waitForStatus(tab, 'unauthenticated');
      expect((await states(tab)).at(-1)).toMatchObject({ status: 'unauthenticated', reason: 'signed_out' });
    }
  });

  /** Opens the cart's sync socket in `tab` and waits until it is live (the server pushes to it). */
  async function syncLive(tab: Page): Promise<void> {
    await tab.evaluate(() => {
      const w = window as unknown as { client: { sync(ns: string): unknown }; cartDoc: unknown };
      w.cartDoc = w.client.sync('cart');
    });
    await tab.waitForFunction(
      () =>
        (window as unknown as { cartDoc: { status: { get(): { live: boolean } } } }).cartDoc.status.get()
          .live,
    );
  }

  // The server tells every socket of the session that it was revoked, often before the tab
  // that signed out has its answer and broadcasts why: each tab must still read the real reason.
  for (const [call, reason] of [
    ['signOut', 'signed_out'],
    ['signOutEverywhere', 'signed_out_everywhere'],
  ] as const) {
    it(`${call}() in one tab ends every tab with reason ${reason}, sync sockets open`, async () => {
      const tabs = await signedInTabs(3);
      // The tab that signs out and one other have sockets; the third hears only the other tabs.
      for (const tab of tabs.slice(1)) await syncLive(tab);
      await tabs[2]!.evaluate(
        (name) => (window as unknown as { client: Record<string, () => Promise<void>> }).client[name]!(),
        call,
      );
      for (const tab of tabs) {
        await waitForStatus(tab, 'unauthenticated');
        const seen = await states(tab);
        const signedIn = seen.findIndex((s) => s.status === 'authenticated');
        // Exactly one end, with the right reason: not "revoked" first and corrected later.
        const ended = seen.slice(signedIn).filter((s) => s.status === 'unauthenticated');
        expect(ended.map((s) => s.reason)).toEqual([reason]);
        expect(
          await tab.evaluate(() => (window as unknown as { endedReasons: string[] }).endedReasons),
        ).toEqual([reason]);
      }
    });
  }

  it('a reload never shows a signed-out state', async () => {
    context = await browser.newContext();
    const [tab] = await openTabs(1);
    await signIn(tab!, await newUser());
    await tab!.reload();
    await tab!.waitForFunction(() => (window as unknown as { client?: unknown }).client !== undefined);
    const seen = (await states(tab!)).map((s) => s.status);
    expect(seen).toEqual(['initializing', 'authenticated']);
  });
});

describe('the cookie transport in Chromium', () => {
  const call = (page: Page, path: string) =>
    page.evaluate(async (p) => {
      const response = await (
        window as unknown as { client: { fetch(p: string): Promise<Response> } }
      ).client.fetch(p);
      return response.status;
    }, path);

  it('keeps every token out of reach of JavaScript, in cookies and storage alike', async () => {
    context = await browser.newContext();
    const [tab] = await openTabs(1, 'cookie');
    await signIn(tab!, await newUser());
    expect(await statusOf(tab!)).toBe('authenticated');
    // Everything page scripts can read: cookies, localStorage, and the client's IndexedDB store.
    const visible = await tab!.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('sessiond');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const stored = await new Promise<unknown[]>((resolve, reject) => {
        const all = db.transaction('kv', 'readonly').objectStore('kv').getAll();
        all.onsuccess = () => resolve(all.result);
        all.onerror = () => reject(all.error);
      });
      return {
        cookies: document.cookie,
        local: JSON.stringify({ ...localStorage }),
        stored: JSON.stringify(stored),
      };
    });
    expect(visible.cookies).not.toContain('sessiond');
    expect(visible.local).not.toMatch(/rt_|eyJ/);
    // The client did persist its non-secret state there (so this check reads the right place)...
    expect(visible.stored).toContain('expires_at');
    // ...and no token, nor the device secret.
    expect(visible.stored).not.toMatch(/rt_|eyJ|ds_/);
    expect(visible.local).not.toMatch(/ds_/);
    const jar = await context.cookies();
    expect(jar.map((c) => [c.name, c.httpOnly]).sort()).toEqual([
      ['sessiond_at', true],
      ['sessiond_ds', true],
      ['sessiond_rt', true],
    ]);
    expect(await call(tab!, '/api/auth/session/status')).toBe(200);
  });

  it('coordinates tabs: one refresh for all, sign-out everywhere, no flash on reload', async () => {
    const tabs = await signedInTabs(3, 'cookie');
    expect(await refreshAllAtOnce(tabs)).toBe(1);
    expect(await call(tabs[2]!, '/api/auth/session/status')).toBe(200);

    await tabs[1]!.reload();
    await tabs[1]!.waitForFunction(() => (window as unknown as { client?: unknown }).client !== undefined);
    expect((await states(tabs[1]!)).map((s) => s.status)).toEqual(['initializing', 'authenticated']);

    await tabs[2]!.evaluate(() =>
      (window as unknown as { client: { signOut(): Promise<void> } }).client.signOut(),
    );
    for (const tab of tabs) {
      await waitForStatus(tab, 'unauthenticated');
    }
    expect(await call(tabs[0]!, '/api/auth/session/status')).toBe(401);
    // Both token cookies are gone; the device cookie names the browser, not a session.
    expect((await context.cookies()).map((c) => c.name)).toEqual(['sessiond_ds']);
  });
});
