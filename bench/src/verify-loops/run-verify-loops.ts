import { join } from 'node:path';
import type { BenchConfig } from '../config.js';
import { runJSONChild } from '../json-child.js';
import { type Issuer, issuerEnv } from '../targets/issuer.js';
import type { LoopOutput } from './loop-result.js';

// Start-up (JWKS, revocation stream) and the process itself, beyond the timed seconds.
const SLACK_MS = 60_000;

/**
 * Runs row 4's loops (src/verify-loops/child.ts) in a child process with one fresh sessiond
 * access token, forwards its progress lines to the log, and answers what it printed.
 */
export async function runVerifyLoops(config: BenchConfig, issuer: Issuer): Promise<LoopOutput> {
  const [session] = await issuer.newSessions(1);
  const seconds = 3 * (config.warmupSeconds + config.runs * config.durationSeconds);
  return runJSONChild<LoopOutput>({
    name: 'the verify loops',
    args: ['--import', 'tsx', join(config.benchDir, 'src', 'verify-loops', 'child.ts')],
    cwd: config.benchDir,
    env: {
      ...issuerEnv(issuer),
      ACCESS_TOKEN: session!.access_token,
      WARMUP_SECONDS: String(config.warmupSeconds),
      DURATION_SECONDS: String(config.durationSeconds),
      RUNS: String(config.runs),
      NODE_ENV: 'production',
    },
    timeoutMs: seconds * 1000 + SLACK_MS,
  });
}
