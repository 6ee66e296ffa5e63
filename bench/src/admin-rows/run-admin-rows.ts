import { isDeepStrictEqual } from 'node:util';
import type { BenchConfig } from '../config.js';
import { errorMessage, log } from '../log.js';
import { sleep } from '../sleep.js';
import { type AdminRequest, adminRequests } from './admin-requests.js';
import { ADMIN_CALLS, type AdminLine, type AdminRows, adminLine, timing } from './admin-row.js';
import { type AdminNodes, startAdminNodes } from './admin-sessiond.js';
import { SEED } from './seed-log.js';

// Row 11: the admin API on a log of a million rows. Each request is timed one call at a time
// (an operator's page, not a load test) on sessiond as shipped and on the same data without the
// admin indexes; both answers must be identical, so the two servers did the same work.

const SETTLE_MS = 1_000;
const CALL_TIMEOUT_MS = 60_000;

/** One call; its time in ms and its JSON answer. Anything but 200 fails the line. */
async function call(baseURL: string, key: string, path: string): Promise<{ ms: number; body: unknown }> {
  const started = performance.now();
  const response = await fetch(`${baseURL}${path}`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${text.slice(0, 200)}`);
  return { ms, body: JSON.parse(text) };
}

async function timeCalls(
  baseURL: string,
  key: string,
  path: string,
  count: number,
): Promise<{ samples: number[]; body: unknown }> {
  let body: unknown;
  for (let i = 0; i < ADMIN_CALLS.warmup; i++) body = (await call(baseURL, key, path)).body;
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push((await call(baseURL, key, path)).ms);
  return { samples, body };
}

/** The answer without what depends on the moment of the call (`at`: when "live" was judged). */
function comparable(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || !('at' in body)) return body;
  const { at: _at, ...rest } = body as Record<string, unknown>;
  return rest;
}

async function measureLine(nodes: AdminNodes, request: AdminRequest): Promise<AdminLine> {
  try {
    await sleep(SETTLE_MS);
    const indexed = await timeCalls(nodes.indexed.baseURL, nodes.key, request.path, ADMIN_CALLS.indexed);
    const baseline = await timeCalls(nodes.baseline.baseURL, nodes.key, request.path, ADMIN_CALLS.baseline);
    if (!isDeepStrictEqual(comparable(indexed.body), comparable(baseline.body))) {
      throw new Error('the two servers answered differently');
    }
    const line = adminLine(request, { indexed: timing(indexed.samples), baseline: timing(baseline.samples) });
    log(
      `  ${request.id.padEnd(20)} p50 ${line.indexed!.p50Ms.toFixed(1).padStart(7)} ms  p99 ${line
        .indexed!.p99Ms.toFixed(1)
        .padStart(7)} ms   without indexes p50 ${line.baseline!.p50Ms.toFixed(1).padStart(8)} ms`,
    );
    return line;
  } catch (error) {
    log(`  ${request.id} failed: ${errorMessage(error)}`);
    return adminLine(request, { failure: errorMessage(error) });
  }
}

export async function measureAdminRows(config: BenchConfig): Promise<AdminRows> {
  let nodes: AdminNodes | undefined;
  try {
    try {
      nodes = await startAdminNodes(config);
    } catch (error) {
      return {
        seed: null,
        lines: [],
        failure: `the servers of row 11 did not start: ${errorMessage(error)}`,
      };
    }
    log(
      `row 11: admin API, ${ADMIN_CALLS.indexed} calls per request on sessiond, ${ADMIN_CALLS.baseline} without the indexes`,
    );
    const lines: AdminLine[] = [];
    for (const request of adminRequests(nodes.seeded)) lines.push(await measureLine(nodes, request));
    return {
      seed: {
        logRows: SEED.logRows,
        sessions: SEED.sessions,
        users: SEED.users,
        days: SEED.days,
        seedSeconds: nodes.seeded.seedMs / 1000,
      },
      lines,
      failure: null,
    };
  } finally {
    await nodes?.stop();
  }
}
