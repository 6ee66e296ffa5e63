import type { Cluster, ClusterNode } from '../multinode/cluster.js';
import { postgresDatabase } from './chaos-database.js';
import type { Targets } from './load.js';

/** Limits that would refuse the load itself: the suite is about faults, not about rate limits. */
export const CHAOS_ENV: Readonly<Record<string, string>> = {
  SESSIOND_STATE_OPS_PER_SECOND: '100000',
  SESSIOND_STATE_OPS_BURST: '100000',
};

/**
 * What a scenario's load and invariant checker need of a cluster: the running nodes, as a
 * balancer with health checks sees them; its database; every node, for the checks that ask each.
 */
export function clusterUnderTest(cluster: Cluster): {
  targets: Targets;
  database: () => ReturnType<typeof postgresDatabase>;
  nodeURLs: () => readonly string[];
} {
  return {
    targets: { urls: () => cluster.nodes.filter((node) => node.running).map((node) => node.url) },
    database: () => postgresDatabase(cluster.databaseURL),
    nodeURLs: () => cluster.nodes.map((node) => node.url),
  };
}

/** Starts every node that is not running (after a fault killed some). */
export async function restartDead(nodes: readonly ClusterNode[]): Promise<void> {
  await Promise.all(nodes.filter((node) => !node.running).map((node) => node.start()));
}
