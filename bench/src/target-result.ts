import type { RunSample } from './autocannon-runner.js';
import { median } from './median.js';
import type { RowId } from './targets/target.js';

/** Everything measured for one target, and its medians over the measured runs. */
export interface TargetResult {
  id: string;
  row: RowId;
  label: string;
  request: string;
  warmup: RunSample | null;
  runs: RunSample[];
  /** Runs (warm-up included) that could not be made at all, with the reason. */
  failures: string[];
  /** Median over the measured runs; null when none succeeded. */
  requestsPerSecond: number | null;
  p99Ms: number | null;
  /** Totals over every run, warm-up included: any non-zero value makes the row suspect. */
  non2xx: number;
  errors: number;
}

export function summarize(
  target: { id: string; row: RowId; label: string; request: string },
  measured: { warmup: RunSample | null; runs: RunSample[]; failures: string[] },
): TargetResult {
  const all = measured.warmup === null ? measured.runs : [measured.warmup, ...measured.runs];
  const hasRuns = measured.runs.length > 0;
  return {
    id: target.id,
    row: target.row,
    label: target.label,
    request: target.request,
    ...measured,
    requestsPerSecond: hasRuns ? median(measured.runs.map((run) => run.requestsPerSecond)) : null,
    p99Ms: hasRuns ? median(measured.runs.map((run) => run.p99Ms)) : null,
    non2xx: all.reduce((sum, run) => sum + run.non2xx, 0),
    errors: all.reduce((sum, run) => sum + run.errors, 0),
  };
}

/**
 * The report's warnings for one target, each line prefixed with `name`: runs that could not be
 * made, and non-2xx answers or errors with the status codes behind them (warm-up included).
 */
export function targetWarnings(result: TargetResult, name: string): string[] {
  const lines = result.failures.map((failure) => `- ⚠ ${name}: a run failed: ${failure}`);
  if (result.non2xx > 0 || result.errors > 0) {
    const codes = new Map<string, number>();
    for (const run of [...(result.warmup === null ? [] : [result.warmup]), ...result.runs]) {
      for (const [code, count] of Object.entries(run.statusCodes))
        codes.set(code, (codes.get(code) ?? 0) + count);
    }
    const breakdown = [...codes].map(([code, count]) => `${code}×${count}`).join(', ');
    lines.push(`- ⚠ ${name}: ${result.non2xx} non-2xx, ${result.errors} errors (status codes: ${breakdown})`);
  }
  return lines;
}
