import { adminWarnings, renderAdminTable } from './admin-rows/admin-report.js';
import type { AdminRows } from './admin-rows/admin-row.js';
import { clientWarnings, renderClientTable } from './client-rows/client-report.js';
import type { ClientRows } from './client-rows/client-row.js';
import { checkLatencies, checkRatios, type LatencyCheck, type RatioCheck } from './comparisons.js';
import type { BenchSelection } from './config.js';
import { facesWarnings, renderFacesTable } from './faces-rows/faces-report.js';
import type { FacesRows } from './faces-rows/faces-row.js';
import { RATIO_GOALS, VERIFY_RATIO_GOALS } from './goals.js';
import { multinodeWarnings, renderMultinodeTable } from './multinode-rows/multinode-report.js';
import type { MultinodeRows } from './multinode-rows/multinode-row.js';
import { ratioCell, ratioGoalCell, verdict } from './ratio-cells.js';
import { renderSyncTable, syncWarnings } from './sync-rows/sync-report.js';
import type { SyncRows } from './sync-rows/sync-row.js';
import { type TargetResult, targetWarnings } from './target-result.js';
import type { PasswordHashParams } from './targets/password-hash-params.js';
import { describeHashParams } from './targets/password-hash-params.js';
import type { RowId } from './targets/target.js';
import { renderVerifyTable, verifyWarnings } from './verify-loops/verify-report.js';
import type { VerifyRow } from './verify-loops/verify-row.js';

export interface BenchMeta {
  startedAt: string;
  node: string;
  cpu: string;
  cores: number;
  commit: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  runs: number;
  /**
   * BENCH_ONLY: `http` runs the HTTP rows (1, 2, 3, 3b, 5) alone, `sync` rows 9 and 10, `admin`
   * row 11, `multinode` rows 12 and 13, `faces` rows 14 and 15.
   */
  only: BenchSelection;
  passwordHashParams: PasswordHashParams;
}

/** What latest.json holds; latest.md is renderMarkdown() of it. */
export interface BenchReport {
  meta: BenchMeta;
  results: TargetResult[];
  ratios: RatioCheck[];
  latencies: LatencyCheck[];
  /** Row 4, verify() calls per second on one core, and its ratios; null when not selected. */
  verify: VerifyRow | null;
  verifyRatios: RatioCheck[];
  /** Rows 6 to 8, @sessiond/client in Chromium and in Node; null when not selected. */
  client: ClientRows | null;
  /** Rows 9 and 10, real-time sync over /api/sync; null when not selected. */
  sync: SyncRows | null;
  /** Row 11, the admin API on a million-row log; null when not selected. */
  admin: AdminRows | null;
  /** Rows 12 and 13, several nodes on one PostgreSQL and Redis; null when not selected. */
  multinode: MultinodeRows | null;
  /** Rows 14 and 15, the admin dashboard and the live shop in Chromium; null when not selected. */
  faces: FacesRows | null;
  /** Servers that could not be started, so their rows are missing. */
  serverFailures: Array<{ server: string; error: string }>;
}

// Rows 4 and 6 to 10 are not HTTP rows: they have tables of their own (verify-loops/verify-report.ts,
// client-rows/client-report.ts, sync-rows/sync-report.ts).
const ROW_ORDER: readonly RowId[] = ['refresh', 'status', 'create', 'backend-create', 'resource'];
const ROW_NUMBER: Readonly<Record<RowId, string>> = {
  refresh: '1',
  status: '2',
  create: '3',
  'backend-create': '3b',
  resource: '5',
};

export function buildReport(
  meta: BenchMeta,
  results: readonly TargetResult[],
  verify: VerifyRow | null,
  client: ClientRows | null,
  sync: SyncRows | null,
  admin: AdminRows | null,
  multinode: MultinodeRows | null,
  faces: FacesRows | null,
  serverFailures: BenchReport['serverFailures'],
): BenchReport {
  // Stable sort: within a row, sessiond (started first) leads, then its peers.
  const ordered = [...results].sort((a, b) => ROW_ORDER.indexOf(a.row) - ROW_ORDER.indexOf(b.row));
  const rate = (id: string): number | null =>
    ordered.find((result) => result.id === id)?.requestsPerSecond ?? null;
  const callRate = (id: string): number | null =>
    verify?.results.find((result) => result.id === id)?.callsPerSecond ?? null;
  return {
    meta,
    results: ordered,
    ratios: checkRatios(RATIO_GOALS, rate),
    latencies: checkLatencies(ordered),
    verify,
    verifyRatios: verify === null ? [] : checkRatios(VERIFY_RATIO_GOALS, callRate),
    client,
    sync,
    admin,
    multinode,
    faces,
    serverFailures,
  };
}

function formatRate(value: number | null): string {
  return value === null ? 'n/a' : Math.round(value).toLocaleString('en-US');
}

