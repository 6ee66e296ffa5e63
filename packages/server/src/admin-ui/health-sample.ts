import type { Registry } from 'prom-client';

/** Cumulative counts read from the metrics registry at one moment. */
export interface HealthTotals {
  at: number;
  requests: number;
  refreshes: number;
  /** Refresh durations: cumulative count per bucket upper bound (seconds), +Inf last. */
  refreshBuckets: Array<[number, number]>;
  refreshFailures: Record<string, number>;
  reuses: number;
  stepUps: { required: number; completed: number };
  revocationBuckets: Array<[number, number]>;
  sockets: number;
  webhookBacklog: number;
}

/** What one event of the dashboard's health stream carries (docs/admin-dashboard.md). */
export interface HealthEvent {
  at: string;
  /** Over the time since the previous event. */
  requests_per_second: number;
  /** Over the last WINDOW (or since the stream opened, if shorter). */
  window_seconds: number;
  refresh: { count: number; p50_ms: number | null; p99_ms: number | null; total: number };
  refresh_failures: { total: number; window: number; by_reason: Record<string, number> };
  reuse_detections: { total: number; window: number };
  step_ups: { required: number; completed: number };
  revocation_to_socket: { count: number; p50_ms: number | null; p99_ms: number | null };
  sockets: number;
  webhook_backlog: number;
}

type MetricValue = { value: number; labels: Record<string, string | number>; metricName?: string };

async function valuesOf(registry: Registry, name: string): Promise<MetricValue[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values as MetricValue[];
}

const sum = (values: MetricValue[]): number => values.reduce((total, v) => total + v.value, 0);

/** Buckets of a histogram summed over its labels, by bound, ascending. */
function bucketsOf(values: MetricValue[]): Array<[number, number]> {
  const byBound = new Map<number, number>();
  for (const v of values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const le = v.labels.le;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + v.value);
  }
  return [...byBound].sort((a, b) => a[0] - b[0]);
}

/** Reads the counters and gauges the health panel shows from the registry (metrics.ts). */
export async function readHealthTotals(registry: Registry, now: number): Promise<HealthTotals> {
  const [requests, refreshes, refreshSeconds, failures, reuses, stepUps, revocation, sockets, backlog] =
    await Promise.all(
      [
        'sessiond_http_requests_total',
        'sessiond_refreshes_total',
        'sessiond_refresh_duration_seconds',
        'sessiond_refresh_failures_total',
        'sessiond_refresh_token_reuse_total',
        'sessiond_step_ups_total',
        'sessiond_revocation_socket_close_seconds',
        'sessiond_websocket_connections',
        'sessiond_webhook_backlog',
      ].map((name) => valuesOf(registry, name)),
    );
  const refreshFailures: Record<string, number> = {};
  for (const v of failures ?? []) {
    const reason = String(v.labels.reason);
    refreshFailures[reason] = (refreshFailures[reason] ?? 0) + v.value;
  }
  const step = (event: string): number => sum((stepUps ?? []).filter((v) => v.labels.event === event));
  return {
    at: now,
    requests: sum(requests ?? []),
    refreshes: sum(refreshes ?? []),
    refreshBuckets: bucketsOf(refreshSeconds ?? []),
    refreshFailures,
    reuses: sum(reuses ?? []),
    stepUps: { required: step('required'), completed: step('completed') },
    revocationBuckets: bucketsOf(revocation ?? []),
    sockets: sum(sockets ?? []),
    webhookBacklog: sum(backlog ?? []),
  };
}

/** `later - earlier`, bucket by bucket (same bounds: one histogram). */
function bucketDelta(
  later: Array<[number, number]>,
  earlier: Array<[number, number]> | undefined,
): Array<[number, number]> {
  const before = new Map(earlier ?? []);
  return later.map(([bound, count]) => [bound, count - (before.get(bound) ?? 0)]);
}

/**
 * The q-quantile of cumulative buckets, in ms, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile does; null without observations. A rank in the +Inf bucket
 * answers the highest finite bound (the histogram cannot say more).
 */
export function quantileMs(buckets: Array<[number, number]>, q: number): number | null {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return Math.round(lowerBound * 1000 * 10) / 10;
      const inBucket = count - lowerCount;
      const fraction = inBucket === 0 ? 0 : (rank - lowerCount) / inBucket;
      return Math.round((lowerBound + (bound - lowerBound) * fraction) * 1000 * 10) / 10;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return Math.round(lowerBound * 1000 * 10) / 10;
}

/**
 * One health event from the totals now, the previous event's (the rate) and the oldest kept
 * within the window (quantiles and recent counts over a minute, not since the process started).
 */
export function healthEvent(
  now: HealthTotals,
  previous: HealthTotals,
  windowStart: HealthTotals,
): HealthEvent {
  const elapsed = Math.max(1, now.at - previous.at) / 1000;
  const refreshWindow = bucketDelta(now.refreshBuckets, windowStart.refreshBuckets);
  const failuresTotal = Object.values(now.refreshFailures).reduce((a, b) => a + b, 0);
  const failuresBefore = Object.values(windowStart.refreshFailures).reduce((a, b) => a + b, 0);
  return {
    at: new Date(now.at).toISOString(),
    requests_per_second: Math.round(((now.requests - previous.requests) / elapsed) * 10) / 10,
    window_seconds: Math.round((now.at - windowStart.at) / 1000),
    refresh: {
      count: refreshWindow.at(-1)?.[1] ?? 0,
      p50_ms: quantileMs(refreshWindow, 0.5),
      p99_ms: quantileMs(refreshWindow, 0.99),
      total: now.refreshes,
    },
    refresh_failures: {
      total: failuresTotal,
      window: failuresTotal - failuresBefore,
      by_reason: now.refreshFailures,
    },
    reuse_detections: { total: now.reuses, window: now.reuses - windowStart.reuses },
    step_ups: now.stepUps,
    revocation_to_socket: {
      count: now.revocationBuckets.at(-1)?.[1] ?? 0,
      p50_ms: quantileMs(now.revocationBuckets, 0.5),
      p99_ms: quantileMs(now.revocationBuckets, 0.99),
    },
    sockets: now.sockets,
    webhook_backlog: now.webhookBacklog,
  };
}

/** How far back the windowed figures look. */
export const HEALTH_WINDOW_MS = 60_000;
