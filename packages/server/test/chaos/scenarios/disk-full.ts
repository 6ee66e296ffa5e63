import { PASSWORD, request, uniqueEmail } from '../../helpers/api.js';
import { sqliteDatabase } from '../chaos-database.js';
import { pause, type Scenario, underLoad } from '../scenario.js';
import { sqliteFile, sqliteNode } from '../sqlite-node.js';
import { SmallDisk } from '../tmpfs.js';

/**
 * SQLite's disk fills up under load, then space returns. Meanwhile writes must be answered 503
 * storage_unavailable (not 500, not a crash), nothing acknowledged may be missing, and the
 * node must serve again once space is freed, without a restart.
 */
export const diskFull: Scenario = {
  name: 'disk full (SQLite)',
  async run(length) {
    const disk = SmallDisk.mount(24);
    const node = await sqliteNode(disk.dir);
    let pid: number | undefined;
    const failures: string[] = [];
    try {
      await node.start();
      pid = node.pid;
      return await underLoad({
        name: this.name,
        length,
        targets: { urls: () => (node.running ? [node.url] : []) },
        fault: async () => {
          disk.fill();
          // Long enough for the space SQLite already holds (WAL, free pages) to run out too.
          await pause(length.phaseMs * 2);
          disk.free();
          // Recovery: with space back, a write is kept again, with no restart.
          const recovered = await writesAgain(node.url);
          if (!recovered) failures.push('writes still refused 10 s after space returned');
        },
        settle: async () => {
          await node.stop('SIGTERM');
        },
        database: () => sqliteDatabase(sqliteFile(disk.dir)),
        nodeURLs: () => [],
        extra: (record) => [
          ...failures,
          ...(record.answers.get('503 storage_unavailable')
            ? []
            : ['no write was answered 503 storage_unavailable']),
          ...(node.pids.length === 1 && node.pids[0] === pid
            ? []
            : ['the node died while the disk was full']),
        ],
      });
    } finally {
      await node.kill();
      disk.unmount();
    }
  },
};

async function writesAgain(url: string): Promise<boolean> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const signup = await request(url, 'POST', '/api/auth/signup', {
      body: { email: uniqueEmail(), password: PASSWORD },
    });
    if (signup.status === 201) return true;
    await pause(100);
  }
  return false;
}
