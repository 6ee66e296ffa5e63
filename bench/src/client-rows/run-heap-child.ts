import { join } from 'node:path';
import type { BenchConfig } from '../config.js';
import { runJSONChild } from '../json-child.js';
import type { Credentials } from '../targets/sessiond-api.js';
import type { HeapOutput, HeapVariant } from './heap-output.js';

export const HEAP_CYCLES = 1_000;
// 2 × 1,000 loopback refreshes take seconds; this bounds a wedged child, not a slow machine.
const HEAP_TIMEOUT_MS = 120_000;

/** Row 8 from the harness side: one fresh child process per variant (heap-child.ts). */
export function runHeapChild(
  config: BenchConfig,
  options: { sessiondURL: string; credentials: Credentials; variant: HeapVariant },
): Promise<HeapOutput> {
  return runJSONChild<HeapOutput>({
    name: `the heap child (${options.variant})`,
    args: ['--expose-gc', '--import', 'tsx', join(config.benchDir, 'src', 'client-rows', 'heap-child.ts')],
    env: {
      SESSIOND_URL: options.sessiondURL,
      EMAIL: options.credentials.email,
      PASSWORD: options.credentials.password,
      CYCLES: String(HEAP_CYCLES),
      VARIANT: options.variant,
      NODE_ENV: 'production',
    },
    cwd: config.benchDir,
    timeoutMs: HEAP_TIMEOUT_MS,
  });
}
