import type { ClusterNode } from '../multinode/cluster.js';
import { startCluster } from '../multinode/cluster.js';
import type { ChaosDatabase } from './chaos-database.js';
import { CHAOS_ENV, clusterUnderTest } from './cluster-targets.js';
import type { Targets } from './load.js';

/**
 * What a node-level fault (kill -9, exit-after-commit) is dealt to: its nodes, the balancer over
 * them, and the database the checker reads. The same scenario runs on PostgreSQL nodes and on a
 * single SQLite node, so each fault has one module and a row per store.
 */
export interface Deployment {
  readonly nodes: readonly ClusterNode[];
  readonly targets: Targets;
  database(): ChaosDatabase;
  nodeURLs(): readonly string[];
  close(): Promise<void>;
}

/** Two PostgreSQL + Redis nodes (`env` on every node, e.g. a test fault). */
export async function clusterDeployment(options: { env?: Record<string, string> } = {}): Promise<Deployment> {
  const cluster = await startCluster({ nodes: 2, env: { ...CHAOS_ENV, ...options.env } });
  return {
    nodes: cluster.nodes,
    ...clusterUnderTest(cluster),
    close: () => cluster.close(),
  };
}
