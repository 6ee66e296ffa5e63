import { verdict } from '../ratio-cells.js';
import { ARRIVAL_TIMEOUT_MS, MEASURED_OPS, OPS_PER_SECOND, WARMUP_OPS } from '../sync-rows/device-latency.js';
import { ACTIVE_USERS, IDLE_USERS } from '../sync-rows/sync-sessiond.js';
import { type TargetResult, targetWarnings } from '../target-result.js';
import { CROSS_NODE_SOCKET_COUNTS } from './cross-node-latency.js';
import type { CrossNodeLine, MultinodeRows } from './multinode-row.js';
import { ONE_POSTGRES_NODE } from './refresh-scaling.js';

const count = (value: number): string => value.toLocaleString('en-US');
const rate = (value: number | null): string => (value === null ? 'n/a' : count(Math.round(value)));
const ms = (value: number | null | undefined): string =>
  value == null ? 'n/a' : value < 10 ? value.toFixed(2) : value.toFixed(1);
// How much of a node's log one warning quotes.
const QUOTED_LINES = 5;
const QUOTED_CHARS = 300;

function refreshRow(line: TargetResult, rows: MultinodeRows): string {
  const ratio = rows.refreshRatios.find((check) => check.sessiondId === line.id)?.ratio ?? null;
  const goal =
    line.id === 'nodes-sqlite-1' ? 'reference' : line.id === ONE_POSTGRES_NODE ? 'reported' : 'context only';
  const cells = [
    '12',
    line.label,
    rate(line.requestsPerSecond),
    line.p99Ms === null ? 'n/a' : String(line.p99Ms),
    String(line.non2xx),
    String(line.errors),
    ratio === null ? '—' : `${ratio.toFixed(2)}×`,
    goal,
  ];
  return `| ${cells.join(' | ')} |`;
}

function latencyRow(line: CrossNodeLine, lines: readonly CrossNodeLine[]): string {
  const same = lines.find((other) => other.sockets === line.sockets && other.placement === 'same-node');
  const ratio =
    line.placement === 'cross-node' && same?.latency && line.latency && same.latency.p99Ms > 0
      ? `${(line.latency.p99Ms / same.latency.p99Ms).toFixed(2)}×`
      : '—';
  const cells = [
    '13',
    count(line.sockets),
    line.placement === 'cross-node'
      ? '`apply` on node 1 → `op` on node 2 (and back)'
      : 'baseline: both devices on node 1 (row 9’s way)',
    line.latency === null ? '—' : count(line.latency.samples.length),
    ms(line.latency?.p50Ms),
    ms(line.latency?.p99Ms),
    ratio,
    `p99 < ${line.goal.below} ms: ${verdict(line.goal.met)}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

function sharedCores(cores: number): string {
  // One node per core would be the least for more nodes to add capacity, with PostgreSQL beside them.
  return cores <= 4
    ? `On this machine's ${cores} cores the nodes, PostgreSQL and autocannon share the same CPUs, so more nodes ` +
        'cannot add capacity: the shape (flat, or falling a little as the nodes compete) is the point, not the number.'
    : `The nodes, PostgreSQL and autocannon share this machine's ${cores} cores.`;
}

/** Rows 12 and 13: sessiond on several nodes sharing one PostgreSQL. */
export function renderMultinodeTable(
  rows: MultinodeRows,
  meta: { connections: number; warmupSeconds: number; durationSeconds: number; runs: number; cores: number },
): string[] {
  const postgres = rows.postgresVersion === null ? 'PostgreSQL' : `PostgreSQL ${rows.postgresVersion}`;
  return [
    '### Rows 12 and 13: several nodes sharing one PostgreSQL',
    '',
    `Row 12: \`POST /api/auth/session/refresh\` as in row 1 (one session and refresh-token chain per connection), ` +
      `${meta.connections} connections spread round-robin over the nodes, each staying on its node as behind a load ` +
      `balancer. Each node count has its own fresh database on one ${postgres} (fsync on) and its own Redis, every ` +
      `node its own process with a pool of ${rows.poolSize} connections; all setups run at once and the rounds go ` +
      'over them in turn: ' +
      `${meta.warmupSeconds} s warm-up, then the median of ${meta.runs} × ${meta.durationSeconds} s runs. ` +
      sharedCores(meta.cores),
    '',
    '| Row | Server | req/s | p99 ms | non-2xx | errors | this ÷ 1 PostgreSQL node | Goal |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.refresh.map((line) => refreshRow(line, rows)),
    '',
    `Row 13: row 9's measurement on two nodes sharing a database and Redis, at ${CROSS_NODE_SOCKET_COUNTS.map(count).join(' and ')} ` +
      `open sockets. ${ACTIVE_USERS} users with two devices send ${WARMUP_OPS} discarded and ${MEASURED_OPS} measured ` +
      `operations, ${OPS_PER_SECOND} per second in turn, the sender alternating every round; the other sockets belong ` +
      `to ${IDLE_USERS} idle users and are spread over both nodes. Across nodes, each user's phone is on node 1 and its ` +
      'laptop on node 2; the baseline, in the same run, has both on node 1.',
    '',
    '| Row | Sockets | Devices | Samples | p50 ms | p99 ms | cross ÷ same node (p99) | Goal |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.latency.map((line) => latencyRow(line, rows.latency)),
    '',
    "req/s, p99 ms, non-2xx and errors as in row 1's table. this ÷ 1 PostgreSQL node: the line's req/s divided by " +
      'the one-node PostgreSQL line’s, from this same run. Row 13: nearest-rank percentiles from the sender’s ' +
      `\`send()\` to the other device receiving the \`op\`; an operation that does not arrive within ` +
      `${ARRIVAL_TIMEOUT_MS / 1000} s fails the line.`,
  ];
}

export function multinodeWarnings(rows: MultinodeRows): string[] {
  const lines: string[] = [];
  for (const failure of rows.failures) lines.push(`- ⚠ **rows 12 and 13 did not run**: ${failure}`);
  if (rows.failures.length > 0) return lines;
  for (const line of rows.refresh) lines.push(...targetWarnings(line, `row 12 ${line.id}`));
  for (const line of rows.latency) {
    if (line.failure !== null)
      lines.push(
        `- ⚠ row 13 ${line.placement} at ${count(line.sockets)} sockets did not run: ${line.failure}`,
      );
  }
  // The nodes log at warn level: anything they wrote is worth a look.
  for (const { setup, lines: output } of rows.nodeOutput) {
    if (output.length === 0) continue;
    const quoted = output
      .slice(-QUOTED_LINES)
      .map((line) => `  - \`${line.slice(0, QUOTED_CHARS).replaceAll('`', "'")}\``);
    lines.push(
      `- ⚠ ${setup}: the nodes wrote ${count(output.length)} line${output.length === 1 ? '' : 's'} at warn level or above (each node's last 40 are kept); the last:`,
      ...quoted,
    );
  }
  return lines;
}
