import type { ClusterNode } from '../../multinode/cluster.js';
import { clusterDeployment, type Deployment } from '../deployment.js';
import { pause, type Scenario, underLoad } from '../scenario.js';
import { sqliteDeployment } from '../sqlite-node.js';

/**
 * The worst point for a kill: the store has committed, the answer is not sent. The test-only
 * hook (SESSIOND_TEST_FAULT, src/lib/test-fault.ts) makes a node SIGKILL itself there; a
 * supervisor starts it again, as an orchestrator would. On SQLite "committed" is group commit's
 * COMMIT returned (decision 005), so the kill lands after the WAL was written and synced.
 */
const FAULT = 'exit-after-commit:refresh:0.03,exit-after-commit:state:0.03,exit-after-commit:end-session:0.2';

function exitAfterCommitOf(
  name: string,
  deploy: (env: Record<string, string>) => Promise<Deployment>,
): Scenario {
  return {
    name,
    async run(length) {
      const deployment = await deploy({ SESSIOND_TEST_FAULT: FAULT });
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
      const supervisors = deployment.nodes.map(supervise);
      try {
        return await underLoad({
          name,
          length,
          targets: deployment.targets,
          // The hook deals the fault; each round only waits for it to have struck at least once more.
          fault: async () => {
            const before = deaths;
            for (let waited = 0; deaths === before && waited < 10_000; waited += 50) await pause(50);
          },
          // The supervisor keeps going through the checks: their refreshes can meet the hook too.
          settle: async () => {
            for (
              let waited = 0;
              !deployment.nodes.every((node) => node.running) && waited < 20_000;
              waited += 50
            ) {
              await pause(50);
            }
          },
          database: () => deployment.database(),
          nodeURLs: () => deployment.nodeURLs(),
          extra: () => (deaths === 0 ? ['the exit-after-commit hook never fired'] : []),
        });
      } finally {
        supervising = false;
        await deployment.close();
        await Promise.all(supervisors);
      }
    },
  };
}

export const exitAfterCommit = exitAfterCommitOf('kill -9 between commit and response', (env) =>
  clusterDeployment({ env }),
);
export const exitAfterCommitSQLite = exitAfterCommitOf(
  'kill -9 between commit and response (SQLite)',
  (env) => sqliteDeployment({ env }),
);
