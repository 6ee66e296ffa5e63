import type { Browser } from 'playwright-core';
import type { Credentials } from '../targets/sessiond-api.js';
import { type BenchGlobal, loadBenchPage, openBenchTab, signInThrough } from './bench-page.js';

// ROW 7: how long after navigation start a page knows whether it is signed in. One tab of a
// browser context navigates to the page again and again; each navigation is a new document
// whose client restores from localStorage. With a persisted session (signed in once, before
// the loads) `client.ready` must leave `authenticated`; in a fresh context, `unauthenticated`.

export const PAGE_LOADS = 20;
// Discarded: the first load fills the HTTP cache and compiles the modules.
export const WARMUP_LOADS = 1;

export interface PageLoadSamples {
  /** Navigation start → `client.ready` resolved, per load, in ms. */
  readyMs: number[];
  /** `createSessionClient()` → `client.ready` resolved: the client's own part, in ms. */
  clientMs: number[];
}

export async function measurePageLoads(
  browser: Browser,
  pageURL: string,
  options: { signedInAs: Credentials | undefined },
): Promise<PageLoadSamples> {
  const expected = options.signedInAs === undefined ? 'unauthenticated' : 'authenticated';
  const context = await browser.newContext();
  try {
    const tab = await openBenchTab(context, pageURL);
    if (options.signedInAs !== undefined) await signInThrough(tab, options.signedInAs);
    const samples: PageLoadSamples = { readyMs: [], clientMs: [] };
    for (let load = 1; load <= WARMUP_LOADS + PAGE_LOADS; load++) {
      // A new navigation (not a reload): a new document, modules from the HTTP cache.
      await loadBenchPage(tab, pageURL);
      const seen = await tab.evaluate(() => {
        const { readyAt, readyStatus, createdAt } = (globalThis as BenchGlobal).bench!;
        return { readyAt: readyAt!, readyStatus, createdAt };
      });
      if (seen.readyStatus !== expected) {
        throw new Error(`load ${load}: client.ready left ${seen.readyStatus}, expected ${expected}`);
      }
      if (load <= WARMUP_LOADS) continue;
      samples.readyMs.push(seen.readyAt);
      samples.clientMs.push(seen.readyAt - seen.createdAt);
    }
    return samples;
  } finally {
    await context.close();
  }
}
