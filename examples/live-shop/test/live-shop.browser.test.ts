import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../packages/client/test/browser/chromium.js';
import { registerPasskeyInPage } from '../../../packages/client/test/browser/register-passkey.js';
import { PASSWORD, request, uniqueEmail } from '../../../packages/server/test/helpers/api.js';
import {
  freePort,
  startTestServer,
  type TestServer,
} from '../../../packages/server/test/helpers/test-server.js';
import { type Shop, startShop } from '../src/server/shop-server.js';
import {
  cartLines,
  openShop,
  openSignedIn,
  screenshot,
  signInThroughForm,
  waitSignedOut,
} from './shop-device.js';

const ADMIN_KEY = 'live-shop-test-admin-key-0123456789abcdef';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server: TestServer;
let shop: Shop;
/** The same shop with a short idle timeout for the page's own idle timer (the client's idle.timeoutMs). */
let drowsyShop: Shop;
let browser: Browser;

beforeAll(async () => {
  const shopPort = await freePort();
  const shopOrigin = `http://localhost:${shopPort}`;
  const drowsyPort = await freePort();
  server = await startTestServer({
    issuerIsURL: true,
    env: {
      // The shop's pages call sessiond through the shop's origin (its proxy): that Origin is allowed.
      SESSIOND_CORS_ORIGINS: `${shopOrigin},http://localhost:${drowsyPort}`,
      SESSIOND_WEBAUTHN_RP_ID: 'localhost',
      SESSIOND_WEBAUTHN_ORIGINS: shopOrigin,
      SESSIOND_TRUST_PROXY: 'true',
      SESSIOND_ADMIN_API_KEYS: ADMIN_KEY,
      // The sweeper marks idle sessions expired each second (of real time, against the test clock).
      SESSIOND_SWEEP_INTERVAL_SECONDS: '1',
      // The passkey test registers one right after a password sign-in (a password step-up).
      SESSIOND_STEP_UP_PASSWORD_MIN_AGE_SECONDS: '0',
    },
  });
  shop = await startShop({ sessiondURL: server.url, port: shopPort });
  drowsyShop = await startShop({ sessiondURL: server.url, port: drowsyPort, idleTimeoutMs: 5000 });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await shop?.close();
  await drowsyShop?.close();
  await server?.close();
});

async function newUser(): Promise<{ email: string; id: string }> {
  const email = uniqueEmail();
  const signup = await request<{ user: { id: string } }>(server.url, 'POST', '/api/auth/signup', {
    body: { email, password: PASSWORD },
  });
  expect(signup.status).toBe(201);
  return { email, id: signup.body.user.id };
}

async function twoDevices(email: string): Promise<[Page, Page]> {
  const phone = await openSignedIn(browser, shop.url, 'Phone', email, PASSWORD);
  const laptop = await openSignedIn(browser, shop.url, 'Laptop', email, PASSWORD);
  return [phone, laptop];
}

async function closeAll(...pages: Page[]): Promise<void> {
  for (const page of pages) await page.context().close();
}

