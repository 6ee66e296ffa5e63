import { P99_GOALS_MS, type RatioGoal } from './goals.js';
import type { TargetResult } from './target-result.js';

export interface RatioCheck {
  sessiondId: string;
  peerId: string;
  /** sessiond's rate ÷ the peer's (req/s, or calls/s in row 4); null when either is missing. */
  ratio: number | null;
  atLeast: number | undefined;
  /** null when there is no goal or no measurement. */
  met: boolean | null;
  shownOn?: RatioGoal['shownOn'];
}

export interface LatencyCheck {
  id: string;
  p99Ms: number | null;
  maxMs: number;
  met: boolean | null;
}

/** Checks each goal; `rate` answers a target's median rate by id, null when it has none. */
export function checkRatios(goals: readonly RatioGoal[], rate: (id: string) => number | null): RatioCheck[] {
  return goals.map((goal) => {
    const sessiond = rate(goal.sessiondId);
    const peer = rate(goal.peerId);
    const ratio = sessiond === null || peer === null || peer === 0 ? null : sessiond / peer;
    const met = ratio === null || goal.atLeast === undefined ? null : ratio >= goal.atLeast;
    const check: RatioCheck = {
      sessiondId: goal.sessiondId,
      peerId: goal.peerId,
      ratio,
      atLeast: goal.atLeast,
      met,
    };
    return goal.shownOn === undefined ? check : { ...check, shownOn: goal.shownOn };
  });
}

export function checkLatencies(results: readonly TargetResult[]): LatencyCheck[] {
  return Object.entries(P99_GOALS_MS).map(([id, maxMs]) => {
    const p99Ms = results.find((result) => result.id === id)?.p99Ms ?? null;
    return { id, p99Ms, maxMs, met: p99Ms === null ? null : p99Ms < maxMs };
  });
}
