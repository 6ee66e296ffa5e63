import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

const heldHere = new Set<string>();

export interface DataDirLock {
  release(): void;
}

/**
 * One server per data dir: the embedded store's caches are only correct with a single writer
 * (docs/decisions/005). A pid file marks the owner; a lock whose process is gone is taken over.
 * The `keys` commands do not lock: they write no sessions.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'sessiond.lock');
  const key = resolve(file);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(key);
      return {
        release() {
          if (!heldHere.delete(key)) return;
          rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (heldHere.has(key) || (owner !== process.pid && isAlive(owner))) {
        throw new Error(
          `data dir ${dataDir} is in use by another sessiond (pid ${owner}); run one server per data dir, or PostgreSQL for several`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock data dir ${dataDir}`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
