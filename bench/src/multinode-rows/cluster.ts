import { randomBytes } from 'node:crypto';
import type { ChildServer } from '../child-server.js';
import type { BenchConfig } from '../config.js';
import { findFreePort } from '../free-port.js';
import { startSessiondChild } from '../targets/sessiond-child.js';

// Rows 12 and 13: one to three sessiond nodes from the built CLI, each in its own child process,
// sharing one PostgreSQL database and one Redis, as behind a load balancer. Every node of a
// cluster has the same master secret (each must open the signing keys the others sealed) and the
// same issuer, the address a load balancer would give them, so a token minted by one node is
// accepted by the others.

// Far above anything one run does: 50 connections and 150 sign-ins come from one IP and a few
// users, and row 13 applies operations faster than the default 20 per second per user.
const RAISED_LIMIT = '1000000';
const OPS_PER_SECOND = '100000';

/** Connections each node keeps to PostgreSQL: sessiond's default, set explicitly for the table. */
export const NODE_POOL_SIZE = 10;

/** Where a cluster keeps its data: PostgreSQL and Redis, or (one node only) row 1's SQLite. */
export type ClusterStorage = { kind: 'postgres'; databaseURL: string; redisURL: string } | { kind: 'sqlite' };

export interface Cluster {
  nodes: ChildServer[];
  baseURLs: string[];
  /** The warnings and errors the nodes wrote (their log level is warn), for the report. */
  output(): string[];
  stop(): Promise<void>;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await findFreePort());
  return [...ports];
}

/** Starts `nodes` nodes one after the other (the first migrates the schema); stops them all on failure. */
export async function startCluster(
  config: BenchConfig,
  options: { name: string; nodes: number; storage: ClusterStorage },
): Promise<Cluster> {
  const { storage } = options;
  if (storage.kind === 'sqlite' && options.nodes !== 1) throw new Error('an SQLite data dir serves one node');
  const ports = await distinctFreePorts(options.nodes);
  const shared: Record<string, string> = {
    SESSIOND_SECRET: randomBytes(32).toString('hex'),
    SESSIOND_ISSUER: `http://127.0.0.1:${ports[0]}`,
    SESSIOND_SIGNUP_LIMIT_PER_IP: RAISED_LIMIT,
    SESSIOND_LOGIN_LIMIT_PER_IP: RAISED_LIMIT,
    SESSIOND_LOGIN_LIMIT_PER_ACCOUNT: RAISED_LIMIT,
    SESSIOND_STATE_OPS_PER_SECOND: OPS_PER_SECOND,
    SESSIOND_STATE_OPS_BURST: RAISED_LIMIT,
    ...(storage.kind === 'postgres'
      ? {
          SESSIOND_DATABASE_URL: storage.databaseURL,
          SESSIOND_REDIS_URL: storage.redisURL,
          SESSIOND_DATABASE_POOL_SIZE: String(NODE_POOL_SIZE),
        }
      : {}),
  };
  const nodes: ChildServer[] = [];
  const stop = async (): Promise<void> => {
    for (const node of [...nodes].reverse()) await node.stop();
  };
  try {
    for (const [index, port] of ports.entries()) {
      nodes.push(
        await startSessiondChild(config, {
          name: `sessiond ${options.name} node ${index + 1}`,
          port,
          env: shared,
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    baseURLs: nodes.map((node) => node.baseURL),
    output: () =>
      nodes.flatMap((node, index) =>
        node
          .recentOutput()
          .split('\n')
          .filter((line) => line.length > 0 && !line.startsWith('sessiond listening on'))
          .map((line) => `node ${index + 1}: ${line}`),
      ),
    stop,
  };
}
