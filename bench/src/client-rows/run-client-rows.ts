import type { Browser } from 'playwright-core';
import type { ChildServer } from '../child-server.js';
import type { BenchConfig } from '../config.js';
import { errorMessage, log } from '../log.js';
import { startPeerServer } from '../peer-server.js';
import type { Issuer } from '../targets/issuer.js';
import { type Credentials, signUp } from '../targets/sessiond-api.js';
import { launchChromium } from './chromium.js';
import {
  type ClientResult,
  type ClientRowId,
  type ClientRows,
  failedResult,
  heapResult,
  latencyResult,
} from './client-row.js';
import { CROSS_TAB_EVENTS, measureCrossTab } from './cross-tab.js';
import type { HeapVariant } from './heap-output.js';
import { measurePageLoads, PAGE_LOADS } from './page-load.js';
import { HEAP_CYCLES, runHeapChild } from './run-heap-child.js';

// Rows 6 to 8 measure @sessiond/client against the benchmark's sessiond, after the HTTP rows
// and row 4, with no load on. Each has an account of its own, so no row's sign-ins or
// refreshes touch another's sessions.
const PASSWORD = 'correct horse battery';
const ACCOUNTS = {
  tabs: { email: 'client-tabs@bench.test', password: PASSWORD },
  load: { email: 'client-load@bench.test', password: PASSWORD },
  heap: { email: 'client-heap@bench.test', password: PASSWORD },
} satisfies Record<string, Credentials>;

const BROWSER_ROWS: readonly ClientRowId[] = [
  'cross-tab-refresh',
  'cross-tab-floor',
  'load-authenticated',
  'load-unauthenticated',
  'client-ready-authenticated',
  'client-ready-unauthenticated',
];
const HEAP_ROWS: ReadonlyArray<[ClientRowId, HeapVariant]> = [
  ['heap-one-client', 'one-client'],
  ['heap-client-per-cycle', 'client-per-cycle'],
  ['heap-bare-fetch', 'bare-fetch'],
];
const ALL_ROWS: readonly ClientRowId[] = [...BROWSER_ROWS, ...HEAP_ROWS.map(([id]) => id)];

/** Runs `measure`; if it throws, every row in `ids` is marked failed with the reason. */
async function attempt(
  ids: readonly ClientRowId[],
  what: string,
  measure: () => Promise<ClientResult[]>,
): Promise<ClientResult[]> {
  try {
    return await measure();
  } catch (error) {
    log(`  ${what} failed: ${errorMessage(error)}`);
    return ids.map((id) => failedResult(id, `${what}: ${errorMessage(error)}`));
  }
}

export async function measureClientRows(
  config: BenchConfig,
  issuer: Issuer | undefined,
): Promise<ClientRows> {
  if (issuer === undefined) {
    const why = 'sessiond did not start, so there is nothing for the client to sign in to';
    return { results: ALL_ROWS.map((id) => failedResult(id, why)), warnings: [] };
  }
  try {
    for (const credentials of Object.values(ACCOUNTS)) await signUp(issuer.url, credentials);
  } catch (error) {
    const why = `could not create the client rows' accounts: ${errorMessage(error)}`;
    return { results: ALL_ROWS.map((id) => failedResult(id, why)), warnings: [] };
  }
  const warnings: string[] = [];
  const results = await attempt(BROWSER_ROWS, 'rows 6 and 7 (Chromium)', () =>
    measureBrowserRows(config, issuer, warnings),
  );
  for (const [id, variant] of HEAP_ROWS) {
    log(`row 8: ${HEAP_CYCLES} refresh cycles, ${variant}, in a child process of its own`);
    results.push(
      ...(await attempt([id], `row 8 (${variant})`, async () => {
        const output = await runHeapChild(config, {
          sessiondURL: issuer.url,
          credentials: ACCOUNTS.heap,
          variant,
        });
        const result = heapResult(id, output);
        log(
          `  retained ${Math.round(result.heap!.retainedBytes / 1024)} KB, ` +
            `then ${Math.round(result.heap!.retainedByMoreBytes / 1024)} KB over ${HEAP_CYCLES} more`,
        );
        return [result];
      })),
    );
  }
  return { results, warnings };
}

/** Rows 6 and 7: one page server (same origin as the API, through its proxy), one Chromium. */
async function measureBrowserRows(
  config: BenchConfig,
  issuer: Issuer,
  warnings: string[],
): Promise<ClientResult[]> {
  let pageServer: ChildServer | undefined;
  let browser: Browser | undefined;
  try {
    pageServer = await startPeerServer(config, 'client-page', { env: { SESSIOND_URL: issuer.url } });
    browser = await launchChromium();
    const pageURL = `${pageServer.baseURL}/app.html`;
    const chromium = browser;
    const results: ClientResult[] = [];

    log(`row 6: ${CROSS_TAB_EVENTS} refreshes in tab A, adopted by tab B (Chromium ${chromium.version()})`);
    results.push(
      ...(await attempt(['cross-tab-refresh', 'cross-tab-floor'], 'row 6 (cross-tab)', async () => {
        const samples = await measureCrossTab(chromium, pageURL, ACCOUNTS.tabs);
        if (samples.refreshCallsByB > 0) {
          warnings.push(
            `- ⚠ row 6: tab B called the refresh endpoint ${samples.refreshCallsByB} times itself ` +
              'instead of adopting tab A’s grants',
          );
        }
        if (samples.refreshCallsByA !== samples.events) {
          warnings.push(
            `- ⚠ row 6: tab A made ${samples.refreshCallsByA} refresh calls for ${samples.events} refreshes`,
          );
        }
        const refresh = latencyResult('cross-tab-refresh', samples.refreshMs);
        const floor = latencyResult('cross-tab-floor', samples.floorMs);
        log(`  p50 ${refresh.latency!.p50Ms.toFixed(2)} ms, p99 ${refresh.latency!.p99Ms.toFixed(2)} ms`);
        return [refresh, floor];
      })),
    );

    for (const signedIn of [true, false]) {
      const state = signedIn ? 'authenticated' : 'unauthenticated';
      log(`row 7: ${PAGE_LOADS} page loads to a known session state, ${state}`);
      const ids: ClientRowId[] = [`load-${state}`, `client-ready-${state}`];
      results.push(
        ...(await attempt(ids, `row 7 (${state})`, async () => {
          const samples = await measurePageLoads(chromium, pageURL, {
            signedInAs: signedIn ? ACCOUNTS.load : undefined,
          });
          const load = latencyResult(`load-${state}`, samples.readyMs);
          log(`  p50 ${load.latency!.p50Ms.toFixed(1)} ms, p99 ${load.latency!.p99Ms.toFixed(1)} ms`);
          return [load, latencyResult(`client-ready-${state}`, samples.clientMs)];
        })),
      );
    }
    return results;
  } finally {
    await browser?.close();
    await pageServer?.stop();
  }
}
