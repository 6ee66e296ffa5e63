import type { BenchConfig } from '../config.js';
import { measureInterleaved } from '../interleaved-rounds.js';
import { errorMessage, log } from '../log.js';
import { sleep } from '../sleep.js';
import { assertRoomForSockets } from '../sync-rows/fd-limit.js';
import { seedSyncUsers } from '../sync-rows/sync-sessiond.js';
import { summarize, type TargetResult } from '../target-result.js';
import type { Target } from '../targets/target.js';
import { type Cluster, type ClusterStorage, NODE_POOL_SIZE, startCluster } from './cluster.js';
import { CROSS_NODE_SOCKET_COUNTS, measureCrossNodeLatency, type Placement } from './cross-node-latency.js';
import { type CrossNodeLine, crossNodeLine, type MultinodeRows, refreshRatios } from './multinode-row.js';
import { type RedisServer, startRedisServer } from './redis-server.js';
import { describeSetup, REFRESH_SETUPS, refreshTarget } from './refresh-scaling.js';
import { type Services, startServices } from './services.js';

// Rows 12 and 13: sessiond on several nodes sharing one PostgreSQL and one Redis, started for
// these rows by scripts/services.sh and stopped after them. They run after every other row.

// As before each HTTP run: the servers finish what came before (closing sockets, set-up) first.
const SETTLE_MS = 1_000;
const PLACEMENTS: readonly Placement[] = ['same-node', 'cross-node'];

type NodeOutput = MultinodeRows['nodeOutput'];

export async function measureMultinodeRows(config: BenchConfig): Promise<MultinodeRows> {
  let services: Services | undefined;
  const nodeOutput: NodeOutput = [];
  try {
    try {
      log('rows 12 and 13: starting PostgreSQL and Redis (scripts/services.sh)');
      services = await startServices(config);
    } catch (error) {
      return failedRows(`PostgreSQL and Redis did not start: ${errorMessage(error)}`);
    }
    const refresh = await measureRefreshRow(config, services, nodeOutput);
    const latency = await measureLatencyRow(config, services, nodeOutput);
    return {
      postgresVersion: services.postgresVersion,
      poolSize: NODE_POOL_SIZE,
      refresh,
      refreshRatios: refreshRatios(refresh),
      latency,
      nodeOutput,
      failures: [],
    };
  } finally {
    await services?.stop();
  }
}

function failedRefreshLine(id: string, label: string, why: string): TargetResult {
  return summarize(
    { id, row: 'refresh', label, request: 'POST /api/auth/session/refresh' },
    { warmup: null, runs: [], failures: [why] },
  );
}

function failedRows(why: string): MultinodeRows {
  const refresh = REFRESH_SETUPS.map((setup) => failedRefreshLine(setup.id, describeSetup(setup, null), why));
  return {
    postgresVersion: null,
    poolSize: NODE_POOL_SIZE,
    refresh,
    refreshRatios: refreshRatios(refresh),
    latency: failedLatencyLines(why),
    nodeOutput: [],
    failures: [why],
  };
}

function failedLatencyLines(why: string): CrossNodeLine[] {
  return CROSS_NODE_SOCKET_COUNTS.flatMap((sockets) =>
    PLACEMENTS.map((placement) => crossNodeLine({ sockets, placement }, { failure: why })),
  );
}

