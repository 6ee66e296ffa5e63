import { type RunSample, runLoad } from './autocannon-runner.js';
import type { BenchConfig } from './config.js';
import { log } from './log.js';
import { sleep } from './sleep.js';
import type { Target } from './targets/target.js';

// A pause between set-up and load lets every server finish what came before (requests
// autocannon abandoned at the end of the previous run, set-up logins, their garbage), so a
// run measures only its own requests.
const SETTLE_MS = 1_000;

/** Prepares and makes one autocannon run against a target, logging one progress line. */
export async function measureOnce(
  target: Target,
  config: BenchConfig,
  run: { name: string; seconds: number },
): Promise<RunSample> {
  const spec = await target.prepareRun();
  await sleep(SETTLE_MS);
  const sample = await runLoad(spec, { connections: config.connections, durationSeconds: run.seconds });
  log(
    `  ${target.id.padEnd(24)} ${run.name.padEnd(8)} ${Math.round(sample.requestsPerSecond).toString().padStart(7)} req/s` +
      `  p99 ${sample.p99Ms.toString().padStart(5)} ms  non-2xx ${sample.non2xx}  errors ${sample.errors}`,
  );
  return sample;
}
