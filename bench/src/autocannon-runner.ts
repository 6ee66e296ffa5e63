import autocannon from 'autocannon';
import type { LoadSpec } from './load-spec.js';

/** What one autocannon run measured. */
export interface RunSample {
  /** 2xx responses per second over the run: failures do not count as throughput. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Completed requests that were not 2xx. */
  non2xx: number;
  /** Socket errors and timeouts (autocannon counts a timeout as an error too). */
  errors: number;
  statusCodes: Record<string, number>;
  durationSeconds: number;
}

export interface RunOptions {
  connections: number;
  durationSeconds: number;
}

// autocannon stops itself after `duration`; this is the backstop if it somehow does not.
const WATCHDOG_SLACK_MS = 30_000;
const REQUEST_TIMEOUT_SECONDS = 10;

export async function runLoad(spec: LoadSpec, options: RunOptions): Promise<RunSample> {
  const instance = autocannon({
    url: spec.url,
    method: spec.method,
    headers: spec.headers ?? {},
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.setupClient === undefined ? {} : { setupClient: spec.setupClient }),
    connections: options.connections,
    duration: options.durationSeconds,
    pipelining: 1,
    timeout: REQUEST_TIMEOUT_SECONDS,
  });
  const watchdog = setTimeout(() => instance.stop(), options.durationSeconds * 1000 + WATCHDOG_SLACK_MS);
  try {
    const result = await instance;
    const statusCodes = Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, stats]) => [code, stats.count]),
    );
    return {
      requestsPerSecond: result.duration > 0 ? result['2xx'] / result.duration : 0,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      statusCodes,
      durationSeconds: result.duration,
    };
  } finally {
    clearTimeout(watchdog);
  }
}
