import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { launchChromium } from './browser/chromium.js';
import { serveTestPage } from './browser/test-page.js';

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startTestServer({ issuerIsURL: true, routes: serveTestPage });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A device: its own browser context (cookies, IndexedDB), one tab, signed in with cookies. */
async function deviceSignedIn(email: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/test/app.html?transport=cookie`);
  await page.waitForFunction(() => (window as unknown as { client?: unknown }).client !== undefined);
  await page.evaluate(
    async ({ email, password }) => {
      const w = window as unknown as {
        client: { signIn(input: object): Promise<unknown>; sync(ns: string): { ready: Promise<void> } };
        sessiond: { cart(doc: unknown): unknown };
        cartDoc: unknown;
        cart: unknown;
      };
      await w.client.signIn({ email, password });
      w.cartDoc = w.client.sync('cart');
      await (w.cartDoc as { ready: Promise<void> }).ready;
      w.cart = w.sessiond.cart(w.cartDoc);
    },
    { email, password: PASSWORD },
  );
  return page;
}

type CartPage = { cart: { addItem(sku: string, qty: number): void; items: { get(): unknown } } };
const itemsOf = (page: Page) => page.evaluate(() => (window as unknown as CartPage).cart.items.get());

describe('sync in Chromium (cookie transport, the browser’s own WebSocket)', () => {
  it('carries a cart edit from one device to the other, authenticated by the access cookie', async () => {
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    const phone = await deviceSignedIn(email);
    const laptop = await deviceSignedIn(email);
    await laptop.waitForFunction(
      () =>
        (window as unknown as { cartDoc: { status: { get(): { live: boolean } } } }).cartDoc.status.get()
          .live,
    );
    await phone.evaluate(() => (window as unknown as CartPage).cart.addItem('sku-1', 2));
    await laptop.waitForFunction(
      () => JSON.stringify((window as unknown as CartPage).cart.items.get()) === '{"sku-1":{"qty":2}}',
    );
    expect(await itemsOf(phone)).toEqual({ 'sku-1': { qty: 2 } });
    await phone.context().close();
    await laptop.context().close();
  });
});
