import type { ChildServer } from '../child-server.js';
import { checkRatios } from '../comparisons.js';
import type { BenchConfig } from '../config.js';
import { SYNC_OPS_RATIO_GOALS } from '../goals.js';
import { errorMessage, log } from '../log.js';
import { startPeerServer } from '../peer-server.js';
import { sleep } from '../sleep.js';
import { createTempDir } from '../temp-dir.js';
import { measureDeviceLatency, SOCKET_COUNTS, socketOwners } from './device-latency.js';
import { OPS_IN_FLIGHT, type OpsSample, runSocketOps } from './durable-ops.js';
import { bareEndpoint, type SyncEndpoint, sessiondEndpoint } from './endpoint.js';
import { assertRoomForSockets } from './fd-limit.js';
import { runHTTPOps } from './http-ops.js';
import { runSQLiteChild } from './run-sqlite-child.js';
import {
  type LatencyLine,
  latencyLine,
  type OpsLine,
  type OpsLineId,
  type SyncRows,
  summarizeOps,
} from './sync-row.js';
import { type SyncNode, startSyncSessiond } from './sync-sessiond.js';

// Rows 9 and 10: sessiond's real-time sync, after every other row, against a sessiond of its
// own and a bare ws server, each in its own child process. The sockets and the load come from
// this process, as autocannon's load does for the HTTP rows.

// As before each HTTP run: the server finishes what came before (closing sockets, set-up) first.
const SETTLE_MS = 1_000;
const SERVERS: ReadonlyArray<SyncEndpoint['id']> = ['bare-ws', 'sessiond'];
const OPS_LINES: readonly OpsLineId[] = ['ops-sessiond-ws', 'ops-sessiond-http', 'ops-sqlite'];

export async function measureSyncRows(config: BenchConfig): Promise<SyncRows> {
  let node: SyncNode | undefined;
  let bare: ChildServer | undefined;
  try {
    try {
      log('sync rows: starting a sessiond of their own (100 sign-ups, 150 sign-ins) and the bare ws server');
      node = await startSyncSessiond(config);
      bare = await startPeerServer(config, 'ws-broadcast');
    } catch (error) {
      return failedSyncRows(config, `the servers of rows 9 and 10 did not start: ${errorMessage(error)}`);
    }
    const endpoints = [bareEndpoint(bare.baseURL), sessiondEndpoint(node.baseURL)];
    const latency = await measureLatencyRow(config, node, endpoints);
    const ops = await measureOpsRow(config, node);
    const rate = (id: string): number | null => ops.find((line) => line.id === id)?.opsPerSecond ?? null;
    return { latency, ops, opsRatios: checkRatios(SYNC_OPS_RATIO_GOALS, rate) };
  } finally {
    await bare?.stop();
    await node?.stop();
  }
}

function failedSyncRows(config: BenchConfig, why: string): SyncRows {
  const { benchDir } = config;
  return {
    latency: SOCKET_COUNTS.flatMap((sockets) =>
      SERVERS.map((server) => latencyLine({ sockets, server, benchDir }, { failure: why })),
    ),
    ops: OPS_LINES.map((id) => summarizeOps(id, { warmup: null, runs: [], failures: [why] }, benchDir)),
    opsRatios: checkRatios(SYNC_OPS_RATIO_GOALS, () => null),
  };
}

/** Row 9: at each socket count, the baseline and then sessiond, each with its own sockets. */
async function measureLatencyRow(
  config: BenchConfig,
  node: SyncNode,
  endpoints: readonly SyncEndpoint[],
): Promise<LatencyLine[]> {
  const lines: LatencyLine[] = [];
  for (const sockets of SOCKET_COUNTS) {
    for (const endpoint of endpoints) {
      const at = { sockets, server: endpoint.id, benchDir: config.benchDir };
      log(`row 9: ${sockets.toLocaleString('en-US')} sockets on ${endpoint.id}, device to device`);
      try {
        assertRoomForSockets(sockets);
        // Fresh access tokens: a long benchmark must not present expired ones at the handshake.
        if (endpoint.id === 'sessiond') await node.refreshAll();
        const owners = socketOwners(node.active, node.idle, sockets);
        const samples = await measureDeviceLatency(endpoint, owners, `lat-${sockets}-${endpoint.id}`);
        const line = latencyLine(at, { samples });
        log(`  p50 ${line.latency!.p50Ms.toFixed(2)} ms, p99 ${line.latency!.p99Ms.toFixed(2)} ms`);
        lines.push(line);
      } catch (error) {
        log(`  failed: ${errorMessage(error)}`);
        lines.push(latencyLine(at, { failure: errorMessage(error) }));
      }
      await sleep(SETTLE_MS);
    }
  }
  return lines;
}

/** Row 10: a warm-up of each line, then BENCH_RUNS rounds of each, interleaved like the HTTP rows. */
async function measureOpsRow(config: BenchConfig, node: SyncNode): Promise<OpsLine[]> {
  const sqliteDir = createTempDir('sqlite-ops');
  const users = node.active.length;
  // The first device of each active user: one socket (or one user's tokens) per user.
  const run = async (id: OpsLineId, seconds: number, tag: string): Promise<OpsSample> => {
    // Set-up first, then the pause, as before each HTTP run.
    if (id !== 'ops-sqlite') await node.refreshAll();
    await sleep(SETTLE_MS);
    if (id === 'ops-sqlite') return runSQLiteChild(config, { dataDir: sqliteDir, seconds, users });
    const sessions = node.active.map((user) => ({
      group: user.name,
      accessToken: user.sessions[0]!.accessToken,
    }));
    if (id === 'ops-sessiond-ws')
      return runSocketOps(sessiondEndpoint(node.baseURL), sessions, { seconds, tag });
    return runHTTPOps(
      node.baseURL,
      sessions.map((session) => session.accessToken),
      { connections: users * OPS_IN_FLIGHT, seconds, tag },
    );
  };
  const measured = new Map(
    OPS_LINES.map((id) => [
      id,
      { warmup: null as OpsSample | null, runs: [] as OpsSample[], failures: [] as string[] },
    ]),
  );
  const attempt = async (id: OpsLineId, name: string, seconds: number): Promise<OpsSample | null> => {
    try {
      const sample = await run(id, seconds, `${id}-${name.replace(' ', '-')}`);
      log(
        `  ${id.padEnd(24)} ${name.padEnd(8)} ${Math.round(sample.opsPerSecond).toString().padStart(7)} ops/s` +
          `  p99 ${sample.p99Ms.toFixed(1).padStart(6)} ms  errors ${sample.errors}`,
      );
      return sample;
    } catch (error) {
      measured.get(id)!.failures.push(`${name}: ${errorMessage(error)}`);
      log(`  ${id} ${name} failed: ${errorMessage(error)}`);
      return null;
    }
  };

  log(
    `row 10: durable operations, ${config.warmupSeconds} s warm-up and ${config.runs} × ${config.durationSeconds} s per line`,
  );
  for (const id of OPS_LINES) measured.get(id)!.warmup = await attempt(id, 'warm-up', config.warmupSeconds);
  for (let round = 1; round <= config.runs; round++) {
    for (const id of OPS_LINES) {
      const sample = await attempt(id, `run ${round}`, config.durationSeconds);
      if (sample !== null) measured.get(id)!.runs.push(sample);
    }
  }
  return OPS_LINES.map((id) => summarizeOps(id, measured.get(id)!, config.benchDir));
}
