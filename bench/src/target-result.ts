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