/** Row 12: every setup's nodes run at once, and the rounds go over the setups in turn. */
async function measureRefreshRow(
  config: BenchConfig,
  services: Services,
  nodeOutput: NodeOutput,
): Promise<TargetResult[]> {
  const started: Array<{ label: string; cluster: Cluster }> = [];
  const redisServers: RedisServer[] = [];
  const targets: Target[] = [];
  const notStarted = new Map<string, string>();
  try {
    for (const setup of REFRESH_SETUPS) {
      const label = describeSetup(setup, services.postgresVersion);
      log(`row 12: starting ${label}`);
      try {
        let storage: ClusterStorage = { kind: 'sqlite' };
        if (setup.storage === 'postgres') {
          // A database and a Redis of their own per node count: no line inherits another's rows
          // or hears another's events (see redis-server.ts).
          const databaseURL = await services.createDatabase(`bench_${setup.id.replaceAll('-', '_')}`);
          const redis = await startRedisServer();
          redisServers.push(redis);
          storage = { kind: 'postgres', databaseURL, redisURL: redis.url };
        }
        const cluster = await startCluster(config, { name: setup.id, nodes: setup.nodes, storage });
        started.push({ label, cluster });
        targets.push(await refreshTarget(config, setup, cluster, services.postgresVersion));
      } catch (error) {
        // The other setups still run, so one that does not start leaves the rest readable.
        notStarted.set(setup.id, `did not start: ${errorMessage(error)}`);
        log(`  ${setup.id} did not start: ${errorMessage(error)}`);
      }
    }
    log(`row 12: refresh on 1 to 3 nodes, ${config.connections} connections spread over each setup's nodes`);
    const measured = await measureInterleaved(targets, config);
    return REFRESH_SETUPS.map((setup) => {
      const target = targets.find((candidate) => candidate.id === setup.id);
      return target === undefined
        ? failedRefreshLine(
            setup.id,
            describeSetup(setup, services.postgresVersion),
            notStarted.get(setup.id) ?? 'did not start',
          )
        : summarize(target, measured.get(setup.id)!);
    });
  } finally {
    for (const { label, cluster } of started) {
      nodeOutput.push({ setup: `row 12, ${label}`, lines: cluster.output() });
      await cluster.stop();
    }
    for (const redis of redisServers) await redis.stop();
  }
}

/** Row 13: two nodes on one database; at each socket count, both devices on node 1, then across. */
async function measureLatencyRow(
  config: BenchConfig,
  services: Services,
  nodeOutput: NodeOutput,
): Promise<CrossNodeLine[]> {
  let cluster: Cluster | undefined;
  try {
    try {
      log('row 13: starting two nodes on a database of their own, 100 sign-ups and 150 sign-ins');
      cluster = await startCluster(config, {
        name: 'sync',
        nodes: 2,
        storage: {
          kind: 'postgres',
          databaseURL: await services.createDatabase('bench_sync'),
          redisURL: services.redisURL,
        },
      });
    } catch (error) {
      return failedLatencyLines(`the nodes of row 13 did not start: ${errorMessage(error)}`);
    }
    const [first, second] = cluster.baseURLs;
    let users: Awaited<ReturnType<typeof seedSyncUsers>>;
    try {
      users = await seedSyncUsers(first!);
    } catch (error) {
      return failedLatencyLines(`row 13's users could not be set up: ${errorMessage(error)}`);
    }
    const lines: CrossNodeLine[] = [];
    for (const sockets of CROSS_NODE_SOCKET_COUNTS) {
      for (const placement of PLACEMENTS) {
        const at = { sockets, placement };
        log(`row 13: ${sockets.toLocaleString('en-US')} sockets over two nodes, devices ${placement}`);
        try {
          assertRoomForSockets(sockets);
          // Fresh access tokens: a long benchmark must not present expired ones at the handshake.
          await users.refreshAll();
          const samples = await measureCrossNodeLatency([first!, second!], users, at);
          const line = crossNodeLine(at, { samples });
          log(`  p50 ${line.latency!.p50Ms.toFixed(2)} ms, p99 ${line.latency!.p99Ms.toFixed(2)} ms`);
          lines.push(line);
        } catch (error) {
          const why =
            placement === 'cross-node' && errorMessage(error).includes('did not reach')
              ? `${errorMessage(error)} (an operation applied on one node never reached the other: are the nodes' buses joined through SESSIOND_REDIS_URL?)`
              : errorMessage(error);
          log(`  failed: ${why}`);
          lines.push(crossNodeLine(at, { failure: why }));
        }
        await sleep(SETTLE_MS);
      }
    }
    return lines;
  } finally {
    if (cluster !== undefined) {
      nodeOutput.push({ setup: 'row 13, 2 nodes', lines: cluster.output() });
      await cluster.stop();
    }
  }
}
