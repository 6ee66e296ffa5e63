import { startCluster } from '../../multinode/cluster.js';
import { CHAOS_ENV, clusterUnderTest } from '../cluster-targets.js';
import { pause, type Scenario, underLoad } from '../scenario.js';

/** The cluster's Redis killed (nothing flushed, every connection reset), then started again. */
export const redisRestart: Scenario = {
  name: 'Redis stopped and started',
  async run(length) {
    const cluster = await startCluster({ nodes: 2, env: { ...CHAOS_ENV } });
    try {
      return await underLoad({
        name: this.name,
        length,
        fault: async () => {
          await cluster.redis.kill();
          await pause(length.phaseMs);
          await cluster.redis.start();
        },
        ...clusterUnderTest(cluster),
      });
    } finally {
      await cluster.close();
    }
  },
};
