import { verdict } from '../ratio-cells.js';
import { ADMIN_CALLS, type AdminLine, type AdminRows } from './admin-row.js';
import { ADMIN_LOG_INDEXES } from './seed-log.js';

const count = (value: number): string => value.toLocaleString('en-US');
const ms = (value: number | null | undefined): string =>
  value == null ? 'n/a' : value < 10 ? value.toFixed(2) : value.toFixed(1);

function lineRow(line: AdminLine): string {
  const cells = [
    '11',
    line.label,
    `\`GET ${line.path.split('?')[0]}\``,
    ms(line.indexed?.p50Ms),
    ms(line.indexed?.p99Ms),
    ms(line.baseline?.p50Ms),
    ms(line.baseline?.p99Ms),
    line.speedup === null ? '—' : `${line.speedup.toFixed(1)}×`,
    `p99 < ${line.goal.below} ms: ${verdict(line.goal.met)}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

/** Row 11: the admin API on a log of a million rows. */
export function renderAdminTable(rows: AdminRows): string[] {
  const seed = rows.seed;
  return [
    '### Row 11: admin API on a log of a million rows (`/api/admin/...`)',
    '',
    (seed === null
      ? 'The data could not be seeded. '
      : `${count(seed.logRows)} \`session_logs\` rows over ${seed.days} days, ${count(seed.sessions)} sessions and ` +
        `${count(seed.users)} users, written into sessiond's SQLite file in ${seed.seedSeconds.toFixed(1)} s. `) +
      `Each request: ${ADMIN_CALLS.warmup} warm-up calls, then ${ADMIN_CALLS.indexed} calls one at a time on sessiond ` +
      `as shipped and ${ADMIN_CALLS.baseline} on a second sessiond over a copy of the same file without the indexes of ` +
      `migration 0004 (${ADMIN_LOG_INDEXES.map((name) => `\`${name}\``).join(', ')}); both must give the same answer.`,
    '',
    '| Row | Request | Path | p50 ms | p99 ms | no-index p50 ms | no-index p99 ms | no-index ÷ sessiond (p50) | Goal |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.lines.map(lineRow),
    '',
    'p50 and p99 are nearest-rank percentiles of the HTTP round trip (p99 of 10 is the slowest). The session ' +
      'reports read the `sessions` table through its own indexes (migration 0001), and the user search the ' +
      'log’s (user_id, id) index of migration 0001, so for them both servers are alike.',
  ];
}

export function adminWarnings(rows: AdminRows): string[] {
  const lines: string[] = [];
  if (rows.failure !== null) lines.push(`- ⚠ **row 11 did not run**: ${rows.failure}`);
  for (const line of rows.lines) {
    if (line.failure !== null) lines.push(`- ⚠ row 11 ${line.id}: ${line.failure}`);
  }
  return lines;
}
