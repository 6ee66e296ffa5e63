import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLUSTER_ISSUER, CLUSTER_SECRET, startCluster } from '../../multinode/cluster.js';
import { CHAOS_ENV, clusterUnderTest } from '../cluster-targets.js';
import { type Scenario, underLoad } from '../scenario.js';

const MAIN = fileURLToPath(new URL('../../../dist/main.js', import.meta.url));

/**
 * `sessiond keys rotate` run against the cluster's database while clients refresh and use their
 * access tokens: a token signed by the key just retired must still be accepted on every node,
 * and one signed by the new key too, before and after each node has reloaded its keys.
 */
export const keyRotation: Scenario = {
  name: 'key rotation under load',
  async run(length) {
    const cluster = await startCluster({ nodes: 2, env: { ...CHAOS_ENV } });
    const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-chaos-keys-'));
    const failures: string[] = [];
    try {
      return await underLoad({
        name: this.name,
        length,
        fault: async () => {
          const rotated = spawnSync(process.execPath, [MAIN, 'keys', 'rotate'], {
            encoding: 'utf8',
            env: {
              PATH: process.env.PATH ?? '',
              SESSIOND_DATA_DIR: dataDir,
              SESSIOND_DATABASE_URL: cluster.databaseURL,
              SESSIOND_SECRET: CLUSTER_SECRET,
              SESSIOND_ISSUER: CLUSTER_ISSUER,
            },
          });
          if (rotated.status !== 0) failures.push(`keys rotate failed: ${rotated.stderr}`);
        },
        ...clusterUnderTest(cluster),
        extra: () => failures,
      });
    } finally {
      await cluster.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
