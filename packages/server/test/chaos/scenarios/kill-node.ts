import { startCluster } from '../../multinode/cluster.js';
import { CHAOS_ENV, clusterChecks, clusterTargets, restartDead } from '../cluster-targets.js';
import { pause, type Scenario, underLoad } from '../scenario.js';

/** kill -9 of a node at a random point under load; it comes back on its port and data. */
export const killNode: Scenario = {
  name: 'kill -9 of a node',
  async run(length) {
    const cluster = await startCluster({ nodes: 2, env: { ...CHAOS_ENV } });
    try {
      return await underLoad({
        name: this.name,
        length,
        targets: clusterTargets(cluster),
        fault: async (round) => {
          const victim = cluster.nodes[round % cluster.nodes.length]!;
          await pause(Math.random() * length.phaseMs);
          await victim.stop('SIGKILL');
          await pause(100);
          await victim.start();
        },
        settle: () => restartDead(cluster),
        ...clusterChecks(cluster),
      });
    } finally {
      await cluster.close();
    }
  },
};
