// The targets sessiond is held to. Ratios are sessiond's median req/s divided by the peer's,
// both measured in the same benchmark run, so machine speed cancels out.

export interface RatioGoal {
  sessiondId: string;
  peerId: string;
  /** Minimum ratio; undefined for a comparison shown for context only. */
  atLeast: number | undefined;
}

export const RATIO_GOALS: readonly RatioGoal[] = [
  { sessiondId: 'sessiond-refresh', peerId: 'ceiling-sign', atLeast: 0.7 },
  { sessiondId: 'sessiond-status', peerId: 'baseline-verify', atLeast: undefined },
  { sessiondId: 'sessiond-status', peerId: 'better-auth-get-session', atLeast: 10 },
  { sessiondId: 'sessiond-status', peerId: 'express-session-get', atLeast: 3 },
];

/** Median p99 latency ceilings, in milliseconds, for sessiond's hot paths. */
export const P99_GOALS_MS: Readonly<Record<string, number>> = {
  'sessiond-refresh': 50,
  'sessiond-status': 50,
};
