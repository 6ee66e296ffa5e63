import { ADMIN_LATENCY_GOAL_MS } from '../goals.js';
import { percentile } from '../percentile.js';

/** Calls per measurement, one at a time, after the warm-up calls. */
export const ADMIN_CALLS = { warmup: 3, indexed: 50, baseline: 10 } as const;

export interface AdminTiming {
  samples: number[];
  p50Ms: number;
  p99Ms: number;
}

/** One admin request of row 11, on both servers. */
export interface AdminLine {
  id: string;
  label: string;
  path: string;
  indexed: AdminTiming | null;
  baseline: AdminTiming | null;
  /** baseline p50 ÷ sessiond p50: how many times faster the indexes make it. */
  speedup: number | null;
  goal: { below: number; met: boolean | null };
  failure: string | null;
}

export interface AdminRows {
  seed: { logRows: number; sessions: number; users: number; days: number; seedSeconds: number } | null;
  lines: AdminLine[];
  /** Why the row could not run at all. */
  failure: string | null;
}

export function timing(samples: readonly number[]): AdminTiming {
  return { samples: [...samples], p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
}

export function adminLine(
  request: { id: string; label: string; path: string },
  outcome: { indexed: AdminTiming; baseline: AdminTiming } | { failure: string },
): AdminLine {
  if ('failure' in outcome) {
    return {
      ...request,
      indexed: null,
      baseline: null,
      speedup: null,
      goal: { below: ADMIN_LATENCY_GOAL_MS, met: null },
      failure: outcome.failure,
    };
  }
  const { indexed, baseline } = outcome;
  return {
    ...request,
    indexed,
    baseline,
    speedup: indexed.p50Ms > 0 ? baseline.p50Ms / indexed.p50Ms : null,
    goal: { below: ADMIN_LATENCY_GOAL_MS, met: indexed.p99Ms < ADMIN_LATENCY_GOAL_MS },
    failure: null,
  };
}

/** True when the row, or a line of it, has no measurement. */
export function adminRowsFailed(rows: AdminRows): boolean {
  return rows.failure !== null || rows.lines.some((line) => line.failure !== null);
}