describe('the live shop in Chromium, two devices of one user', () => {
  it('shares the cart and the follows: what one device adds arrives on the other', async () => {
    const { email } = await newUser();
    const [phone, laptop] = await twoDevices(email);

    await phone.getByRole('button', { name: 'Add Sunrise mug to cart' }).click();
    await phone.getByRole('button', { name: 'Add Sunrise mug to cart' }).click();
    await phone.getByRole('button', { name: 'Add Fig candle to cart' }).click();
    // The laptop never touched its cart: the lines arrive over its own sync socket.
    await cartLines(laptop)
      .filter({ hasText: 'Sunrise mug' })
      .getByLabel('Quantity of Sunrise mug')
      .filter({ hasText: '2' })
      .waitFor();
    await cartLines(laptop).filter({ hasText: 'Fig candle' }).waitFor();
    expect(await laptop.locator('#cart-total').textContent()).toBe('Total €58.00');

    // And back: the laptop removes one mug, the phone sees a single one.
    await laptop.getByRole('button', { name: 'One fewer Sunrise mug' }).click();
    await phone.getByLabel('Quantity of Sunrise mug').filter({ hasText: /^1$/ }).waitFor();

    await laptop.getByRole('button', { name: 'Follow Maya Okafor' }).first().click();
    const phoneFollow = phone.getByRole('button', { name: 'Follow Maya Okafor' }).first();
    await phone.locator('#following li', { hasText: 'Maya Okafor' }).waitFor();
    expect(await phoneFollow.getAttribute('aria-pressed')).toBe('true');

    await screenshot(phone, 'cart-phone');
    await screenshot(laptop, 'cart-laptop');
    await closeAll(phone, laptop);
  });

  it('shows a live event on every page, and a dismissal on one device hides it on the other', async () => {
    const { email } = await newUser();
    const [phone, laptop] = await twoDevices(email);
    await phone.getByRole('button', { name: 'Follow Leo Brandt' }).first().click();
    shop.live.start({ creator: 'leo', title: 'Printing the harbour series' });

    const banner = (page: Page) =>
      page.getByRole('region', { name: 'Leo Brandt is live: Printing the harbour series' });
    await banner(phone).waitFor();
    await banner(laptop).waitFor();
    await banner(laptop).getByText('You follow this creator.').waitFor();
    await screenshot(laptop, 'live-banner');

    await phone.getByRole('button', { name: 'Dismiss' }).click();
    await banner(laptop).waitFor({ state: 'hidden' });
    shop.live.end();
    await closeAll(phone, laptop);
  });

  it('signs every device out with "sign out everywhere", and the cart outlives it', async () => {
    const { email } = await newUser();
    const [phone, laptop] = await twoDevices(email);
    await laptop.getByRole('button', { name: 'Add Canvas tote to cart' }).click();
    await cartLines(phone).filter({ hasText: 'Canvas tote' }).waitFor();

    await laptop.getByRole('button', { name: 'Sign out everywhere' }).click();
    await waitSignedOut(laptop);
    await waitSignedOut(phone);
    await phone.getByRole('status').getByText('signed out from another device').waitFor();
    await laptop.getByRole('status').getByText('You signed out on every device').waitFor();
    await screenshot(phone, 'signed-out-elsewhere');

    await signInThroughForm(phone, email, PASSWORD);
    await cartLines(phone).filter({ hasText: 'Canvas tote' }).waitFor();
    await closeAll(phone, laptop);
  });

  it('signs out after the idle timeout with a friendly message, and the cart is still there', async () => {
    const { email } = await newUser();
    const phone = await openSignedIn(browser, shop.url, 'Phone', email, PASSWORD);
    await phone.getByRole('button', { name: 'Add Tide scarf to cart' }).click();
    await phone.locator('#sync-status', { hasText: 'Synced' }).waitFor();
    // Half an hour without activity on sessiond's clock: the sweeper expires the session and
    // the page hears it on its socket, with no reload and no request of its own.
    server.clock.advance(31 * 60_000);
    await waitSignedOut(phone);
    await phone
      .getByRole('status')
      .getByText('You were signed out after inactivity. Your cart is saved')
      .waitFor();
    expect(await phone.locator('body').getAttribute('data-ended')).toBe('expired');
    await screenshot(phone, 'idle-signed-out');

    await signInThroughForm(phone, email, PASSWORD);
    await cartLines(phone).filter({ hasText: 'Tide scarf' }).waitFor();
    await closeAll(phone);
  });

  it("signs out on the page's own idle timer, says why, and the cart is still there", async () => {
    const { email } = await newUser();
    const phone = await openSignedIn(browser, drowsyShop.url, 'Phone', email, PASSWORD);
    await phone.getByRole('button', { name: 'Add Harbour print to cart' }).click();
    await phone.locator('#sync-status', { hasText: 'Synced' }).waitFor();
    // No input for longer than the shop’s 5 s: the client ends the session with reason idle.
    await waitSignedOut(phone);
    expect(await phone.locator('body').getAttribute('data-ended')).toBe('idle');
    await phone
      .getByRole('status')
      .getByText('You were signed out after inactivity. Your cart is saved')
      .waitFor();

    await signInThroughForm(phone, email, PASSWORD);
    await cartLines(phone).filter({ hasText: 'Harbour print' }).waitFor();
    await closeAll(phone);
  });

  it('signs a device out at once when an administrator revokes its session on the dashboard', async () => {
    const { email } = await newUser();
    const [phone, laptop] = await twoDevices(email);

    // The operator, in a browser of their own, on sessiond's /admin (slice A's dashboard).
    const dashboard = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await dashboard.goto(`${server.url}/admin`);
    await dashboard.getByLabel('Admin API key').fill(ADMIN_KEY);
    await dashboard.getByRole('button', { name: 'Sign in' }).click();
    await dashboard.getByLabel('Email, user id or backend external id').fill(email);
    await dashboard.getByRole('button', { name: 'Find user' }).click();
    const sessions = dashboard.getByRole('table', { name: `Live sessions of ${email}` });
    const laptopRow = sessions.getByRole('row').filter({ hasText: 'Laptop' });
    await laptopRow.waitFor();
    await laptopRow.getByRole('button', { name: /^Revoke session / }).click();
    const confirm = dashboard.getByRole('dialog', { name: 'Revoke session?' });
    await confirm.getByRole('button', { name: 'Revoke' }).click();
    await confirm.waitFor({ state: 'hidden' });

    // The shop on the laptop shows itself signed out without a reload; the phone stays in.
    await waitSignedOut(laptop);
    await laptop.getByRole('status').getByText('signed out from another device or by support').waitFor();
    await screenshot(laptop, 'revoked-by-admin');
    await screenshot(dashboard, 'revoked-by-admin-dashboard');
    expect(await phone.getByRole('heading', { name: 'Your cart' }).isVisible()).toBe(true);
    await closeAll(phone, laptop, dashboard);
  });

  it('signs in with a passkey (the DevTools virtual authenticator) and shows the cart', async () => {
    const { email } = await newUser();
    const page = await openShop(browser, shop.url, 'Phone');
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
    // A passkey registered on this origin beforehand, as an account page would (the shop has none):
    // a bearer session through the shop's proxy, a password step-up, the WebAuthn ceremony.
    const registered = await registerPasskeyInPage(page, { email, password: PASSWORD });
    expect(registered).toBe(true);

    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Your cart' }).waitFor();
    await page.getByRole('button', { name: 'Add Sunrise mug to cart' }).click();
    await cartLines(page).filter({ hasText: 'Sunrise mug' }).waitFor();
    await closeAll(page);
  });

  it('works by keyboard and has no serious or critical axe-core violations, signed out and signed in', async () => {
    const { email } = await newUser();
    const page = await openShop(browser, shop.url, 'Phone');
    const audit = async (): Promise<{ id: string; impact: string; nodes: number }[]> => {
      // Evaluated over DevTools, which the page's CSP (script-src 'self') does not govern.
      await page.evaluate(AXE);
      return page.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
          }
        ).axe;
        const result = await axe.run();
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
      });
    };
    const serious = (violations: { impact: string }[]) =>
      violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious(await audit())).toEqual([]);
    await screenshot(page, 'signed-out');

    await signInThroughForm(page, email, PASSWORD);
    // Keyboard only: Enter on "Add to cart" twice. The list redraws after each edit and the focus
    // stays on the same button, so the second Enter adds again.
    await page.getByRole('button', { name: 'Add Grid notebook to cart' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Quantity of Grid notebook').filter({ hasText: /^1$/ }).waitFor();
    await page.keyboard.press('Enter');
    await page.getByLabel('Quantity of Grid notebook').filter({ hasText: /^2$/ }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Add Grid notebook to cart');
    expect(serious(await audit())).toEqual([]);
    await closeAll(page);
  });
});
