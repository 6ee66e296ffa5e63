import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

/** Screenshots, to look at: outside the repository unless SESSIOND_TEST_OUTPUT names a place. */
export const OUTPUT = join(
  process.env.SESSIOND_TEST_OUTPUT ?? join(tmpdir(), 'sessiond-test-output'),
  'live-shop',
);
mkdirSync(OUTPUT, { recursive: true });

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
}

/** Opens the shop as one device: its own browser context (cookies, IndexedDB), one tab. */
export async function openShop(browser: Browser, shopURL: string, device: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${device}] page error:`, error));
  await page.goto(`${shopURL}/?device=${encodeURIComponent(device)}`);
  await page.locator('body[data-ready="true"]').waitFor();
  return page;
}

/** Signs in through the form, as a person would, and waits for the cart to show. */
export async function signInThroughForm(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Your cart' }).waitFor();
}

export async function openSignedIn(
  browser: Browser,
  shopURL: string,
  device: string,
  email: string,
  password: string,
): Promise<Page> {
  const page = await openShop(browser, shopURL, device);
  await signInThroughForm(page, email, password);
  // The cart document is live (socket open, subscribed) before a test edits it elsewhere.
  await page.locator('body[data-sync="live"]').waitFor();
  return page;
}

/** Waits until the page shows itself signed out (the sign-in form back), without a reload. */
export async function waitSignedOut(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

export function cartLines(page: Page) {
  return page.getByRole('list', { name: 'Cart items' }).getByRole('listitem');
}
