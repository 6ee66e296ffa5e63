import { checkRatios, type RatioCheck } from '../comparisons.js';
import { MULTINODE_LATENCY_GOAL_MS, MULTINODE_REFRESH_RATIOS } from '../goals.js';
import { percentile } from '../percentile.js';
import type { TargetResult } from '../target-result.js';
import type { Placement } from './cross-node-latency.js';

/** One placement at one socket count of row 13. */
export interface CrossNodeLine {
  sockets: number;
  placement: Placement;
  latency: { samples: number[]; p50Ms: number; p99Ms: number } | null;
  goal: { below: number; met: boolean | null };
  /** Why there is no measurement. */
  failure: string | null;
}

/** Rows 12 and 13 as the report holds them. */
export interface MultinodeRows {
  /** PostgreSQL's version, as the services script started it; null when it did not start. */
  postgresVersion: string | null;
  /** Connections each node keeps to PostgreSQL. */
  poolSize: number;
  /** Row 12: one line per setup (SQLite, then 1, 2 and 3 PostgreSQL nodes). */
  refresh: TargetResult[];
  /** Row 12: each line's req/s ÷ the one-PostgreSQL-node line's. */
  refreshRatios: RatioCheck[];
  /** Row 13. */
  latency: CrossNodeLine[];
  /** What the nodes logged (warn level and above), per setup, for the report. */
  nodeOutput: Array<{ setup: string; lines: string[] }>;
  /** Why a row could not run at all (services or nodes did not start). */
  failures: string[];
}

export function refreshRatios(refresh: readonly TargetResult[]): RatioCheck[] {
  const rate = (id: string): number | null =>
    refresh.find((line) => line.id === id)?.requestsPerSecond ?? null;
  return checkRatios(MULTINODE_REFRESH_RATIOS, rate);
}

/** A measured line of row 13, or (without samples) a failed one with the reason. */
export function crossNodeLine(
  at: { sockets: number; placement: Placement },
  outcome: { samples: readonly number[] } | { failure: string },
): CrossNodeLine {
  const below = MULTINODE_LATENCY_GOAL_MS;
  if ('failure' in outcome)
    return { ...at, latency: null, goal: { below, met: null }, failure: outcome.failure };
  const { samples } = outcome;
  const latency = { samples: [...samples], p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
  return { ...at, latency, goal: { below, met: latency.p99Ms < below }, failure: null };
}

/** True when a line of either row has no measurement: the run is then incomplete. */
export function multinodeRowsFailed(rows: MultinodeRows): boolean {
  return (
    rows.failures.length > 0 ||
    rows.refresh.some((line) => line.failures.length > 0 || line.runs.length === 0) ||
    rows.latency.some((line) => line.failure !== null)
  );
}
