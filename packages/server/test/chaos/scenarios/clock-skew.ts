import { startCluster } from '../../multinode/cluster.js';
import { CHAOS_ENV, clusterUnderTest } from '../cluster-targets.js';
import { pause, type Scenario, underLoad } from '../scenario.js';

/** How far apart the two nodes' clocks are: each is off by half of it, in opposite directions. */
const SKEW_MS = 4_000;

/**
 * Two nodes whose clocks disagree (SESSIOND_TEST_FAULT=clock-offset), as without NTP: each
 * refresh chain alternates between them, and the fast node is killed now and then so that
 * answers are lost and retried on the slow one. Grace windows, idle deadlines and token times
 * must hold whichever node's clock wrote them.
 */
export const clockSkew: Scenario = {
  name: 'clock skew between nodes',
  async run(length) {
    const cluster = await startCluster({
      nodes: 2,
      env: { ...CHAOS_ENV },
      nodeEnv: (index) => ({
        SESSIOND_TEST_FAULT: `clock-offset:${index === 0 ? SKEW_MS / 2 : -SKEW_MS / 2}`,
      }),
    });
    try {
      const fast = cluster.nodes[0]!;
      return await underLoad({
        name: this.name,
        length,
        fault: async () => {
          await pause(Math.random() * length.phaseMs);
          await fast.stop('SIGKILL');
          await pause(100);
          await fast.start();
        },
        ...clusterUnderTest(cluster),
      });
    } finally {
      await cluster.close();
    }
  },
};
