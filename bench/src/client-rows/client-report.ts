import { verdict } from '../ratio-cells.js';
import type { ClientGoalCheck, ClientResult, ClientRowId, ClientRows } from './client-row.js';
import { CROSS_TAB_EVENTS, CROSS_TAB_WARMUP_EVENTS, MAX_GAP_MS, MIN_GAP_MS } from './cross-tab.js';
import { PAGE_LOADS, WARMUP_LOADS } from './page-load.js';

// The table order: each row's measurement first, then its floor or breakdown.
const ORDER: readonly ClientRowId[] = [
  'cross-tab-refresh',
  'cross-tab-floor',
  'load-authenticated',
  'load-unauthenticated',
  'client-ready-authenticated',
  'client-ready-unauthenticated',
  'heap-one-client',
  'heap-client-per-cycle',
  'heap-bare-fetch',
];

const count = (value: number): string => value.toLocaleString('en-US');
// Two decimals below 10 ms: row 6 lives in fractions of a millisecond.
const ms = (value: number): string => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const kilobytes = (bytes: number): string =>
  `${bytes < 0 ? '−' : '+'}${count(Math.round(Math.abs(bytes) / 1024))} KB`;

function resultCell(result: ClientResult): string {
  if (result.latency !== null) return `p50 ${ms(result.latency.p50Ms)}, p99 ${ms(result.latency.p99Ms)}`;
  if (result.heap !== null) {
    return `${kilobytes(result.heap.retainedBytes)} (next ${count(result.heap.cycles)}: ${kilobytes(result.heap.retainedByMoreBytes)})`;
  }
  return 'n/a';
}

function samplesCell(result: ClientResult): string {
  if (result.latency !== null) return count(result.latency.samples.length);
  if (result.heap !== null) return `${count(result.heap.cycles)} cycles`;
  return '—';
}

function goalCells(result: ClientResult): [string, string] {
  const goal: ClientGoalCheck | null = result.goal;
  if (goal === null) return [result.floor ? 'floor, for context' : 'reported', '—'];
  if (result.row === 8) {
    const limit = (bytes: number): string => `< ${count(bytes / 1024)} KB`;
    return [
      `${limit(goal.below)}: ${verdict(goal.met)}`,
      `${limit(goal.stretchBelow)}: ${verdict(goal.stretchMet)}`,
    ];
  }
  return [
    `p99 < ${goal.below} ms: ${verdict(goal.met)}`,
    `p99 < ${goal.stretchBelow} ms: ${verdict(goal.stretchMet)}`,
  ];
}

function tableRow(result: ClientResult): string {
  const [goal, stretch] = goalCells(result);
  const cells = [String(result.row), result.label, samplesCell(result), resultCell(result), goal, stretch];
  return `| ${cells.join(' | ')} |`;
}

/** Rows 6 to 8: @sessiond/client itself, in Chromium and in Node. */
export function renderClientTable(rows: ClientRows): string[] {
  const ordered = [...rows.results].sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));
  return [
    '### Rows 6 to 8: @sessiond/client',
    '',
    'Rows 6 and 7: headless Chromium, the built client loaded as ES modules by a page served on the ' +
      'same origin as sessiond (a small proxy), bearer transport and localStorage. ' +
      `Row 6: two tabs of one context; ${CROSS_TAB_EVENTS} refreshes in tab A, ${MIN_GAP_MS} to ${MAX_GAP_MS} ms apart, ` +
      `after ${CROSS_TAB_WARMUP_EVENTS} discarded. ` +
      `Row 7: ${PAGE_LOADS} navigations of one tab, after ${WARMUP_LOADS} discarded. ` +
      'Row 8: Node, one child process per line started with `--expose-gc`; heapUsed after sign-in and ' +
      'gc() is subtracted from heapUsed after the cycles and gc() twice.',
    '',
    '| Row | Measurement | Samples | Result | Goal | Stretch goal |',
    '| --- | --- | ---: | --- | --- | --- |',
    ...ordered.map(tableRow),
    '',
    'p50 and p99 are nearest-rank percentiles (p99 of 20 loads is the slowest); the goals of rows 6 and 7 apply to the p99. ' +
      'Row 8: KB = 1,024 bytes; “next 1,000” is what 1,000 more cycles added on top of that.',
    ...heapNote(ordered),
  ];
}

/** How much of row 8's number is compiled code, and how much the floor retains without a client. */
function heapNote(results: readonly ClientResult[]): string[] {
  const heap = (id: ClientRowId) => results.find((result) => result.id === id)?.heap ?? null;
  const client = heap('heap-one-client');
  const floor = heap('heap-bare-fetch');
  if (client === null || floor === null) return [];
  return [
    '',
    `Row 8, one client: ${kilobytes(client.codeSpaceGrowthBytes)} of its ${kilobytes(client.retainedBytes)} ` +
      'is V8 code space (compiled code). The floor, the same refresh requests made with bare `fetch()`, ' +
      `retains ${kilobytes(floor.retainedBytes)} (${kilobytes(floor.codeSpaceGrowthBytes)} of it code), ` +
      `so the client's own share is ${kilobytes(client.retainedBytes - floor.retainedBytes)}.`,
  ];
}

export function clientWarnings(rows: ClientRows): string[] {
  // One line per reason: a browser that did not start fails six measurements at once.
  const failed = new Map<string, string[]>();
  for (const result of rows.results) {
    if (result.failure !== null)
      failed.set(result.failure, [...(failed.get(result.failure) ?? []), result.id]);
  }
  const lines = [...failed].map(([failure, ids]) => `- ⚠ **${ids.join(', ')} did not run**: ${failure}`);
  return [...lines, ...rows.warnings];
}
