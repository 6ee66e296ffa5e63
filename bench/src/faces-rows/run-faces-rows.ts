import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../client-rows/chromium.js';
import type { BenchConfig } from '../config.js';
import { errorMessage, log } from '../log.js';
import { signUp } from '../targets/sessiond-api.js';
import { withTimeout } from '../with-timeout.js';
import { CART_SAMPLES, CART_WARMUP_SAMPLES, measureCartLatency } from './cart-latency.js';
import {
  DASHBOARD_LOADS,
  DASHBOARD_WARMUP_LOADS,
  type DashboardLoad,
  loadDashboard,
  openDashboard,
} from './dashboard-load.js';
import { startDashboardNodes } from './dashboard-nodes.js';
import { type FacesLine, type FacesRows, facesLine, timing, withRatios } from './faces-row.js';
import { startShopServers } from './shop-servers.js';

// Rows 14 and 15, "the faces" (issue 16): the admin dashboard and the live shop in Debian's
// Chromium, each against a baseline measured in the same run. They run after row 11, on servers
// of their own, with one browser for both rows.

// Bounds a wedged browser or server, not a slow machine: the rows take about a minute.
const DASHBOARD_BUDGET_MS = 5 * 60_000;
const CART_BUDGET_MS = 5 * 60_000;

interface RowOutcome {
  lines: FacesLine[];
  notes: string[];
  warnings: string[];
}

async function dashboardRow(config: BenchConfig, browser: Browser): Promise<RowOutcome> {
  const nodes = await startDashboardNodes(config);
  try {
    log(
      `row 14: /admin in Chromium, ${DASHBOARD_WARMUP_LOADS} + ${DASHBOARD_LOADS} loads each on the million-row and the empty log`,
    );
    const million = await openDashboard(browser, nodes.million.baseURL, nodes.key);
    const empty = await openDashboard(browser, nodes.empty.baseURL, nodes.key);
    const loads: { million: DashboardLoad[]; empty: DashboardLoad[] } = { million: [], empty: [] };
    // Interleaved, one load each in turn, so a slower moment of the machine hits both lines.
    for (let load = 0; load < DASHBOARD_WARMUP_LOADS + DASHBOARD_LOADS; load++) {
      const onMillion = await loadDashboard(million, nodes.million.baseURL);
      const onEmpty = await loadDashboard(empty, nodes.empty.baseURL);
      if (load < DASHBOARD_WARMUP_LOADS) continue;
      loads.million.push(onMillion);
      loads.empty.push(onEmpty);
    }
    await million.context().close();
    await empty.context().close();
    const warnings: string[] = [];
    const logRows = new Set(loads.million.map((sample) => sample.logRows));
    if (logRows.size !== 1 || !logRows.has(50)) {
      warnings.push(
        `row 14: the million-row log's first page showed ${[...logRows].join(', ')} rows, not 50`,
      );
    }
    if (loads.empty.some((sample) => sample.logRows !== 0))
      warnings.push('row 14: the empty log showed log rows');
    const line = (id: 'dashboard-million' | 'dashboard-empty', samples: DashboardLoad[]): FacesLine =>
      facesLine(id, {
        timing: timing(samples.map((sample) => sample.readyMs)),
        shell: timing(samples.map((sample) => sample.shellMs)),
      });
    const lines = [line('dashboard-million', loads.million), line('dashboard-empty', loads.empty)];
    for (const measured of lines) {
      log(
        `  ${measured.id.padEnd(18)} p50 ${measured.timing!.p50Ms.toFixed(1).padStart(6)} ms  p99 ${measured.timing!.p99Ms.toFixed(1).padStart(6)} ms  (DOMContentLoaded p50 ${measured.shell!.p50Ms.toFixed(1)} ms)`,
      );
    }
    return {
      lines,
      notes: [
        `Row 14's log was seeded in ${(nodes.seeded.seedMs / 1000).toFixed(1)} s; its first page showed ` +
          `${[...logRows].join(', ')} rows on the measured loads.`,
      ],
      warnings,
    };
  } finally {
    await nodes.stop();
  }
}

async function cartRow(config: BenchConfig, browser: Browser): Promise<RowOutcome> {
  const servers = await startShopServers(config);
  try {
    const credentials = {
      email: 'cart@bench.test',
      password: `bench-${randomBytes(18).toString('base64url')}`,
    };
    await signUp(servers.sessiond.baseURL, credentials);
    log(
      `row 15: live-shop cart across two Chromium contexts, ${CART_WARMUP_SAMPLES} + ${CART_SAMPLES} rounds (and the bare relay)`,
    );
    const samples = await measureCartLatency(
      browser,
      { shop: servers.shopURL, relay: servers.relay.baseURL },
      credentials,
    );
    const lines = [
      facesLine('cart-shop', { timing: timing(samples.shopMs) }),
      facesLine('cart-relay', { timing: timing(samples.relayMs) }),
    ];
    for (const measured of lines) {
      log(
        `  ${measured.id.padEnd(18)} p50 ${measured.timing!.p50Ms.toFixed(2).padStart(6)} ms  p99 ${measured.timing!.p99Ms.toFixed(2).padStart(6)} ms`,
      );
    }
    const { phone, laptop, expected } = samples.finalQuantities;
    const warnings =
      phone === expected && laptop === expected
        ? []
        : [`row 15: after ${expected} clicks the phone's cart shows ${phone} and the laptop's ${laptop}`];
    return {
      lines,
      notes: [
        `Row 15: after ${expected} clicks both carts showed ${phone === laptop ? phone : `${phone} / ${laptop}`}.`,
      ],
      warnings,
    };
  } finally {
    await servers.stop();
  }
}

async function guarded(
  row: 14 | 15,
  ids: ReadonlyArray<FacesLine['id']>,
  budgetMs: number,
  measure: () => Promise<RowOutcome>,
): Promise<RowOutcome & { failure: string | null }> {
  try {
    return { ...(await withTimeout(measure(), budgetMs, `row ${row}`)), failure: null };
  } catch (error) {
    log(`  row ${row} failed: ${errorMessage(error)}`);
    return {
      lines: ids.map((id) => facesLine(id, { failure: errorMessage(error) })),
      notes: [],
      warnings: [],
      failure: `row ${row}: ${errorMessage(error)}`,
    };
  }
}

export async function measureFacesRows(config: BenchConfig): Promise<FacesRows> {
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    const why = `Chromium did not start: ${errorMessage(error)}`;
    return {
      lines: withRatios(
        (['dashboard-million', 'dashboard-empty', 'cart-shop', 'cart-relay'] as const).map((id) =>
          facesLine(id, { failure: why }),
        ),
      ),
      notes: [],
      warnings: [],
      failures: [why],
    };
  }
  try {
    const dashboard = await guarded(14, ['dashboard-million', 'dashboard-empty'], DASHBOARD_BUDGET_MS, () =>
      dashboardRow(config, browser),
    );
    const cart = await guarded(15, ['cart-shop', 'cart-relay'], CART_BUDGET_MS, () =>
      cartRow(config, browser),
    );
    return {
      lines: withRatios([...dashboard.lines, ...cart.lines]),
      notes: [...dashboard.notes, ...cart.notes],
      warnings: [...dashboard.warnings, ...cart.warnings],
      failures: [dashboard.failure, cart.failure].filter((failure): failure is string => failure !== null),
    };
  } finally {
    await browser.close();
  }
}
