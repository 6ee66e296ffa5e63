import { startCluster } from '../../multinode/cluster.js';
import { CHAOS_ENV, clusterUnderTest } from '../cluster-targets.js';
import { PrivatePostgres } from '../private-postgres.js';
import { pause, type Scenario, underLoad } from '../scenario.js';

/**
 * PostgreSQL crashes (`pg_ctl -m immediate`) under the cluster and starts again. Meanwhile the
 * nodes answer 503 storage_unavailable; a transaction cut mid-commit must be either kept (and
 * then a retry finds it: grace, client_op_id) or gone; the nodes heal without a restart.
 */
export const postgresRestart: Scenario = {
  name: 'PostgreSQL pg_ctl -m immediate restart',
  async run(length) {
    const postgres = await PrivatePostgres.start();
    try {
      const cluster = await startCluster({ nodes: 2, env: { ...CHAOS_ENV }, serverURL: postgres.url });
      try {
        return await underLoad({
          name: this.name,
          length,
          fault: async () => {
            postgres.crash();
            await pause(length.phaseMs);
            postgres.start();
          },
          // A node must ride the restart out: one that died fails the scenario with what it printed.
          settle: async () => {
            const dead = cluster.nodes.filter((node) => !node.running || node.pids.length !== 1);
            if (dead.length > 0) {
              throw new Error(
                `node ${dead.map((node) => `${node.name} died while PostgreSQL restarted:\n${node.stderr.slice(-1500)}`).join('\n')}`,
              );
            }
          },
          ...clusterUnderTest(cluster),
        });
      } finally {
        await cluster.close();
      }
    } finally {
      postgres.stop();
    }
  },
};
