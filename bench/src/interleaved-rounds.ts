import type { RunSample } from './autocannon-runner.js';
import type { BenchConfig } from './config.js';
import { errorMessage, log } from './log.js';
import { measureOnce } from './measure.js';
import type { Target } from './targets/target.js';

/** What was measured for one target: its warm-up, its runs, and the runs that failed. */
export interface Measurements {
  warmup: RunSample | null;
  runs: RunSample[];
  failures: string[];
}

/**
 * A warm-up of every target, then BENCH_RUNS rounds that run every target once each. Interleaving
 * the rounds means a slowdown of the machine affects all targets, not only the one running at that
 * moment. A failed run is recorded with its reason, and the others go on.
 */
export async function measureInterleaved(
  targets: readonly Target[],
  config: BenchConfig,
): Promise<Map<string, Measurements>> {
  const measured = new Map<string, Measurements>(
    targets.map((t) => [t.id, { warmup: null, runs: [], failures: [] }]),
  );
  const attempt = async (target: Target, name: string, seconds: number): Promise<RunSample | null> => {
    try {
      return await measureOnce(target, config, { name, seconds });
    } catch (error) {
      measured.get(target.id)!.failures.push(`${name}: ${errorMessage(error)}`);
      log(`  ${target.id} ${name} failed: ${errorMessage(error)}`);
      return null;
    }
  };

  log(`warm-up: ${config.warmupSeconds} s per target`);
  for (const target of targets)
    measured.get(target.id)!.warmup = await attempt(target, 'warm-up', config.warmupSeconds);
  for (let round = 1; round <= config.runs; round++) {
    log(`round ${round}/${config.runs}: ${config.durationSeconds} s per target`);
    for (const target of targets) {
      const sample = await attempt(target, `run ${round}`, config.durationSeconds);
      if (sample !== null) measured.get(target.id)!.runs.push(sample);
    }
  }
  return measured;
}
