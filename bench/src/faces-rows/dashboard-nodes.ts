import { randomBytes } from 'node:crypto';
import { createSeededDataDir } from '../admin-rows/admin-sessiond.js';
import type { SeededData } from '../admin-rows/seed-log.js';
import type { ChildServer } from '../child-server.js';
import type { BenchConfig } from '../config.js';
import { startSessiondChild } from '../targets/sessiond-child.js';

// Row 14's two sessionds from the built CLI, with the same admin key, secret and settings: one on
// row 11's million-row log (seeded the same way), one on an empty data dir (the baseline). Only the
// data differs, so the ratio is what a million rows cost the dashboard's first screen.

export interface DashboardNodes {
  million: ChildServer;
  empty: ChildServer;
  /** The admin key both accept, typed into the dashboard's sign-in form. */
  key: string;
  seeded: SeededData;
  stop(): Promise<void>;
}

export async function startDashboardNodes(config: BenchConfig): Promise<DashboardNodes> {
  const key = `sk_admin_${randomBytes(32).toString('base64url')}`;
  const env = {
    SESSIOND_SECRET: randomBytes(32).toString('hex'),
    SESSIOND_ADMIN_API_KEYS: key,
    SESSIOND_LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  const { dir, seeded } = await createSeededDataDir(config, env, 'row 14');
  const million = await startSessiondChild(config, {
    name: 'sessiond (dashboard, 1M log)',
    dataDir: dir,
    env,
  });
  let empty: ChildServer;
  try {
    // `sessiond start` migrates a fresh data dir itself.
    empty = await startSessiondChild(config, { name: 'sessiond (dashboard, empty log)', env });
  } catch (error) {
    await million.stop();
    throw error;
  }
  return {
    million,
    empty,
    key,
    seeded,
    stop: async () => {
      await empty.stop();
      await million.stop();
    },
  };
}
