import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenResponse } from '@sessiond/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../client/test/browser/chromium.js';
import { PASSWORD, request, signIn, uniqueEmail } from '../../server/test/helpers/api.js';
import { demandStepUp, letPasswordCountAgain } from '../../server/test/helpers/step-up.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { bundleTestApp, serveTestApp } from './app/serve.js';

/** Screenshots, to look at: outside the repository unless SESSIOND_TEST_OUTPUT names a place. */
const OUTPUT = process.env.SESSIOND_TEST_OUTPUT ?? join(tmpdir(), 'sessiond-test-output');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let server: TestServer;
let browser: Browser;
let bundle = '';
beforeAll(async () => {
  bundle = await bundleTestApp();
  server = await startTestServer({ issuerIsURL: true, routes: (app) => serveTestApp(app, () => bundle) });
  browser = await launchChromium();
  mkdirSync(OUTPUT, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type PageWindow = {
  client: {
    signIn(input: object): Promise<unknown>;
    state: { get(): { session: { id: string } | null; device: { id: string } | null } };
    fetch(path: string): Promise<Response>;
  };
};

async function newUser(): Promise<string> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  return email;
}

/** This device: a browser context with the test app, signed in with cookies, its cart socket live. */
async function laptopSignedIn(email: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${server.url}/react-test/`);
  await page.waitForFunction(() => (window as unknown as Partial<PageWindow>).client !== undefined);
  await page.evaluate(
    ({ email, password }) =>
      (window as unknown as PageWindow).client.signIn({ email, password, device: { name: 'This laptop' } }),
    { email, password: PASSWORD },
  );
  await expect.poll(() => page.getByLabel('Status').textContent()).toBe('authenticated');
  await page.locator('section[aria-label="Cart"][data-live="true"]').waitFor();
  expect(errors).toEqual([]);
  return page;
}

const phone = (email: string): Promise<TokenResponse> =>
  signIn(server.url, email, { device: { name: 'Phone' }, userAgent: 'PhoneBrowser/1.0' });

const sessionRows = (page: Page) =>
  page.getByRole('list', { name: 'Signed-in sessions' }).getByRole('listitem');

/** What sessiond says about a session, asked with its own access token. */
async function statusOf(token: string): Promise<{ status: number; error?: string }> {
  const answer = await request<{ error?: string }>(server.url, 'GET', '/api/auth/session/status', { token });
  return { status: answer.status, ...(answer.body.error ? { error: answer.body.error } : {}) };
}

describe('SessionList in Chromium', () => {
  it('shows this device and another device’s session; revoking the other ends it on the server', async () => {
    const email = await newUser();
    const other = await phone(email);
    const page = await laptopSignedIn(email);

    await expect.poll(() => sessionRows(page).count()).toBe(2);
    const mine = sessionRows(page).filter({ hasText: 'This laptop' });
    await expect.poll(() => mine.textContent()).toContain('This device');
    expect(await mine.getAttribute('aria-current')).toBe('true');
    // This device has no sign-out button here; the other has one named after its device.
    expect(await mine.getByRole('button').count()).toBe(0);
    expect(await sessionRows(page).filter({ hasText: 'Phone' }).textContent()).not.toContain('This device');

    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string }[] }> } }).axe;
      return (await axe.run()).violations.map((violation) => violation.id);
    });
    expect(violations).toEqual([]);
    await page.screenshot({ path: join(OUTPUT, 'react-session-list.png'), fullPage: true });

    expect((await statusOf(other.access_token)).status).toBe(200);
    await page.getByRole('button', { name: 'Sign out Phone' }).click();
    await expect.poll(() => sessionRows(page).count()).toBe(1);
    await expect
      .poll(() => page.locator('.app-sessions').getByRole('status').textContent())
      .toBe('Signed out Phone');
    expect(await statusOf(other.access_token)).toEqual({ status: 401, error: 'session_revoked' });
    await page.context().close();
  });

  it('adds a session that signs in elsewhere without a reload, and signs the others out after confirming', async () => {
    const email = await newUser();
    const page = await laptopSignedIn(email);
    await expect.poll(() => sessionRows(page).count()).toBe(1);

    // The server's session.new_device event on the cart socket makes the list reload.
    const tablet = await signIn(server.url, email, { device: { name: 'Tablet' } });
    const other = await phone(email);
    await expect.poll(() => sessionRows(page).count()).toBe(3);

    await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    const confirm = page.getByRole('group', { name: 'Sign out 2 other sessions?' });
    await confirm.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Yes, sign them out');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(
      'Sign out all other sessions',
    );
    expect((await statusOf(tablet.access_token)).status).toBe(200);

    await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await page.keyboard.press('Enter');
    await expect.poll(() => sessionRows(page).count()).toBe(1);
    expect(await statusOf(tablet.access_token)).toEqual({ status: 401, error: 'session_revoked' });
    expect(await statusOf(other.access_token)).toEqual({ status: 401, error: 'session_revoked' });
    expect(await page.getByLabel('Status').textContent()).toBe('authenticated');
    await page.context().close();
  });
});

describe('StepUpPrompt in Chromium', () => {
  it('appears when the server demands a step-up, refuses a wrong password and passes with the right one', async () => {
    const email = await newUser();
    const page = await laptopSignedIn(email);
    const dialog = page.getByRole('dialog', { name: 'Confirm it’s you' });
    expect(await dialog.count()).toBe(0);

    const sessionId = await page.evaluate(
      () => (window as unknown as PageWindow).client.state.get().session!.id,
    );
    await demandStepUp(server, sessionId);
    await expect.poll(() => page.getByLabel('Status').textContent()).toBe('step_up_required');
    await dialog.waitFor();
    // Right after a password sign-in the password proves nothing new, and this user has no
    // other factor: the server names none, and the prompt says so.
    await dialog.getByText('There is no way to confirm it’s you right now', { exact: false }).waitFor();
    expect(await dialog.getByLabel('Password').count()).toBe(0);

    letPasswordCountAgain(server);
    await dialog.getByRole('button', { name: 'Check again' }).click();
    const password = dialog.getByLabel('Password');
    await password.waitFor();
    // The dialog's first field has the focus; the password is the one factor this user has.
    expect(await password.evaluate((input) => input === document.activeElement)).toBe(true);
    expect(await dialog.getByRole('radio').count()).toBe(0);
    await page.screenshot({ path: join(OUTPUT, 'react-step-up-prompt.png'), fullPage: true });

    await password.fill('not the password');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByRole('alert').waitFor();
    expect(await page.getByLabel('Status').textContent()).toBe('step_up_required');

    await password.fill(PASSWORD);
    await password.press('Enter');
    await expect.poll(() => page.getByLabel('Status').textContent()).toBe('authenticated');
    expect(await dialog.count()).toBe(0);
    const flagged = await page.evaluate(async () => {
      const answer = await (window as unknown as PageWindow).client.fetch('/api/auth/session/status');
      return ((await answer.json()) as { session: { step_up_required: boolean } }).session.step_up_required;
    });
    expect(flagged).toBe(false);
    await page.context().close();
  });
});

describe('a sensitive change from a flagged session', () => {
  it('is refused: the trust switch and the session list stay as the server has them, the prompt is up', async () => {
    const email = await newUser();
    const other = await phone(email);
    const page = await laptopSignedIn(email);
    await expect.poll(() => sessionRows(page).count()).toBe(2);
    const toggle = page.getByRole('switch', { name: 'Trust this device' });
    await expect.poll(() => toggle.isEnabled()).toBe(true);
    const sessionId = await page.evaluate(
      () => (window as unknown as PageWindow).client.state.get().session!.id,
    );
    await demandStepUp(server, sessionId);
    await page.getByRole('dialog', { name: 'Confirm it’s you' }).waitFor();

    await toggle.click();
    await page.locator('.sessiond-device-trust').getByRole('alert').waitFor();
    expect(await toggle.isChecked()).toBe(false);
    await page.getByRole('button', { name: 'Sign out Phone' }).click();
    await page.locator('.app-sessions').getByRole('alert').waitFor();
    expect(await sessionRows(page).count()).toBe(2);
    expect((await statusOf(other.access_token)).status).toBe(200);
    await page.context().close();
  });
});

describe('useSyncDocument in Chromium', () => {
  it('shows a cart edit made by another client, and sends its own', async () => {
    const email = await newUser();
    const page = await laptopSignedIn(email);
    const other = await phone(email);
    const edit = await request(server.url, 'POST', '/api/state/cart/ops', {
      token: other.access_token,
      body: { client_op_id: 'phone-1', op: 'increment', path: ['items', 'sku-1', 'qty'], value: 2 },
    });
    expect(edit.status).toBe(200);
    const cart = page.getByRole('region', { name: 'Cart' });
    await cart.getByText('sku-1 × 2').waitFor();

    await cart.getByRole('button', { name: 'Add one' }).click();
    await expect
      .poll(async () => {
        const answer = await request<{ document: Record<string, unknown> }>(
          server.url,
          'GET',
          '/api/state/cart',
          {
            token: other.access_token,
          },
        );
        return answer.body.document;
      })
      .toEqual({ items: { 'sku-1': { qty: 2 }, 'sku-here': { qty: 1 } } });
    await page.context().close();
  });
});

describe('DeviceTrust in Chromium', () => {
  it('trusts and untrusts this device on the server, by mouse and by keyboard', async () => {
    const email = await newUser();
    const page = await laptopSignedIn(email);
    const other = await phone(email);
    const trustedOnServer = async (): Promise<boolean | undefined> => {
      const answer = await request<{ devices: { name: string; trusted: boolean }[] }>(
        server.url,
        'GET',
        '/api/auth/devices',
        { token: other.access_token },
      );
      return answer.body.devices.find((device) => device.name === 'This laptop')?.trusted;
    };
    const toggle = page.getByRole('switch', { name: 'Trust this device' });
    await expect.poll(() => toggle.isEnabled()).toBe(true);
    expect(await toggle.isChecked()).toBe(false);
    expect(await trustedOnServer()).toBe(false);

    await toggle.click();
    await expect.poll(trustedOnServer).toBe(true);
    await expect.poll(() => toggle.isChecked()).toBe(true);

    await toggle.focus();
    await page.keyboard.press('Space');
    await expect.poll(trustedOnServer).toBe(false);
    await expect.poll(() => toggle.isChecked()).toBe(false);
    await page.context().close();
  });
});
