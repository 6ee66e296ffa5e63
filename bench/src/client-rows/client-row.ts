import { CLIENT_HEAP_GOALS_BYTES, CLIENT_LATENCY_GOALS_MS } from '../goals.js';
import { percentile } from '../percentile.js';
import type { HeapOutput } from './heap-output.js';

/** Every measurement of rows 6 to 8, as the report and latest.json name them. */
export type ClientRowId =
  | 'cross-tab-refresh'
  | 'cross-tab-floor'
  | 'load-authenticated'
  | 'load-unauthenticated'
  | 'client-ready-authenticated'
  | 'client-ready-unauthenticated'
  | 'heap-one-client'
  | 'heap-client-per-cycle'
  | 'heap-bare-fetch';

export interface LatencyStats {
  samples: number[];
  p50Ms: number;
  p99Ms: number;
}

export interface HeapStats extends HeapOutput {
  /** afterBytes − beforeBytes: the row's number. */
  retainedBytes: number;
  /** afterMoreBytes − afterBytes: what the next `cycles` cycles added. */
  retainedByMoreBytes: number;
}

/** A goal and its stretch (a tenth of it), both met or missed; null without a measurement. */
export interface ClientGoalCheck {
  below: number;
  stretchBelow: number;
  met: boolean | null;
  stretchMet: boolean | null;
}

export interface ClientResult {
  id: ClientRowId;
  row: 6 | 7 | 8;
  /** What is measured, as shown in the table. */
  label: string;
  /** A floor: the same work without the client, for context. */
  floor: boolean;
  latency: LatencyStats | null;
  heap: HeapStats | null;
  goal: ClientGoalCheck | null;
  /** Why there is no measurement. */
  failure: string | null;
}

/** Rows 6 to 8 as the report holds them; `warnings` make a measured row suspect. */
export interface ClientRows {
  results: ClientResult[];
  warnings: string[];
}

const LABELS: Readonly<Record<ClientRowId, { row: 6 | 7 | 8; label: string; floor: boolean }>> = {
  'cross-tab-refresh': {
    row: 6,
    label: "`client.refresh()` in tab A → tab B's store holds the new grant",
    floor: false,
  },
  'cross-tab-floor': {
    row: 6,
    label: 'floor: one bare BroadcastChannel message, tab A → tab B',
    floor: true,
  },
  'load-authenticated': {
    row: 7,
    label: 'navigation start → `client.ready`, persisted session (`authenticated`)',
    floor: false,
  },
  'load-unauthenticated': {
    row: 7,
    label: 'navigation start → `client.ready`, signed out (`unauthenticated`)',
    floor: false,
  },
  'client-ready-authenticated': {
    row: 7,
    label: 'of which `createSessionClient()` → `client.ready`, persisted session',
    floor: false,
  },
  'client-ready-unauthenticated': {
    row: 7,
    label: 'of which `createSessionClient()` → `client.ready`, signed out',
    floor: false,
  },
  'heap-one-client': { row: 8, label: 'one client: `await client.refresh()` per cycle', floor: false },
  'heap-client-per-cycle': {
    row: 8,
    label: 'a new client per cycle: restore from storage, `refresh()`, `close()`',
    floor: false,
  },
  'heap-bare-fetch': {
    row: 8,
    label: 'floor: bare `fetch()` POST /api/auth/session/refresh, no client',
    floor: true,
  },
};

function check(
  goal: { below: number; stretchBelow: number } | undefined,
  value: number | null,
): ClientGoalCheck | null {
  if (goal === undefined) return null;
  return {
    ...goal,
    met: value === null ? null : value < goal.below,
    stretchMet: value === null ? null : value < goal.stretchBelow,
  };
}

export function latencyResult(id: ClientRowId, samples: readonly number[]): ClientResult {
  const latency = { samples: [...samples], p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
  return {
    id,
    ...LABELS[id],
    latency,
    heap: null,
    goal: check(CLIENT_LATENCY_GOALS_MS[id], latency.p99Ms),
    failure: null,
  };
}

export function heapResult(id: ClientRowId, output: HeapOutput): ClientResult {
  const heap = {
    ...output,
    retainedBytes: output.afterBytes - output.beforeBytes,
    retainedByMoreBytes: output.afterMoreBytes - output.afterBytes,
  };
  return {
    id,
    ...LABELS[id],
    latency: null,
    heap,
    goal: check(CLIENT_HEAP_GOALS_BYTES[id], heap.retainedBytes),
    failure: null,
  };
}

export function failedResult(id: ClientRowId, failure: string): ClientResult {
  const goal = CLIENT_LATENCY_GOALS_MS[id] ?? CLIENT_HEAP_GOALS_BYTES[id];
  return { id, ...LABELS[id], latency: null, heap: null, goal: check(goal, null), failure };
}
