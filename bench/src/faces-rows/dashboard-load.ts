import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PageWindow } from './page-dom.js';

// ROW 14: `/admin` from navigation start to interactive. The dashboard sets
// `<html data-ready="true">` once the first page of the audit log and all five charts are drawn
// (docs/admin-dashboard.md); an init script (injected by DevTools before any of the page's own,
// so the strict CSP does not apply to it) records `performance.now()` in the mutation observer
// callback that follows that attribute change: milliseconds since the navigation started.

/** Measured loads per server, interleaved: one on the million-row log, one on the empty log. */
export const DASHBOARD_LOADS = 30;
/** Discarded first loads per server: they compile the script and warm sessiond's page cache. */
export const DASHBOARD_WARMUP_LOADS = 3;
const LOAD_TIMEOUT_MS = 30_000;

export interface DashboardLoad {
  /** Navigation start → `data-ready="true"`, in ms. */
  readyMs: number;
  /** Navigation start → DOMContentLoaded's end: the shell and its script, before the data. */
  shellMs: number;
  /** `[data-log-id]` rows on the log's first page when ready (50 on the million-row log). */
  logRows: number;
}

interface ReadyGlobal {
  benchReadyAt?: number;
}

function recordReady(): void {
  const { document, performance, MutationObserver } = globalThis as unknown as PageWindow;
  const seen = globalThis as ReadyGlobal;
  new MutationObserver(() => {
    if (seen.benchReadyAt === undefined && document.documentElement.dataset.ready === 'true') {
      seen.benchReadyAt = performance.now();
    }
  }).observe(document, { attributes: true, attributeFilter: ['data-ready'], subtree: true });
}

/** One signed-in tab on the dashboard: its own context, the key typed into the sign-in form. */
export async function openDashboard(browser: Browser, baseURL: string, key: string): Promise<Page> {
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(recordReady);
  const page = await context.newPage();
  await page.goto(`${baseURL}/admin`);
  await page.getByLabel('Admin API key').fill(key);
  // The form posts to /admin/sign-in, which sets the sessiond_admin cookie and redirects to /admin.
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('html[data-ready="true"]').waitFor({ timeout: LOAD_TIMEOUT_MS });
  return page;
}

/** One navigation to /admin (a new document; every answer under /admin is no-store). */
export async function loadDashboard(page: Page, baseURL: string): Promise<DashboardLoad> {
  await page.goto(`${baseURL}/admin`, { waitUntil: 'commit', timeout: LOAD_TIMEOUT_MS });
  await page.waitForFunction(() => (globalThis as ReadyGlobal).benchReadyAt !== undefined, undefined, {
    timeout: LOAD_TIMEOUT_MS,
  });
  // Past DOMContentLoaded by now: the page's module script runs before it fires.
  await page.waitForFunction(
    () => {
      const { performance } = globalThis as unknown as PageWindow;
      return (performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? 0) > 0;
    },
    undefined,
    { timeout: LOAD_TIMEOUT_MS },
  );
  return page.evaluate(() => {
    const { document, performance } = globalThis as unknown as PageWindow;
    const navigation = performance.getEntriesByType('navigation')[0]!;
    if (document.querySelector('#admin-key') !== null)
      throw new Error('the dashboard asked to sign in again');
    return {
      readyMs: (globalThis as ReadyGlobal).benchReadyAt!,
      shellMs: navigation.domContentLoadedEventEnd,
      logRows: document.querySelectorAll('[data-log-id]').length,
    };
  });
}
