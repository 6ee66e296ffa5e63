import { type IssuerEnv, readIssuerEnv } from '../servers/lib/issuer-env.js';

// The one place the verify-loops child reads its environment; the harness writes it in
// run-verify-loops.ts.

export interface LoopEnv extends IssuerEnv {
  /** A real sessiond access token, verified over and over. */
  accessToken: string;
  warmupSeconds: number;
  durationSeconds: number;
  runs: number;
}

function positiveInteger(name: string): number {
  const value = Number(process.env[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

export function readLoopEnv(): LoopEnv {
  const accessToken = process.env.ACCESS_TOKEN;
  if (accessToken === undefined || accessToken === '') throw new Error('ACCESS_TOKEN is required');
  return {
    ...readIssuerEnv(),
    accessToken,
    warmupSeconds: positiveInteger('WARMUP_SECONDS'),
    durationSeconds: positiveInteger('DURATION_SECONDS'),
    runs: positiveInteger('RUNS'),
  };
}
