// The targets sessiond is held to. Ratios are sessiond's median req/s (row 4: calls/s) divided
// by the peer's, both measured in the same benchmark run, so machine speed cancels out.

export interface RatioGoal {
  sessiondId: string;
  peerId: string;
  /** Minimum ratio; undefined for a comparison shown for context only. */
  atLeast: number | undefined;
  /**
   * Where the table shows the ratio: on the peer's line (the default, "sessiond ÷ this"), or on
   * sessiond's own line against the peer named here (row 3b: "≥ 10× row 3").
   */
  shownOn?: { line: 'sessiond'; peerName: string };
}

export const RATIO_GOALS: readonly RatioGoal[] = [
  { sessiondId: 'sessiond-refresh', peerId: 'ceiling-sign', atLeast: 0.7 },
  { sessiondId: 'sessiond-status', peerId: 'baseline-verify', atLeast: undefined },
  { sessiondId: 'sessiond-status', peerId: 'better-auth-get-session', atLeast: 10 },
  { sessiondId: 'sessiond-status', peerId: 'express-session-get', atLeast: 3 },
  // Row 3b: a backend-created session checks no password, so it must beat row 3's argon2id sign-in by far.
  {
    sessiondId: 'sessiond-backend-create',
    peerId: 'sessiond-create',
    atLeast: 10,
    shownOn: { line: 'sessiond', peerName: 'row 3' },
  },
  // Row 5: what the plugin costs a Fastify resource server (authed ÷ unauthed), for context.
  { sessiondId: 'fastify-sessiond-auth', peerId: 'fastify-no-auth', atLeast: undefined },
];

/** Row 4: @sessiond/verify's verify() calls/s divided by the same-run calls/s of each peer loop. */
export const VERIFY_RATIO_GOALS: readonly RatioGoal[] = [
  { sessiondId: 'verify-sessiond', peerId: 'verify-raw', atLeast: 0.7 },
  { sessiondId: 'verify-sessiond', peerId: 'verify-jose', atLeast: undefined },
];

/** Median p99 latency ceilings, in milliseconds, for sessiond's hot paths. */
export const P99_GOALS_MS: Readonly<Record<string, number>> = {
  'sessiond-refresh': 50,
  'sessiond-status': 50,
};

/**
 * Rows 6 and 7 (@sessiond/client in Chromium): p99 ceilings in milliseconds, the product
 * spec's target and the stretch goal of a tenth of it.
 */
export const CLIENT_LATENCY_GOALS_MS: Readonly<Record<string, { below: number; stretchBelow: number }>> = {
  'cross-tab-refresh': { below: 50, stretchBelow: 5 },
  'load-authenticated': { below: 100, stretchBelow: 10 },
  'load-unauthenticated': { below: 100, stretchBelow: 10 },
};

/** Row 8: ceilings on the heap one client retains over 1,000 refreshes, in bytes (1 MB, 100 KB). */
export const CLIENT_HEAP_GOALS_BYTES: Readonly<Record<string, { below: number; stretchBelow: number }>> = {
  'heap-one-client': { below: 1024 * 1024, stretchBelow: 100 * 1024 },
};

/**
 * Row 9 (device to device over /api/sync): the product spec's p99 ceiling at every socket count,
 * and its aim at 1,000 sockets, in milliseconds.
 */
export const SYNC_LATENCY_GOAL_MS = { below: 100, stretchBelow: 10, stretchAtSockets: 1_000 } as const;

/** Row 10: sessiond's acknowledged operations/s over the WebSocket ÷ each other line's, for context. */
export const SYNC_OPS_RATIO_GOALS: readonly RatioGoal[] = [
  { sessiondId: 'ops-sessiond-ws', peerId: 'ops-sessiond-http', atLeast: undefined },
  { sessiondId: 'ops-sessiond-ws', peerId: 'ops-sqlite', atLeast: undefined },
];

/** Row 11 (admin API on a million-row log): the p99 ceiling of each request, in milliseconds. */
export const ADMIN_LATENCY_GOAL_MS = 100;

/**
 * Row 12 (refresh on 1, 2 and 3 nodes sharing PostgreSQL): each line's req/s ÷ the one-node
 * PostgreSQL line's, from the same run, for context. On a 2-core machine the nodes and PostgreSQL
 * share the CPUs, so what matters is the shape (flat, or falling a little), not a goal.
 */
export const MULTINODE_REFRESH_RATIOS: readonly RatioGoal[] = [
  { sessiondId: 'nodes-sqlite-1', peerId: 'nodes-pg-1', atLeast: undefined },
  { sessiondId: 'nodes-pg-2', peerId: 'nodes-pg-1', atLeast: undefined },
  { sessiondId: 'nodes-pg-3', peerId: 'nodes-pg-1', atLeast: undefined },
];

/** Row 13 (device to device across two nodes, through Redis): the product spec's p99 ceiling, in ms. */
export const MULTINODE_LATENCY_GOAL_MS = SYNC_LATENCY_GOAL_MS.below;

/** Row 14 (`/admin` on a million-row log, in Chromium): the p99 ceiling for a load, in ms. */
export const DASHBOARD_LOAD_GOAL_MS = 1_000;

/** Row 15 (the live shop's cart, one device to the other in Chromium): the p99 ceiling, in ms. */
export const CART_LATENCY_GOAL_MS = 100;
