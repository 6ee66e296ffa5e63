import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The benchmark's whole configuration, read once from the environment, validated and frozen.
 * Nothing else in the harness reads process.env.
 */
export interface BenchConfig {
  /** Concurrent autocannon connections per run (BENCH_CONNECTIONS, default 50). */
  readonly connections: number;
  /** Seconds of discarded warm-up per target (BENCH_WARMUP_SECONDS, default 3). */
  readonly warmupSeconds: number;
  /** Seconds per measured run (BENCH_DURATION_SECONDS, default 5). */
  readonly durationSeconds: number;
  /** Measured runs per target; the report shows their median (BENCH_RUNS, default 3). */
  readonly runs: number;
  /**
   * `all` rows, or only the HTTP rows 1, 2, 3, 3b and 5 (BENCH_ONLY=http), or only the sync rows 9
   * and 10 (BENCH_ONLY=sync), or only row 11 (BENCH_ONLY=admin), or only the multi-node rows 12 and
   * 13 (BENCH_ONLY=multinode), or only rows 14 and 15, the dashboard and the live shop in Chromium
   * (BENCH_ONLY=faces).
   */
  readonly only: BenchSelection;
  /** The bench package directory; peer servers run with it as their working directory. */
  readonly benchDir: string;
  /** Where latest.md and latest.json go (gitignored). */
  readonly resultsDir: string;
  /** sessiond's built entry point, produced by `npm run build` at the repository root. */
  readonly sessiondMain: string;
}

export type BenchSelection = 'all' | 'http' | 'sync' | 'admin' | 'multinode' | 'faces';

function selection(): BenchSelection {
  const raw = process.env.BENCH_ONLY;
  if (raw === undefined || raw === '') return 'all';
  if (raw === 'http' || raw === 'sync' || raw === 'admin' || raw === 'multinode' || raw === 'faces')
    return raw;
  throw new Error(`BENCH_ONLY must be unset, http, sync, admin, multinode or faces, got ${raw}`);
}

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

export function loadConfig(): BenchConfig {
  const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  return Object.freeze({
    connections: positiveInteger('BENCH_CONNECTIONS', 50),
    warmupSeconds: positiveInteger('BENCH_WARMUP_SECONDS', 3),
    durationSeconds: positiveInteger('BENCH_DURATION_SECONDS', 5),
    runs: positiveInteger('BENCH_RUNS', 3),
    only: selection(),
    benchDir,
    resultsDir: join(benchDir, 'results'),
    sessiondMain: resolve(benchDir, '../packages/server/dist/main.js'),
  });
}
