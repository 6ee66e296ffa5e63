import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track } from './cleanup.js';

/** A fresh directory under the OS temp dir, removed when the benchmark ends however it ends. */
export function createTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sessiond-bench-${prefix}-`));
  track({
    close: () => rm(dir, { recursive: true, force: true }),
    closeNow: () => rmSync(dir, { recursive: true, force: true }),
  });
  return dir;
}
