import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenResponse } from '@sessiond/protocol';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../client/test/browser/chromium.js';
import { PASSWORD, refresh, request, uniqueEmail } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * The admin dashboard in real Chromium, over seeded data made through the real API: sign-in by
 * keyboard, lookup, revoke, charts against the API's numbers, the live health panel, axe-core,
 * and no CSP violation. Screenshots go to SESSIOND_TEST_OUTPUT (default: the OS temp dir).
 */
const OUTPUT = process.env.SESSIOND_TEST_OUTPUT ?? join(tmpdir(), 'sessiond-test-output');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const KEY = `sk_admin_${'B'.repeat(43)}`;
const UA = {
  desktop:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  mobile:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
};

let server: TestServer;
let browser: Browser;
let context: BrowserContext | undefined;
let shopper: { email: string; sessions: TokenResponse[] };
const consoleErrors: string[] = [];

async function signInAs(email: string, options: { ip: string; ua: string; password?: string }) {
  return request<TokenResponse & { error?: string }>(server.url, 'POST', '/api/auth/session/create', {
    body: { email, password: options.password ?? PASSWORD },
    headers: { 'x-forwarded-for': options.ip, 'user-agent': options.ua },
  });
}

beforeAll(async () => {
  server = await startTestServer({
    issuerIsURL: true,
    env: {
      SESSIOND_ADMIN_API_KEYS: KEY,
      SESSIOND_TRUST_PROXY: 'true',
      SESSIOND_LOGIN_LIMIT_PER_ACCOUNT_IP: '1000',
      SESSIOND_LOGIN_LIMIT_PER_ACCOUNT: '1000',
      SESSIOND_LOGIN_LIMIT_PER_IP: '1000',
    },
  });
  // Seed: a shopper on a desktop and a phone, another user with failed sign-ins from one IP.
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  const desktop = await signInAs(email, { ip: '198.51.100.7', ua: UA.desktop });
  const phone = await signInAs(email, { ip: '198.51.100.8', ua: UA.mobile });
  shopper = { email, sessions: [desktop.body, phone.body] };
  const other = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email: other, password: PASSWORD } });
  for (let i = 0; i < 3; i += 1)
    await signInAs(other, { ip: '203.0.113.66', ua: UA.desktop, password: 'wrong password!' });
  const ended = await signInAs(other, { ip: '203.0.113.66', ua: UA.desktop });
  await request(server.url, 'POST', '/api/auth/session/logout', { token: ended.body.access_token });
  // The test clock stands still; the reports' ranges end (exclusive) at now.
  server.clock.advance(1000);
  browser = await launchChromium();
  mkdirSync(OUTPUT, { recursive: true });
});

