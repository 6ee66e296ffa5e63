import { ratioCell, ratioGoalCell, verdict } from '../ratio-cells.js';
import {
  ARRIVAL_TIMEOUT_MS,
  MEASURED_OPS,
  OPS_PER_SECOND,
  SOCKET_COUNTS,
  WARMUP_OPS,
} from './device-latency.js';
import type { LatencyLine, OpsLine, SyncRows } from './sync-row.js';
import { ACTIVE_USERS, IDLE_USERS } from './sync-sessiond.js';

const count = (value: number): string => value.toLocaleString('en-US');
// Two decimals below 10 ms: loopback latencies live in fractions of a millisecond.
const ms = (value: number | null): string =>
  value === null ? 'n/a' : value < 10 ? value.toFixed(2) : value.toFixed(1);

function latencyRow(line: LatencyLine, lines: readonly LatencyLine[]): string {
  const sessiond = lines.find((other) => other.sockets === line.sockets && other.server === 'sessiond');
  const ratio =
    line.server === 'bare-ws' && sessiond?.latency && line.latency && line.latency.p99Ms > 0
      ? `${(sessiond.latency.p99Ms / line.latency.p99Ms).toFixed(2)}×`
      : '—';
  const goal = line.goal;
  const cells = [
    '9',
    count(line.sockets),
    line.label,
    line.latency === null ? '—' : count(line.latency.samples.length),
    ms(line.latency?.p50Ms ?? null),
    ms(line.latency?.p99Ms ?? null),
    ratio,
    goal === null ? 'baseline, for context' : `p99 < ${goal.below} ms: ${verdict(goal.met)}`,
    goal?.stretch ? `p99 < ${goal.stretch.below} ms: ${verdict(goal.stretch.met)}` : '—',
  ];
  return `| ${cells.join(' | ')} |`;
}

function opsRow(line: OpsLine, rows: SyncRows): string {
  const cells = [
    '10',
    line.label,
    line.operation,
    line.opsPerSecond === null ? 'n/a' : count(Math.round(line.opsPerSecond)),
    ms(line.p50Ms),
    ms(line.p99Ms),
    String(line.errors),
    ratioCell(rows.opsRatios, line.id),
    ratioGoalCell(rows.opsRatios, line.id) ?? 'reported',
  ];
  return `| ${cells.join(' | ')} |`;
}

/** Rows 9 and 10: real-time sync over /api/sync. */
export function renderSyncTable(
  rows: SyncRows,
  meta: { warmupSeconds: number; durationSeconds: number; runs: number },
): string[] {
  // Each socket count: sessiond first, then its baseline with the ratio.
  const latency = [...rows.latency].sort(
    (a, b) =>
      a.sockets - b.sockets || (a.server === 'sessiond' ? -1 : 1) - (b.server === 'sessiond' ? -1 : 1),
  );
  return [
    '### Rows 9 and 10: real-time sync (`GET /api/sync`)',
    '',
    `Row 9: at ${SOCKET_COUNTS.map(count).join(', ')} open sockets (authenticated and subscribed to \`cart\` on sessiond), ` +
      `${ACTIVE_USERS} users with two devices (one socket each) send ${WARMUP_OPS} discarded and ${MEASURED_OPS} measured ` +
      `operations, ${OPS_PER_SECOND} per second in turn; the rest of the sockets belong to ${IDLE_USERS} idle users ` +
      'and stay open. The latency runs from the sender’s `send()` to the other device’s socket receiving it, both in ' +
      'the harness process. The baseline is a bare ws server in its own process with the same sockets in the same ' +
      `groups. Row 10: ${meta.warmupSeconds} s warm-up, then the median of ${meta.runs} × ${meta.durationSeconds} s ` +
      'runs per line, the lines interleaved round by round.',
    '',
    '| Row | Sockets | Server | Samples | p50 ms | p99 ms | sessiond ÷ this (p99) | Goal | Stretch goal |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |',
    ...latency.map((line) => latencyRow(line, rows.latency)),
    '',
    '| Row | Server | Operation | ops/s | p50 ms | p99 ms | errors | sessiond ÷ this | Goal |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.ops.map((line) => opsRow(line, rows)),
    '',
    'p50 and p99 are nearest-rank percentiles. Row 9’s goals apply to sessiond’s p99 (the stretch goal at 1,000 ' +
      `sockets); an operation that does not arrive within ${ARRIVAL_TIMEOUT_MS / 1000} s fails the row. ` +
      'Row 10: ops/s counts acknowledged operations (HTTP: 2xx answers; raw SQLite: committed inserts); ' +
      'p50 and p99 are the medians of the runs’ percentiles of the time to that answer. ' +
      'sessiond ÷ this: the WebSocket line’s ops/s divided by this line’s, from this same run.',
  ];
}

export function syncWarnings(rows: SyncRows): string[] {
  const lines: string[] = [];
  // One line per reason: servers that did not start fail every measurement at once.
  const failed = new Map<string, string[]>();
  for (const line of rows.latency) {
    if (line.failure !== null)
      failed.set(line.failure, [
        ...(failed.get(line.failure) ?? []),
        `row 9 ${line.server} at ${count(line.sockets)}`,
      ]);
  }
  for (const [failure, ids] of failed) lines.push(`- ⚠ **${ids.join(', ')} did not run**: ${failure}`);
  for (const line of rows.ops) {
    for (const failure of line.failures) lines.push(`- ⚠ ${line.id}: a run failed: ${failure}`);
    if (line.errors > 0) lines.push(`- ⚠ ${line.id}: ${line.errors} operations refused or unanswered`);
  }
  return lines;
}
