import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/test-server.js';
import { CLUSTER_ISSUER, CLUSTER_SECRET, ClusterNode } from '../multinode/cluster.js';
import { sqliteDatabase } from './chaos-database.js';
import { CHAOS_ENV } from './cluster-targets.js';
import type { Deployment } from './deployment.js';

/**
 * One `sessiond start` on SQLite (the embedded default), on a data dir of the scenario's own:
 * its port and data dir stay the same across restarts, as a node an orchestrator restarts.
 * `env` adds SESSIOND_* variables (a test fault).
 */
export async function sqliteNode(dataDir: string, env: Record<string, string> = {}): Promise<ClusterNode> {
  const port = await freePort();
  return new ClusterNode('S', port, {
    ...inheritedEnv(),
    ...CHAOS_ENV,
    SESSIOND_HOST: '127.0.0.1',
    SESSIOND_PORT: String(port),
    SESSIOND_DATA_DIR: dataDir,
    SESSIOND_SECRET: CLUSTER_SECRET,
    SESSIOND_ISSUER: CLUSTER_ISSUER,
    SESSIOND_LOG_LEVEL: 'error',
    SESSIOND_SIGNUP_LIMIT_PER_IP: '1000000',
    SESSIOND_LOGIN_LIMIT_PER_IP: '1000000',
    ...env,
  });
}

/** The SQLite file the node writes, which the checker opens read-only. */
export function sqliteFile(dataDir: string): string {
  return join(dataDir, 'sessiond.db');
}

/** A single SQLite node, started, on a fresh data dir that `close` removes. */
export async function sqliteDeployment(options: { env?: Record<string, string> } = {}): Promise<Deployment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-chaos-sqlite-'));
  const node = await sqliteNode(dataDir, options.env);
  const close = async (): Promise<void> => {
    await node.kill();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await node.start();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    nodes: [node],
    targets: { urls: () => (node.running ? [node.url] : []) },
    database: () => sqliteDatabase(sqliteFile(dataDir)),
    nodeURLs: () => [node.url],
    close,
  };
}

/** Nothing of the test runner's own SESSIOND_* (or NODE_OPTIONS) leaks into the node. */
function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && !entry[0].startsWith('SESSIOND_') && entry[0] !== 'NODE_OPTIONS',
    ),
  );
}