afterEach(async () => {
  consoleErrors.length = 0;
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function adminGet<T>(path: string): Promise<T> {
  return request<T>(server.url, 'GET', `/api/admin${path}`, {
    headers: { authorization: `Bearer ${KEY}` },
  }).then((response) => response.body);
}

/** A new context's page at /admin, its console watched for CSP reports and errors. */
async function openDashboard(): Promise<Page> {
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) {
      consoleErrors.push(message.text());
    }
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  await page.goto(`${server.url}/admin`);
  return page;
}

/** Signs in with the keyboard only: the key field has the focus, Enter submits. */
async function signInByKeyboard(page: Page): Promise<void> {
  await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('admin-key');
  await page.keyboard.type(KEY);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  await page.locator('html[data-ready="true"]').waitFor();
}

it('signs in by keyboard, finds a user, revokes a session after confirming, and the row goes', async () => {
  const page = await openDashboard();
  await page.screenshot({ path: join(OUTPUT, 'admin-sign-in.png') });
  // A wrong key first: the error summary is announced.
  await page.getByLabel('Admin API key').fill(`sk_admin_${'X'.repeat(43)}`);
  await page.keyboard.press('Enter');
  await expect.poll(() => page.getByRole('alert').textContent()).toContain('not a valid admin API key');
  // The refusal's 401 is reported as a failed load: expected here, nothing after it.
  consoleErrors.length = 0;
  await page.getByLabel('Admin API key').focus();
  await page.getByLabel('Admin API key').fill('');
  await signInByKeyboard(page);
  const cookies = await context!.cookies();
  const cookie = cookies.find((c) => c.name === 'sessiond_admin');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });
  expect(await page.evaluate(() => document.cookie)).toBe('');

  // Keyboard: the search field, then Enter.
  await page.getByLabel('Email, user id or backend external id').focus();
  await page.keyboard.type(shopper.email);
  await page.keyboard.press('Enter');
  const table = page.getByRole('table', { name: `Live sessions of ${shopper.email}` });
  await table.waitFor();
  const [desktop, phone] = shopper.sessions as [TokenResponse, TokenResponse];
  await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
  const phoneRow = table.locator(`tr[data-session-id="${phone.session.id}"]`);
  expect(await phoneRow.textContent()).toContain('198.51.100.8');
  expect(await phoneRow.textContent()).toContain('unknown');
  await page.screenshot({ path: join(OUTPUT, 'admin-user.png'), fullPage: true });

  // Cancel first: nothing happens.
  await page.getByRole('button', { name: `Revoke session ${phone.session.id}` }).click();
  const dialog = page.getByRole('dialog', { name: 'Revoke session?' });
  await dialog.waitFor();
  await page.screenshot({ path: join(OUTPUT, 'admin-confirm.png') });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  expect(await table.locator('tbody tr').count()).toBe(2);

  await page.getByRole('button', { name: `Revoke session ${phone.session.id}` }).click();
  await dialog.getByRole('button', { name: 'Revoke session' }).click();
  await expect
    .poll(() => page.getByRole('status').first().textContent())
    .toContain(`Session ${phone.session.id} revoked.`);
  await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
  expect(await table.locator(`tr[data-session-id="${desktop.session.id}"]`).count()).toBe(1);
  // Really revoked: its refresh token no longer works.
  expect((await refresh(server.url, phone.refresh_token)).status).toBe(401);
  expect(consoleErrors).toEqual([]);
});

it('draws the five analytics from the same numbers the API gives', async () => {
  const page = await openDashboard();
  await signInByKeyboard(page);
  const logins = await adminGet<{ days: Array<{ date: string; logins: number; failed_logins: number }> }>(
    '/analytics/logins-per-day',
  );
  const chart = page.locator('#chart-logins svg[role="img"]');
  await chart.waitFor();
  const values = (series: string) =>
    page
      .locator(`#chart-logins rect.bar[data-series="${series}"]`)
      .evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute('data-value'))));
  expect(await values('logins')).toEqual(logins.days.map((d) => d.logins));
  expect(await values('failed_logins')).toEqual(logins.days.map((d) => d.failed_logins));
  expect(logins.days.reduce((sum, d) => sum + d.failed_logins, 0)).toBe(3);

  const bars = (id: string) =>
    page
      .locator(`#${id} rect.bar`)
      .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-value'))));
  const devices = await adminGet<{ device_types: Array<{ sessions: number }> }>(
    '/analytics/active-by-device',
  );
  await page.locator('#chart-devices svg').waitFor();
  expect(await bars('chart-devices')).toEqual(devices.device_types.map((d) => d.sessions));
  const failed = await adminGet<{ users: Array<{ failed_logins: number }> }>('/analytics/failed-logins');
  expect(failed.users.map((u) => u.failed_logins)).toEqual([3]);
  await page.locator('#chart-failed svg').waitFor();
  expect(await bars('chart-failed')).toEqual([3]);
  const ips = await adminGet<{ ips: Array<{ ip: string; attempts: number }> }>('/analytics/suspicious-ips');
  await page.locator('#chart-ips svg').waitFor();
  expect(await bars('chart-ips')).toEqual(ips.ips.map((ip) => ip.attempts));
  expect(ips.ips[0]).toMatchObject({ ip: '203.0.113.66', attempts: 4 });
  const duration = await adminGet<{ reasons: Array<{ average_seconds: number }> }>(
    '/analytics/session-duration',
  );
  await page.locator('#chart-duration svg').waitFor();
  expect(await bars('chart-duration')).toEqual(duration.reasons.map((r) => r.average_seconds));
  // Every chart has a text alternative: a label on the SVG and a data table.
  for (const id of ['chart-logins', 'chart-devices', 'chart-duration', 'chart-failed', 'chart-ips']) {
    expect(await page.locator(`#${id} svg`).getAttribute('aria-label')).toMatch(/\S/);
    expect(await page.locator(`#${id} table tbody tr`).count()).toBeGreaterThan(0);
  }
  await page.locator('#analytics').screenshot({ path: join(OUTPUT, 'admin-analytics.png') });
  expect(consoleErrors).toEqual([]);
});

