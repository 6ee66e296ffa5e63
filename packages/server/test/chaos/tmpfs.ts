import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs of the suite's own, for the disk-full scenario: mounting needs root, which CI
 * has. Anywhere else the scenario FAILS with this message: a fault that was not dealt proves nothing.
 */
export class SmallDisk {
  private constructor(readonly dir: string) {}

  static mount(sizeMB: number): SmallDisk {
    const dir = mkdtempSync(join(tmpdir(), 'sessiond-chaos-disk-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMB}m,mode=0755`, 'tmpfs', dir], {
      encoding: 'utf8',
    });
    if (mounted.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `the disk-full scenario mounts a ${sizeMB} MB tmpfs and could not (uid ${process.getuid?.()}): ${
          mounted.error?.message ?? mounted.stderr.trim()
        }. Run the chaos suite as root (CI does), e.g. sudo npm run chaos`,
      );
    }
    return new SmallDisk(dir);
  }

  get filler(): string {
    return join(this.dir, 'filler');
  }

  /** Writes zeros until the file system says ENOSPC; answers how many bytes fit. */
  fill(): number {
    const fd = openSync(this.filler, 'a');
    let written = 0;
    try {
      for (const size of [1 << 20, 1 << 14, 1 << 10, 1]) {
        const chunk = Buffer.alloc(size);
        for (;;) {
          try {
            written += writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
            break;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  /** Space returns. */
  free(): void {
    unlinkSync(this.filler);
  }

  unmount(): void {
    spawnSync('umount', ['-l', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
