import type { Browser, Page } from 'playwright-core';
import type { Credentials } from '../targets/sessiond-api.js';
import { withTimeout } from '../with-timeout.js';
import {
  type BenchGlobal,
  openBenchTab,
  PAGE_STEP_TIMEOUT_MS,
  type PageBench,
  type RefreshEvent,
  signInThrough,
  statusOf,
} from './bench-page.js';

// ROW 6: two tabs of one browser context, signed in. Tab A calls `client.refresh()`; tab B's
// client adopts the grant A posts on BroadcastChannel('sessiond') without calling sessiond.
// Latency = when B's store changed to the new expiry − when A's store did, both read as
// performance.timeOrigin + performance.now() (one clock for all tabs of the browser).

export const CROSS_TAB_EVENTS = 200;
// Discarded first events: they compile the refresh and adoption paths in both tabs.
export const CROSS_TAB_WARMUP_EVENTS = 10;
// After each floor message and after each refresh, so no event overlaps the one before.
export const MIN_GAP_MS = 30;
export const MAX_GAP_MS = 50;
// A loopback refresh takes milliseconds; this bounds a wedged tab, not a slow machine.
const PER_EVENT_BUDGET_MS = 2 * MAX_GAP_MS + 1_000;

export interface CrossTabSamples {
  /** B's store change − A's store change, per event, in ms. */
  refreshMs: number[];
  /** One bare BroadcastChannel message A → B, posted just before each refresh, in ms. */
  floorMs: number[];
  /** Refresh calls tab B made itself during the events: 0 when it adopted every grant. */
  refreshCallsByB: number;
  /** Refresh calls tab A made during the events: one per event. */
  refreshCallsByA: number;
  events: number;
}

const readBench = (page: Page): Promise<Pick<PageBench, 'grants' | 'floor' | 'refreshCalls'>> =>
  page.evaluate(() => {
    const { grants, floor, refreshCalls } = (globalThis as BenchGlobal).bench!;
    return { grants, floor, refreshCalls };
  });

export async function measureCrossTab(
  browser: Browser,
  pageURL: string,
  credentials: Credentials,
): Promise<CrossTabSamples> {
  const context = await browser.newContext();
  try {
    const tabA = await openBenchTab(context, pageURL);
    const tabB = await openBenchTab(context, pageURL);
    await signInThrough(tabA, credentials);
    await tabB.waitForFunction(
      () => (globalThis as BenchGlobal).bench!.client.state.get().status === 'authenticated',
      undefined,
      { timeout: PAGE_STEP_TIMEOUT_MS },
    );
    const runEvents = (count: number): Promise<RefreshEvent[]> =>
      withTimeout(
        tabA.evaluate((options) => (globalThis as BenchGlobal).bench!.refreshEvents(options), {
          count,
          minGapMs: MIN_GAP_MS,
          maxGapMs: MAX_GAP_MS,
        }),
        count * PER_EVENT_BUDGET_MS,
        `${count} cross-tab refreshes`,
      );
    await runEvents(CROSS_TAB_WARMUP_EVENTS);
    const [aBefore, bBefore] = await Promise.all([readBench(tabA), readBench(tabB)]);
    const events = await runEvents(CROSS_TAB_EVENTS);
    // The last message may still be on its way to B.
    await tabB.waitForTimeout(MAX_GAP_MS);
    const [aAfter, bAfter] = await Promise.all([readBench(tabA), readBench(tabB)]);

    const grantAtB = new Map(bAfter.grants.map((grant) => [grant.expiresAt, grant.at]));
    const floorAtB = new Map(bAfter.floor.map((message) => [message.id, message.at]));
    const refreshMs: number[] = [];
    const floorMs: number[] = [];
    const missed: number[] = [];
    for (const event of events) {
      const adopted = grantAtB.get(event.grant.expiresAt);
      const arrived = floorAtB.get(event.id);
      if (adopted === undefined || arrived === undefined) {
        missed.push(event.id);
        continue;
      }
      refreshMs.push(adopted - event.grant.at);
      floorMs.push(arrived - event.floorPostedAt);
    }
    if (missed.length > 0) {
      throw new Error(
        `tab B never saw ${missed.length} of ${events.length} events (first: ${missed[0]}); ` +
          `its status is ${await statusOf(tabB)}`,
      );
    }
    return {
      refreshMs,
      floorMs,
      refreshCallsByA: aAfter.refreshCalls - aBefore.refreshCalls,
      refreshCallsByB: bAfter.refreshCalls - bBefore.refreshCalls,
      events: events.length,
    };
  } finally {
    await context.close();
  }
}
