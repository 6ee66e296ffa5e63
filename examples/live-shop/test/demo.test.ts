import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../packages/client/test/browser/chromium.js';
import { cartLines, openShop, screenshot, signInThroughForm } from './shop-device.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Demo {
  child: ChildProcess;
  output: () => string;
  shop: string;
  sessiond: string;
  adminKey: string;
  dataDir: string;
  password: string;
}

/** Runs scripts/demo.mjs (the build is done: `npm test` builds first) until it prints its URLs. */
function startDemo(): Promise<Demo> {
  const child = spawn(process.execPath, ['scripts/demo.mjs'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${output}`)), 25_000);
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!output.includes('Ctrl-C stops everything.')) return;
      clearTimeout(timer);
      const match = (pattern: RegExp): string => {
        const found = pattern.exec(output)?.[1];
        if (!found) throw new Error(`no ${pattern} in:\n${output}`);
        return found;
      };
      resolve({
        child,
        output: () => output,
        shop: match(/Shop\s+(http:\/\/localhost:\d+)/),
        sessiond: match(/API\s+(http:\/\/127\.0\.0\.1:\d+)/),
        adminKey: match(/Admin key\s+(\S+)/),
        dataDir: match(/data in ([^,)]+)/),
        password: match(/password: (\S+)/),
      });
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}):\n${output}`)));
  });
}

// The demo always runs on SQLite: scripts/run-tests.mjs leaves it out of the PostgreSQL pass.
describe('npm run demo', () => {
  let demo: Demo;
  let browser: Browser;
  beforeAll(async () => {
    demo = await startDemo();
    browser = await launchChromium();
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    if (demo?.child.exitCode === null) demo.child.kill('SIGKILL');
  });

  it('serves a seeded shop: a seeded user finds their cart, follows and the live event', async () => {
    const page = await openShop(browser, demo.shop, 'Demo laptop');
    await page.getByRole('region', { name: 'Maya Okafor is live: Glazing the new sunrise mugs' }).waitFor();
    await signInThroughForm(page, 'ada@example.com', demo.password);
    await page.getByLabel('Quantity of Sunrise mug').filter({ hasText: /^2$/ }).waitFor();
    await cartLines(page).filter({ hasText: 'Fig candle' }).waitFor();
    await page.locator('#following li', { hasText: 'Maya Okafor' }).waitFor();
    await screenshot(page, 'demo-ada');
    await page.context().close();
  });

  it('gives the admin API (the dashboard’s data) sessions on several devices and failed logins', async () => {
    const admin = { headers: { authorization: `Bearer ${demo.adminKey}` } };
    const failed = (await (
      await fetch(`${demo.sessiond}/api/admin/analytics/failed-logins`, admin)
    ).json()) as {
      users: unknown[];
    };
    expect(failed.users.length).toBeGreaterThan(0);
    const ips = (await (
      await fetch(`${demo.sessiond}/api/admin/analytics/suspicious-ips`, admin)
    ).json()) as {
      ips: { failed: number }[];
    };
    expect(ips.ips.some((ip) => ip.failed > 0)).toBe(true);
    const devices = (await (
      await fetch(`${demo.sessiond}/api/admin/analytics/active-by-device`, admin)
    ).json()) as {
      device_types: { device_type: string; sessions: number }[];
    };
    // Phones and computers alike (the seeded user agents), for the active-by-device chart.
    expect(devices.device_types.map((row) => row.device_type).sort()).toEqual(['desktop', 'mobile']);
    expect((await fetch(`${demo.sessiond}/api/admin/analytics/failed-logins`)).status).toBe(401);
  });

  it('stops sessiond and the shop on Ctrl-C and deletes its data', async () => {
    expect(existsSync(demo.dataDir)).toBe(true);
    const exited = new Promise<number | null>((resolve) => demo.child.once('exit', resolve));
    demo.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(demo.dataDir)).toBe(false);
    await expect(fetch(`${demo.sessiond}/healthz`)).rejects.toThrow();
    await expect(fetch(demo.shop)).rejects.toThrow();
  });
});