it('updates the health panel live: a refresh made now shows up without a reload', async () => {
  const page = await openDashboard();
  await signInByKeyboard(page);
  await expect.poll(() => page.locator('#health-state').textContent(), { timeout: 10_000 }).toBe('Live');
  const count = async () => Number(await page.locator('#h-refresh-count').textContent());
  const before = await count();
  let navigations = 0;
  page.on('framenavigated', () => {
    navigations += 1;
  });
  const user = await signInAs(shopper.email, { ip: '198.51.100.9', ua: UA.desktop });
  expect((await refresh(server.url, user.body.refresh_token)).status).toBe(200);
  await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(before);
  await expect.poll(() => page.locator('#h-refresh-p50').textContent()).toMatch(/ms$/);
  expect(navigations).toBe(0);
  await page.locator('#health').screenshot({ path: join(OUTPUT, 'admin-health.png') });
  expect(consoleErrors).toEqual([]);
});

it('pages the audit log with Next and Previous, and filters it', async () => {
  // More than a page (50) of log rows: a chain of refreshes.
  let token = (await signInAs(shopper.email, { ip: '198.51.100.10', ua: UA.desktop })).body.refresh_token;
  for (let i = 0; i < 50; i += 1) token = (await refresh(server.url, token)).body.refresh_token;
  const page = await openDashboard();
  await signInByKeyboard(page);
  const log = page.getByRole('table', { name: 'Audit log entries, newest first' });
  await expect.poll(() => log.locator('tbody tr').count()).toBeGreaterThan(0);
  const ids = () =>
    log.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-log-id')));
  const firstPage = await ids();
  const api = await adminGet<{ logs: Array<{ id: string }> }>('/logs?limit=100');
  expect(api.logs.length).toBeGreaterThan(50);
  expect(firstPage).toEqual(api.logs.slice(0, 50).map((l) => l.id));
  expect(await page.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect
    .poll(() => page.locator('#logs-page').textContent())
    .toBe(`Page 2 · ${api.logs.length - 50} entries`);
  expect(await ids()).toEqual(api.logs.slice(50).map((l) => l.id));
  await page.getByRole('button', { name: 'Previous page' }).click();
  await expect.poll(() => page.locator('#logs-page').textContent()).toBe('Page 1 · 50 entries');
  expect(await ids()).toEqual(firstPage);
  await page.getByLabel('Action').selectOption('login_failed');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect.poll(() => log.locator('tbody tr').count()).toBe(3);
  for (const text of await log.locator('tbody tr').allTextContents()) expect(text).toContain('login_failed');
  await page.getByLabel('IP address').fill('198.51.100.7');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect.poll(() => log.locator('tbody tr').first().textContent()).toContain('No entries match.');
  await page.screenshot({ path: join(OUTPUT, 'admin-logs.png'), fullPage: true });
  expect(consoleErrors).toEqual([]);
});

it('has no serious or critical axe-core violations, signed out and signed in', async () => {
  const page = await openDashboard();
  const check = async (): Promise<Array<{ id: string; impact: string; nodes: number }>> => {
    // Evaluated through DevTools, as CSP allows (an added <script> tag would be refused by it).
    await page.evaluate(AXE_SOURCE);
    return page.evaluate(async () => {
      const axe = (
        window as unknown as {
          axe: {
            run: (
              context: Document,
            ) => Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }>;
          };
        }
      ).axe;
      const result = await axe.run(document);
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
  };
  expect(await check()).toEqual([]);
  await signInByKeyboard(page);
  await page.getByLabel('Email, user id or backend external id').fill(shopper.email);
  await page.getByRole('button', { name: 'Find user' }).click();
  await page.getByRole('table', { name: `Live sessions of ${shopper.email}` }).waitFor();
  await page.locator('#chart-ips svg').waitFor();
  await expect.poll(() => page.locator('#health-state').textContent(), { timeout: 10_000 }).toBe('Live');
  expect(await check()).toEqual([]);
  await page.screenshot({ path: join(OUTPUT, 'admin-dashboard.png'), fullPage: true });
  expect(consoleErrors).toEqual([]);
});
