import { CART_LATENCY_GOAL_MS, DASHBOARD_LOAD_GOAL_MS } from '../goals.js';
import { percentile } from '../percentile.js';

/** Every line of rows 14 and 15, as the report and latest.json name them. */
export type FacesLineId = 'dashboard-million' | 'dashboard-empty' | 'cart-shop' | 'cart-relay';

export interface FacesTiming {
  samples: number[];
  p50Ms: number;
  p99Ms: number;
}

export interface FacesLine {
  id: FacesLineId;
  row: 14 | 15;
  label: string;
  /** The line measured in the same run to compare with; null on a baseline line itself. */
  baselineId: FacesLineId | null;
  timing: FacesTiming | null;
  /** Row 14: navigation start → DOMContentLoaded of the same loads (the shell, before any data). */
  shell: FacesTiming | null;
  /** this p50 ÷ baseline p50 and this p99 ÷ baseline p99; null on a baseline or without data. */
  ratio: { p50: number; p99: number } | null;
  /** The p99 ceiling; null on a baseline line. */
  goal: { below: number; met: boolean | null } | null;
  failure: string | null;
}

/** Rows 14 and 15 as the report holds them; `warnings` make a measured line suspect. */
export interface FacesRows {
  lines: FacesLine[];
  /** What the run saw beside its numbers: rows drawn, quantities at the end. */
  notes: string[];
  warnings: string[];
  /** Why a row could not run at all. */
  failures: string[];
}

const LINES: Readonly<
  Record<FacesLineId, { row: 14 | 15; label: string; baselineId: FacesLineId | null; goalMs: number | null }>
> = {
  'dashboard-million': {
    row: 14,
    label: '`/admin` on a log of 1,000,000 rows: navigation start → `data-ready`',
    baselineId: 'dashboard-empty',
    goalMs: DASHBOARD_LOAD_GOAL_MS,
  },
  'dashboard-empty': {
    row: 14,
    label: 'baseline: `/admin` on an empty log (same build, browser and key)',
    baselineId: null,
    goalMs: null,
  },
  'cart-shop': {
    row: 15,
    label: 'live shop: “Add to cart” on one device → the other device’s cart shows it',
    baselineId: 'cart-relay',
    goalMs: CART_LATENCY_GOAL_MS,
  },
  'cart-relay': {
    row: 15,
    label: 'baseline: one frame between the same two contexts through a bare ws relay',
    baselineId: null,
    goalMs: null,
  },
};

export function timing(samples: readonly number[]): FacesTiming {
  return { samples: [...samples], p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
}

/** The line with its goal checked; the ratio is filled in by `withRatios` once both lines exist. */
export function facesLine(
  id: FacesLineId,
  outcome: { timing: FacesTiming; shell?: FacesTiming } | { failure: string },
): FacesLine {
  const { row, label, baselineId, goalMs } = LINES[id];
  const base = { id, row, label, baselineId, ratio: null };
  if ('failure' in outcome) {
    return {
      ...base,
      timing: null,
      shell: null,
      goal: goalMs === null ? null : { below: goalMs, met: null },
      failure: outcome.failure,
    };
  }
  return {
    ...base,
    timing: outcome.timing,
    shell: outcome.shell ?? null,
    goal: goalMs === null ? null : { below: goalMs, met: outcome.timing.p99Ms < goalMs },
    failure: null,
  };
}

/** Each measured line's p50 and p99 divided by those of its baseline from the same run. */
export function withRatios(lines: readonly FacesLine[]): FacesLine[] {
  return lines.map((line) => {
    const baseline = lines.find((other) => other.id === line.baselineId)?.timing;
    if (line.timing === null || baseline == null || baseline.p50Ms <= 0 || baseline.p99Ms <= 0) return line;
    return {
      ...line,
      ratio: { p50: line.timing.p50Ms / baseline.p50Ms, p99: line.timing.p99Ms / baseline.p99Ms },
    };
  });
}

/** True when a row, or a line of it, has no measurement. */
export function facesRowsFailed(rows: FacesRows): boolean {
  return rows.failures.length > 0 || rows.lines.some((line) => line.failure !== null);
}
