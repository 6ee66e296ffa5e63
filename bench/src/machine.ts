import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';

/** Where the numbers came from, for the report header. */
export interface Machine {
  node: string;
  cpu: string;
  cores: number;
  commit: string;
}

function gitCommit(cwd: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd,
      encoding: 'utf8',
      timeout: 5_000,
    });
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8', timeout: 5_000 });
    return `${commit.trim()}${dirty.trim() === '' ? '' : ' (uncommitted changes)'}`;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(repoDir: string): Machine {
  return {
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    commit: gitCommit(repoDir),
  };
}