function formatMs(value: number | null): string {
  return value === null ? 'n/a' : Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function goalCell(report: BenchReport, result: TargetResult): string {
  const latency = report.latencies.find((check) => check.id === result.id);
  if (latency !== undefined) return `p99 < ${latency.maxMs} ms: ${verdict(latency.met)}`;
  return ratioGoalCell(report.ratios, result.id) ?? 'reported';
}

function tableRow(report: BenchReport, result: TargetResult): string {
  const cells = [
    ROW_NUMBER[result.row],
    result.label,
    `\`${result.request}\``,
    formatRate(result.requestsPerSecond),
    formatMs(result.p99Ms),
    String(result.non2xx),
    String(result.errors),
    ratioCell(report.ratios, result.id),
    goalCell(report, result),
  ];
  return `| ${cells.join(' | ')} |`;
}

function warnings(report: BenchReport): string[] {
  const lines: string[] = [];
  for (const failure of report.serverFailures)
    lines.push(`- ⚠ **${failure.server} did not run**: ${failure.error}`);
  for (const result of report.results) lines.push(...targetWarnings(result, result.id));
  return lines;
}

export function renderMarkdown(report: BenchReport): string {
  const { meta } = report;
  const lines = [`## sessiond load benchmark, ${meta.startedAt}`, ''];
  if (meta.only === 'all') lines.push(...renderHTTPTable(report), '');
  else if (meta.only === 'http')
    lines.push(`BENCH_ONLY=http: ${ONLY_ROWS.http} alone.`, '', ...renderHTTPTable(report), '');
  else lines.push(`BENCH_ONLY=${meta.only}: ${ONLY_ROWS[meta.only]} alone. ${machineLine(meta)}`, '');
  if (report.verify !== null) lines.push(...renderVerifyTable(report.verify, report.verifyRatios, meta), '');
  if (report.client !== null) lines.push(...renderClientTable(report.client), '');
  if (report.sync !== null) lines.push(...renderSyncTable(report.sync, meta));
  if (report.admin !== null)
    lines.push(...(report.sync !== null ? [''] : []), ...renderAdminTable(report.admin));
  if (report.multinode !== null)
    lines.push(
      ...(report.sync !== null || report.admin !== null ? [''] : []),
      ...renderMultinodeTable(report.multinode, meta),
    );
  if (report.faces !== null)
    lines.push(
      ...(report.sync !== null || report.admin !== null || report.multinode !== null ? [''] : []),
      ...renderFacesTable(report.faces),
    );
  const warningLines = [
    ...warnings(report),
    ...(report.verify === null ? [] : verifyWarnings(report.verify, report.verifyRatios)),
    ...(report.client === null ? [] : clientWarnings(report.client)),
    ...(report.sync === null ? [] : syncWarnings(report.sync)),
    ...(report.admin === null ? [] : adminWarnings(report.admin)),
    ...(report.multinode === null ? [] : multinodeWarnings(report.multinode)),
    ...(report.faces === null ? [] : facesWarnings(report.faces)),
  ];
  if (warningLines.length > 0) lines.push('', ...warningLines);
  return `${lines.join('\n')}\n`;
}

const ONLY_ROWS: Readonly<Record<Exclude<BenchSelection, 'all'>, string>> = {
  http: 'the HTTP rows (1, 2, 3, 3b and 5)',
  sync: 'rows 9 and 10',
  admin: 'row 11',
  multinode: 'rows 12 and 13',
  faces: 'rows 14 and 15 (the admin dashboard and the live shop in Chromium)',
};

function machineLine(meta: BenchMeta): string {
  return `Node ${meta.node}, ${meta.cores} × ${meta.cpu}, commit ${meta.commit}.`;
}

function renderHTTPTable(report: BenchReport): string[] {
  const { meta } = report;
  return [
    `autocannon on 127.0.0.1, ${meta.connections} connections, each server in its own process. ` +
      `Per target: ${meta.warmupSeconds} s warm-up, then the median of ${meta.runs} × ${meta.durationSeconds} s runs. ` +
      machineLine(meta),
    '',
    '| Row | Server | Request | req/s | p99 ms | non-2xx | errors | sessiond ÷ this | Goal |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...report.results.map((result) => tableRow(report, result)),
    '',
    "req/s: 2xx responses per second, median of the measured runs. p99 ms: median of the runs' p99 latency. " +
      'non-2xx and errors: totals over all runs, warm-up included; anything but 0 makes that row suspect. ' +
      "sessiond ÷ this: sessiond's req/s for the same row divided by this server's, from this same run " +
      '(row 5: the Fastify server with sessiondAuth divided by the one without; ' +
      "row 3b, on its own line: its req/s divided by row 3's).",
    '',
    `Password hashing behind \`POST /api/auth/session/create\`: ${describeHashParams(meta.passwordHashParams)}.`,
    '',
    `Row 3b: every request creates a real session through \`POST /api/backend/sessions\`, authenticated ` +
      `by a backend of \`SESSIOND_BACKENDS\` (HTTP Basic), for a user named by external id: one id per ` +
      `connection (${meta.connections}), each provisioned by its first request (in the warm-up), so the ` +
      'measured runs take the linked path: the (backend, external id) lookup, then the same device, risk, ' +
      "audit-log and token work as row 3, without row 3's argon2id. Both rows run in the same rounds.",
  ];
}
