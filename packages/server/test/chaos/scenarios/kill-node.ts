import { restartDead } from '../cluster-targets.js';
import { clusterDeployment, type Deployment } from '../deployment.js';
import { pause, type Scenario, underLoad } from '../scenario.js';
import { sqliteDeployment } from '../sqlite-node.js';

/**
 * kill -9 of a node at a random point under load; it comes back on its port and data. On SQLite
 * the node is the whole deployment: every answer is lost while it is down, and what it
 * acknowledged must be in the file its restart recovers (WAL, decision 002).
 */
function killNodeOf(name: string, deploy: () => Promise<Deployment>): Scenario {
  return {
    name,
    async run(length) {
      const deployment = await deploy();
      try {
        return await underLoad({
          name,
          length,
          targets: deployment.targets,
          fault: async (round) => {
            const victim = deployment.nodes[round % deployment.nodes.length]!;
            await pause(Math.random() * length.phaseMs);
            await victim.stop('SIGKILL');
            await pause(100);
            await victim.start();
          },
          settle: () => restartDead(deployment.nodes),
          database: () => deployment.database(),
          nodeURLs: () => deployment.nodeURLs(),
        });
      } finally {
        await deployment.close();
      }
    },
  };
}

export const killNode = killNodeOf('kill -9 of a node', () => clusterDeployment());
export const killSQLiteNode = killNodeOf('kill -9 of a node (SQLite)', () => sqliteDeployment());
