import { SEED } from '../admin-rows/seed-log.js';
import { verdict } from '../ratio-cells.js';
import { CART_SAMPLES, CART_WARMUP_SAMPLES } from './cart-latency.js';
import { DASHBOARD_LOADS, DASHBOARD_WARMUP_LOADS } from './dashboard-load.js';
import type { FacesLine, FacesRows } from './faces-row.js';

const ms = (value: number | null | undefined): string =>
  value == null ? 'n/a' : value < 10 ? value.toFixed(2) : value.toFixed(1);
const ratio = (value: number | undefined): string => (value === undefined ? '—' : `${value.toFixed(2)}×`);

function lineRow(line: FacesLine): string {
  const cells = [
    String(line.row),
    line.label,
    line.timing === null ? 'n/a' : String(line.timing.samples.length),
    ms(line.timing?.p50Ms),
    ms(line.timing?.p99Ms),
    ratio(line.ratio?.p50),
    ratio(line.ratio?.p99),
    line.goal === null ? 'baseline, for context' : `p99 < ${line.goal.below} ms: ${verdict(line.goal.met)}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

/** Rows 14 and 15: the dashboard's first screen and the live shop's cart, in Chromium. */
export function renderFacesTable(rows: FacesRows): string[] {
  const shell = (id: FacesLine['id']): string => ms(rows.lines.find((line) => line.id === id)?.shell?.p50Ms);
  return [
    '### Rows 14 and 15: the dashboard and the live shop in Chromium',
    '',
    `Row 14: Debian's Chromium (headless, playwright-core) signed in to \`/admin\` through its admin-key form, then ` +
      `${DASHBOARD_WARMUP_LOADS} discarded and ${DASHBOARD_LOADS} measured navigations per server, one on each in turn: ` +
      `sessiond on row 11's log (${SEED.logRows.toLocaleString('en-US')} \`session_logs\` rows, ` +
      `${SEED.sessions.toLocaleString('en-US')} sessions, ${SEED.users.toLocaleString('en-US')} users) and the same ` +
      'build on an empty log. Each load runs from navigation start to the moment the page sets ' +
      '`data-ready="true"` (the first page of the log and all five charts drawn). ' +
      `Row 15: two browser contexts signed in to examples/live-shop as one user; ${CART_WARMUP_SAMPLES} discarded and ` +
      `${CART_SAMPLES} measured rounds, the devices taking turns: one clicks “Add Sunrise mug to cart”, the other's ` +
      'cart shows the new quantity. The baseline, in the same rounds just before each click: one frame from a tab of ' +
      "the sending context to a tab of the other through row 9's bare ws relay.",
    '',
    '| Row | Line | Samples | p50 ms | p99 ms | this ÷ baseline (p50) | this ÷ baseline (p99) | Goal |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.lines.map(lineRow),
    '',
    'p50 and p99 are nearest-rank percentiles (p99 of 30 loads is the slowest). Row 14, of which the shell ' +
      `(navigation start → DOMContentLoaded, before any data is asked for): p50 ${shell('dashboard-million')} ms on ` +
      `the million-row log, ${shell('dashboard-empty')} ms on the empty one. Row 15's times are ` +
      '`performance.timeOrigin + performance.now()` in both pages, one clock for the whole browser.',
    ...(rows.notes.length > 0 ? ['', rows.notes.join(' ')] : []),
  ];
}

export function facesWarnings(rows: FacesRows): string[] {
  const lines: string[] = rows.failures.map((failure) => `- ⚠ **${failure}**`);
  for (const line of rows.lines) {
    if (line.failure !== null && rows.failures.length === 0)
      lines.push(`- ⚠ row ${line.row} ${line.id}: ${line.failure}`);
  }
  for (const warning of rows.warnings) lines.push(`- ⚠ ${warning}`);
  return lines;
}
