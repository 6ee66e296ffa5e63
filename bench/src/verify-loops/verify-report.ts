import type { RatioCheck } from '../comparisons.js';
import { ratioCell, ratioGoalCell } from '../ratio-cells.js';
import type { VerifyResult, VerifyRow } from './verify-row.js';

function formatRate(value: number | null): string {
  return value === null ? 'n/a' : Math.round(value).toLocaleString('en-US');
}

function microsecondsPerCall(value: number | null): string {
  return value === null || value === 0 ? 'n/a' : (1e6 / value).toFixed(1);
}

function tableRow(result: VerifyResult, ratios: readonly RatioCheck[]): string {
  const cells = [
    '4',
    result.label,
    `\`${result.call}\``,
    formatRate(result.callsPerSecond),
    microsecondsPerCall(result.callsPerSecond),
    ratioCell(ratios, result.id),
    ratioGoalCell(ratios, result.id) ?? 'reported',
  ];
  return `| ${cells.join(' | ')} |`;
}

/** Row 4's own table: its unit is calls per second of one loop, not HTTP requests. */
export function renderVerifyTable(
  row: VerifyRow,
  ratios: readonly RatioCheck[],
  settings: { warmupSeconds: number; durationSeconds: number; runs: number },
): string[] {
  return [
    '### Row 4: verify() calls per second on one core',
    '',
    'One child process of its own, no HTTP: each loop verifies the same real sessiond access token ' +
      'strictly one call at a time (each awaited before the next). ' +
      `Per loop: ${settings.warmupSeconds} s warm-up, then the median of ${settings.runs} × ${settings.durationSeconds} s runs, ` +
      'the loops interleaved round by round.',
    '',
    '| Row | Verifier | One call | calls/s | µs/call | @sessiond/verify ÷ this | Goal |',
    '| --- | --- | --- | ---: | ---: | ---: | --- |',
    ...row.results.map((result) => tableRow(result, ratios)),
    '',
    '@sessiond/verify ÷ this: its calls/s divided by this loop’s, from this same run.',
  ];
}

// The loops present one token over and over. A verifier clearly faster than one bare RSA
// verify must be answering from a cache, and then row 4 no longer measures verification.
const FASTER_THAN_FLOOR = 1.1;

export function verifyWarnings(row: VerifyRow, ratios: readonly RatioCheck[]): string[] {
  if (row.failure !== null) return [`- ⚠ **row 4 (verify loops) did not run**: ${row.failure}`];
  const lines: string[] = [];
  if (row.verifierStatus !== 'live') {
    lines.push(
      `- ⚠ row 4: the verifier's revocation stream was \`${row.verifierStatus}\` after the runs, not live`,
    );
  }
  const raw = ratios.find((check) => check.peerId === 'verify-raw')?.ratio ?? null;
  if (raw !== null && raw > FASTER_THAN_FLOOR) {
    lines.push(
      `- ⚠ row 4: @sessiond/verify ran at ${raw.toFixed(2)}× the bare RSA verify, so it must be caching ` +
        'the result for the one token the loops present: this row then does not measure verification',
    );
  }
  return lines;
}
