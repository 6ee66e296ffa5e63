import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type ChildServer, startChildServer } from '../child-server.js';
import type { BenchConfig } from '../config.js';
import { findFreePort } from '../free-port.js';
import { createTempDir } from '../temp-dir.js';

/** Throws a clear error unless the sessiond CLI has been built. */
export function requireBuiltSessiond(config: BenchConfig): void {
  if (!existsSync(config.sessiondMain)) {
    throw new Error(`${config.sessiondMain} does not exist: run \`npm run build\` at the repository root`);
  }
}

/**
 * Starts the built `sessiond start` in a child process on 127.0.0.1: a free port (or `port`), a
 * fresh temp data dir (or `dataDir`), a random master secret and warn-level logs, in production
 * mode. `env` adds to or overrides those settings.
 */
export async function startSessiondChild(
  config: BenchConfig,
  options: { name: string; env?: Record<string, string>; dataDir?: string; port?: number },
): Promise<ChildServer> {
  requireBuiltSessiond(config);
  const port = options.port ?? (await findFreePort());
  return startChildServer({
    name: options.name,
    command: process.execPath,
    args: [config.sessiondMain, 'start'],
    env: {
      SESSIOND_HOST: '127.0.0.1',
      SESSIOND_PORT: String(port),
      SESSIOND_DATA_DIR: options.dataDir ?? createTempDir('sessiond'),
      SESSIOND_SECRET: randomBytes(32).toString('hex'),
      SESSIOND_LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...options.env,
    },
    cwd: config.benchDir,
    baseURL: `http://127.0.0.1:${port}`,
    startTimeoutMs: 60_000,
  });
}
