import type { BrowserContext, Page } from 'playwright-core';
import { errorMessage } from '../log.js';
import type { Credentials } from '../targets/sessiond-api.js';

// The harness side of page/page.js: what a tab exposes on `window.bench`, and the few steps
// every client row takes with a tab. The functions passed to `evaluate` run in the page, so
// they reach `bench` through the page's global object and cannot use anything from here.

/** A change of the tab's store to a new access-token expiry, with the time it happened. */
export interface PageGrant {
  expiresAt: number;
  /** performance.timeOrigin + performance.now() in the tab. */
  at: number;
}

/** One event of row 6, as the refreshing tab saw it. */
export interface RefreshEvent {
  id: number;
  floorPostedAt: number;
  grant: PageGrant;
}

export interface PageBench {
  createdAt: number;
  readyAt: number | null;
  readyStatus: string | null;
  grants: PageGrant[];
  floor: Array<{ id: number; at: number }>;
  refreshCalls: number;
  client: {
    signIn(input: Credentials): Promise<unknown>;
    state: { get(): { status: string } };
  };
  refreshEvents(options: { count: number; minGapMs: number; maxGapMs: number }): Promise<RefreshEvent[]>;
}

export interface BenchGlobal {
  bench?: PageBench;
}

// Generous: the machine may be busy, and a tab's first load compiles every module.
export const PAGE_STEP_TIMEOUT_MS = 30_000;

/** Navigates `page` to the bench page and waits until its client is ready. */
export async function loadBenchPage(page: Page, url: string): Promise<void> {
  await page.goto(url, { timeout: PAGE_STEP_TIMEOUT_MS });
  await page.waitForFunction(() => (globalThis as BenchGlobal).bench?.readyAt != null, undefined, {
    timeout: PAGE_STEP_TIMEOUT_MS,
    polling: 10,
  });
}

/** A new tab of `context` with the bench page loaded; its script errors go to the log. */
export async function openBenchTab(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => {
    process.stderr.write(`  page error: ${error.message}\n`);
  });
  await loadBenchPage(page, url);
  return page;
}

/** Signs in through the tab's own client, as the app would. */
export async function signInThrough(page: Page, credentials: Credentials): Promise<void> {
  try {
    await page.evaluate(
      (input) => (globalThis as BenchGlobal).bench!.client.signIn(input).then(() => undefined),
      credentials,
    );
  } catch (error) {
    throw new Error(`signing in through the page failed: ${errorMessage(error)}`);
  }
}

export function statusOf(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as BenchGlobal).bench!.client.state.get().status);
}
