import { checkLatencies, checkRatios, type LatencyCheck, type RatioCheck } from './comparisons.js';
import type { TargetResult } from './target-result.js';
import type { PasswordHashParams } from './targets/password-hash-params.js';
import { describeHashParams } from './targets/password-hash-params.js';
import type { RowId } from './targets/target.js';

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
  passwordHashParams: PasswordHashParams;
}

/** What latest.json holds; latest.md is renderMarkdown() of it. */
export interface BenchReport {
  meta: BenchMeta;
  results: TargetResult[];
  ratios: RatioCheck[];
  latencies: LatencyCheck[];
  /** Servers that could not be started, so their rows are missing. */
  serverFailures: Array<{ server: string; error: string }>;
}

const ROW_ORDER: readonly RowId[] = ['refresh', 'status', 'create'];
const ROW_NUMBER: Readonly<Record<RowId, number>> = { refresh: 1, status: 2, create: 3 };

export function buildReport(
  meta: BenchMeta,
  results: readonly TargetResult[],
  serverFailures: BenchReport['serverFailures'],
): BenchReport {
  // Stable sort: within a row, sessiond (started first) leads, then its peers.
  const ordered = [...results].sort((a, b) => ROW_ORDER.indexOf(a.row) - ROW_ORDER.indexOf(b.row));
  return {
    meta,
    results: ordered,
    ratios: checkRatios(ordered),
    latencies: checkLatencies(ordered),
    serverFailures,
  };
}

function formatRate(value: number | null): string {
  return value === null ? 'n/a' : Math.round(value).toLocaleString('en-US');
}

function formatMs(value: number | null): string {
  return value === null ? 'n/a' : Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function verdict(met: boolean | null): string {
  return met === null ? 'n/a' : met ? '✅ met' : '❌ missed';
}

function ratioCell(report: BenchReport, result: TargetResult): string {
  const check = report.ratios.find((ratio) => ratio.peerId === result.id);
  return check?.ratio == null ? '—' : `${check.ratio.toFixed(2)}×`;
}

function goalCell(report: BenchReport, result: TargetResult): string {
  const latency = report.latencies.find((check) => check.id === result.id);
  if (latency !== undefined) return `p99 < ${latency.maxMs} ms: ${verdict(latency.met)}`;
  const ratio = report.ratios.find((check) => check.peerId === result.id);
  if (ratio === undefined) return 'reported';
  if (ratio.atLeast === undefined) return 'context only';
  const goal = Number.isInteger(ratio.atLeast) ? String(ratio.atLeast) : ratio.atLeast.toFixed(2);
  return `≥ ${goal}×: ${verdict(ratio.met)}`;
}

function tableRow(report: BenchReport, result: TargetResult): string {
  const cells = [
    String(ROW_NUMBER[result.row]),
    result.label,
    `\`${result.request}\``,
    formatRate(result.requestsPerSecond),
    formatMs(result.p99Ms),
    String(result.non2xx),
    String(result.errors),
    ratioCell(report, result),
    goalCell(report, result),
  ];
  return `| ${cells.join(' | ')} |`;
}

function warnings(report: BenchReport): string[] {
  const lines: string[] = [];
  for (const failure of report.serverFailures)
    lines.push(`- ⚠ **${failure.server} did not run**: ${failure.error}`);
  for (const result of report.results) {
    for (const failure of result.failures) lines.push(`- ⚠ ${result.id}: a run failed: ${failure}`);
    if (result.non2xx > 0 || result.errors > 0) {
      const codes = new Map<string, number>();
      for (const run of [...(result.warmup === null ? [] : [result.warmup]), ...result.runs]) {
        for (const [code, count] of Object.entries(run.statusCodes))
          codes.set(code, (codes.get(code) ?? 0) + count);
      }
      const breakdown = [...codes].map(([code, count]) => `${code}×${count}`).join(', ');
      lines.push(
        `- ⚠ ${result.id}: ${result.non2xx} non-2xx, ${result.errors} errors (status codes: ${breakdown})`,
      );
    }
  }
  return lines;
}

export function renderMarkdown(report: BenchReport): string {
  const { meta } = report;
  const lines = [
    `## sessiond load benchmark, ${meta.startedAt}`,
    '',
    `autocannon on 127.0.0.1, ${meta.connections} connections, each server in its own process. ` +
      `Per target: ${meta.warmupSeconds} s warm-up, then the median of ${meta.runs} × ${meta.durationSeconds} s runs. ` +
      `Node ${meta.node}, ${meta.cores} × ${meta.cpu}, commit ${meta.commit}.`,
    '',
    '| Row | Server | Request | req/s | p99 ms | non-2xx | errors | sessiond ÷ this | Goal |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...report.results.map((result) => tableRow(report, result)),
    '',
    "req/s: 2xx responses per second, median of the measured runs. p99 ms: median of the runs' p99 latency. " +
      'non-2xx and errors: totals over all runs, warm-up included; anything but 0 makes that row suspect. ' +
      "sessiond ÷ this: sessiond's req/s for the same row divided by this server's, from this same run.",
    '',
    `Password hashing behind \`POST /api/auth/session/create\`: ${describeHashParams(meta.passwordHashParams)}.`,
  ];
  const warningLines = warnings(report);
  if (warningLines.length > 0) lines.push('', ...warningLines);
  return `${lines.join('\n')}\n`;
}
