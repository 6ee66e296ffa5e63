import { join } from 'node:path';
import type { ChildServer } from './child-server.js';
import { startChildServer } from './child-server.js';
import type { BenchConfig } from './config.js';
import { findFreePort } from './free-port.js';
import { createTempDir } from './temp-dir.js';

export interface PeerServerOptions {
  /** The file in src/servers/ to run, when several peers share one (default: `name`). */
  script?: string;
  /** Extra environment for the server, beside PORT, DATA_DIR and NODE_ENV. */
  env?: Readonly<Record<string, string>>;
  /** The readiness probe's path, for a server without `/healthz` (default `/healthz`). */
  readyPath?: string;
}

/** Starts one of the peer servers in src/servers/ in its own node process (tsx as loader). */
export async function startPeerServer(
  config: BenchConfig,
  name: string,
  options: PeerServerOptions = {},
): Promise<ChildServer> {
  const port = await findFreePort();
  const script = options.script ?? name;
  return startChildServer({
    name,
    command: process.execPath,
    // `--import tsx` rather than the tsx CLI: one process to measure and to kill, not two.
    args: ['--import', 'tsx', join(config.benchDir, 'src', 'servers', `${script}.ts`)],
    env: { ...options.env, PORT: String(port), DATA_DIR: createTempDir(name), NODE_ENV: 'production' },
    cwd: config.benchDir,
    baseURL: `http://127.0.0.1:${port}`,
    ...(options.readyPath === undefined ? {} : { readyPath: options.readyPath }),
    startTimeoutMs: 30_000,
  });
}
