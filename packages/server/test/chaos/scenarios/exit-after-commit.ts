import { type ClusterNode, startCluster } from '../../multinode/cluster.js';
import { CHAOS_ENV, clusterChecks, clusterTargets } from '../cluster-targets.js';
import { pause, type Scenario, underLoad } from '../scenario.js';

/**
 * The worst point for a kill: the store has committed, the answer is not sent. The test-only
 * hook (SESSIOND_TEST_FAULT, src/lib/test-fault.ts) makes a node SIGKILL itself there; a
 * supervisor starts it again, as an orchestrator would.
 */
const FAULT = 'exit-after-commit:refresh:0.03,exit-after-commit:state:0.03,exit-after-commit:end-session:0.2';

export const exitAfterCommit: Scenario = {
  name: 'kill -9 between commit and response',
  async run(length) {
    const cluster = await startCluster({
      nodes: 2,
      env: { ...CHAOS_ENV },
      nodeEnv: () => ({ SESSIOND_TEST_FAULT: FAULT }),
    });
    let supervising = true;
    let deaths = 0;
    const supervise = async (node: ClusterNode): Promise<void> => {
      while (supervising) {
        await node.exited;
        if (!supervising) return;
        deaths += 1;
        await node.start().catch(() => pause(100));
      }
    };
    const supervisors = cluster.nodes.map(supervise);
    try {
      return await underLoad({
        name: this.name,
        length,
        targets: clusterTargets(cluster),
        // The hook deals the fault; each round only waits for it to have struck at least once more.
        fault: async () => {
          const before = deaths;
          for (let waited = 0; deaths === before && waited < 10_000; waited += 50) await pause(50);
        },
        // The supervisor keeps going through the checks: their refreshes can meet the hook too.
        settle: async () => {
          for (
            let waited = 0;
            !cluster.nodes.every((node) => node.running) && waited < 20_000;
            waited += 50
          ) {
            await pause(50);
          }
        },
        ...clusterChecks(cluster),
        extra: () => (deaths === 0 ? ['the exit-after-commit hook never fired'] : []),
      });
    } finally {
      supervising = false;
      await cluster.close();
      await Promise.all(supervisors);
    }
  },
};
