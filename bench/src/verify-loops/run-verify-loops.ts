import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { track } from '../cleanup.js';
import type { BenchConfig } from '../config.js';
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
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(config.benchDir, 'src', 'verify-loops', 'child.ts')],
    {
      cwd: config.benchDir,
      env: {
        ...process.env,
        ...issuerEnv(issuer),
        ACCESS_TOKEN: session!.access_token,
        WARMUP_SECONDS: String(config.warmupSeconds),
        DURATION_SECONDS: String(config.durationSeconds),
        RUNS: String(config.runs),
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const untrack = track({
    close: async () => {
      child.kill('SIGKILL');
    },
    closeNow: () => {
      child.kill('SIGKILL');
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr = (stderr + text).slice(-4_000);
    process.stderr.write(text);
  });
  const seconds = 3 * (config.warmupSeconds + config.runs * config.durationSeconds);
  const timer = setTimeout(() => child.kill('SIGKILL'), seconds * 1000 + SLACK_MS);
  try {
    // 'close', not 'exit': it comes after stdout has been read to the end.
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    if (code !== 0)
      throw new Error(`the verify loops exited (${code ?? signal}); their last output:\n${stderr}`);
  } finally {
    clearTimeout(timer);
    untrack();
  }
  return JSON.parse(stdout.trim()) as LoopOutput;
}
