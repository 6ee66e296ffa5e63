import type { RatioCheck } from '../comparisons.js';
import { SYNC_LATENCY_GOAL_MS } from '../goals.js';
import { median } from '../median.js';
import { installedVersion } from '../package-version.js';
import { percentile } from '../percentile.js';
import { OPS_IN_FLIGHT, type OpsSample } from './durable-ops.js';
import type { SyncEndpoint } from './endpoint.js';
import { ACTIVE_USERS } from './sync-sessiond.js';

/** Row 9's goal and, at 1,000 sockets, its stretch; null without a measurement. */
export interface SyncGoalCheck {
  below: number;
  met: boolean | null;
  /** Only at SYNC_LATENCY_GOAL_MS.stretchAtSockets. */
  stretch: { below: number; met: boolean | null } | null;
}

/** One server at one socket count of row 9. */
export interface LatencyLine {
  sockets: number;
  server: SyncEndpoint['id'];
  /** Who answers, as shown in the table. */
  label: string;
  latency: { samples: number[]; p50Ms: number; p99Ms: number } | null;
  /** sessiond's lines only. */
  goal: SyncGoalCheck | null;
  /** Why there is no measurement. */
  failure: string | null;
}

export type OpsLineId = 'ops-sessiond-ws' | 'ops-sessiond-http' | 'ops-sqlite';

/** One line of row 10: a warm-up and the measured runs, with their medians. */
export interface OpsLine {
  id: OpsLineId;
  /** Who answers, and the work one operation is, as shown in the table. */
  label: string;
  operation: string;
  warmup: OpsSample | null;
  runs: OpsSample[];
  /** Runs (warm-up included) that could not be made at all, with the reason. */
  failures: string[];
  /** Medians over the measured runs; null when none succeeded. */
  opsPerSecond: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Total over every run, warm-up included: anything but 0 makes the line suspect. */
  errors: number;
}

/** Rows 9 and 10 as the report holds them. */
export interface SyncRows {
  latency: LatencyLine[];
  ops: OpsLine[];
  opsRatios: RatioCheck[];
}

function describeServer(server: SyncEndpoint['id'], benchDir: string): string {
  return server === 'sessiond'
    ? 'sessiond: `apply` on one device → `op` on the other'
    : `bare ws ${installedVersion('ws', benchDir)}: the same frame relayed, no auth, no storage`;
}

function describeOps(id: OpsLineId, benchDir: string): { label: string; operation: string } {
  const inFlight = (ACTIVE_USERS * OPS_IN_FLIGHT).toLocaleString('en-US');
  switch (id) {
    case 'ops-sessiond-ws':
      return {
        label: 'sessiond, WebSocket',
        operation: `\`apply\` → \`ack\`, ${ACTIVE_USERS} sockets × ${OPS_IN_FLIGHT} in flight`,
      };
    case 'ops-sessiond-http':
      return {
        label: 'sessiond, HTTP (autocannon)',
        operation: `\`POST /api/state/cart/ops\`, ${inFlight} connections`,
      };
    case 'ops-sqlite':
      return {
        label: `raw better-sqlite3 ${installedVersion('better-sqlite3', benchDir)} (WAL, synchronous=FULL)`,
        operation: 'one INSERT per transaction, one at a time',
      };
  }
}

function goalFor(sockets: number, p99Ms: number | null): SyncGoalCheck {
  const { below, stretchBelow, stretchAtSockets } = SYNC_LATENCY_GOAL_MS;
  return {
    below,
    met: p99Ms === null ? null : p99Ms < below,
    stretch:
      sockets === stretchAtSockets
        ? { below: stretchBelow, met: p99Ms === null ? null : p99Ms < stretchBelow }
        : null,
  };
}

/** A measured line of row 9, or (without samples) a failed one with the reason. */
export function latencyLine(
  at: { sockets: number; server: SyncEndpoint['id']; benchDir: string },
  outcome: { samples: readonly number[] } | { failure: string },
): LatencyLine {
  const { sockets, server } = at;
  const label = describeServer(server, at.benchDir);
  if ('failure' in outcome) {
    const goal = server === 'sessiond' ? goalFor(sockets, null) : null;
    return { sockets, server, label, latency: null, goal, failure: outcome.failure };
  }
  const { samples } = outcome;
  const latency = { samples: [...samples], p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
  const goal = server === 'sessiond' ? goalFor(sockets, latency.p99Ms) : null;
  return { sockets, server, label, latency, goal, failure: null };
}

export function summarizeOps(
  id: OpsLineId,
  measured: { warmup: OpsSample | null; runs: OpsSample[]; failures: string[] },
  benchDir: string,
): OpsLine {
  const all = measured.warmup === null ? measured.runs : [measured.warmup, ...measured.runs];
  const hasRuns = measured.runs.length > 0;
  return {
    id,
    ...describeOps(id, benchDir),
    ...measured,
    opsPerSecond: hasRuns ? median(measured.runs.map((run) => run.opsPerSecond)) : null,
    p50Ms: hasRuns ? median(measured.runs.map((run) => run.p50Ms)) : null,
    p99Ms: hasRuns ? median(measured.runs.map((run) => run.p99Ms)) : null,
    errors: all.reduce((sum, run) => sum + run.errors, 0),
  };
}

/** True when a line of either row has no measurement: the run is then incomplete. */
export function syncRowsFailed(rows: SyncRows): boolean {
  return (
    rows.latency.some((line) => line.failure !== null) ||
    rows.ops.some((line) => line.failures.length > 0 || line.runs.length === 0)
  );
}
