import { join } from 'node:path';
import type { BenchConfig } from '../config.js';
import { runJSONChild } from '../json-child.js';
import type { OpsSample } from './durable-ops.js';

// The process's start and the database's set-up, beyond the timed seconds.
const SLACK_MS = 30_000;

/** One timed run of row 10's raw SQLite line (sqlite-child.ts) in a fresh child process. */
export function runSQLiteChild(
  config: BenchConfig,
  options: { dataDir: string; seconds: number; users: number },
): Promise<OpsSample> {
  return runJSONChild<OpsSample>({
    name: 'the raw SQLite child',
    args: ['--import', 'tsx', join(config.benchDir, 'src', 'sync-rows', 'sqlite-child.ts')],
    cwd: config.benchDir,
    env: {
      DATA_DIR: options.dataDir,
      SECONDS: String(options.seconds),
      USERS: String(options.users),
      NODE_ENV: 'production',
    },
    timeoutMs: options.seconds * 1000 + SLACK_MS,
  });
}
