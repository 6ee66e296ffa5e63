import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ChildServer } from '../child-server.js';
import type { BenchConfig } from '../config.js';
import { log } from '../log.js';
import { requireBuiltSessiond, startSessiondChild } from '../targets/sessiond-child.js';
import { createTempDir } from '../temp-dir.js';
import { dropAdminIndexes, SEED, type SeededData, seedAdminData } from './seed-log.js';

// Row 11 runs two sessionds from the built CLI on the same seeded data: the shipped schema, and a
// copy of the database without the indexes migration 0004 added for the admin API (the baseline).
// Both get the same admin key, secret and settings; only the indexes differ.

const run = promisify(execFile);

export interface AdminNodes {
  /** The shipped schema. */
  indexed: ChildServer;
  /** The same data without migration 0004's session_logs indexes. */
  baseline: ChildServer;
  /** The admin key both accept. */
  key: string;
  seeded: SeededData;
  stop(): Promise<void>;
}

/** A data dir migrated by `sessiond migrate` and seeded with SEED's million-row log (rows 11 and 14). */
export async function createSeededDataDir(
  config: BenchConfig,
  env: Readonly<Record<string, string>>,
  row: string,
): Promise<{ dir: string; seeded: SeededData }> {
  requireBuiltSessiond(config);
  const dir = createTempDir('sessiond-admin');
  // The schema comes from sessiond itself, so the seeded rows fit the migrations as shipped.
  await run(process.execPath, [config.sessiondMain, 'migrate'], {
    env: { ...process.env, ...env, SESSIOND_DATA_DIR: dir },
  });
  log(
    `${row}: seeding ${SEED.logRows.toLocaleString('en-US')} log rows, ${SEED.sessions.toLocaleString('en-US')} sessions ` +
      `and ${SEED.users.toLocaleString('en-US')} users over ${SEED.days} days`,
  );
  const seeded = seedAdminData(join(dir, 'sessiond.db'), Date.now());
  log(`  seeded in ${(seeded.seedMs / 1000).toFixed(1)} s`);
  return { dir, seeded };
}

export async function startAdminNodes(config: BenchConfig): Promise<AdminNodes> {
  const key = `sk_admin_${randomBytes(32).toString('base64url')}`;
  const env = {
    SESSIOND_SECRET: randomBytes(32).toString('hex'),
    SESSIOND_ADMIN_API_KEYS: key,
    SESSIOND_LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  const { dir: indexedDir, seeded } = await createSeededDataDir(config, env, 'row 11');
  log('  copying it for the baseline, without the admin indexes');
  const baselineDir = createTempDir('sessiond-admin-noidx');
  copyFileSync(join(indexedDir, 'sessiond.db'), join(baselineDir, 'sessiond.db'));
  dropAdminIndexes(join(baselineDir, 'sessiond.db'));

  const indexed = await startSessiondChild(config, { name: 'sessiond (admin)', dataDir: indexedDir, env });
  let baseline: ChildServer;
  try {
    baseline = await startSessiondChild(config, {
      name: 'sessiond (admin, no indexes)',
      dataDir: baselineDir,
      env,
    });
  } catch (error) {
    await indexed.stop();
    throw error;
  }
  return {
    indexed,
    baseline,
    key,
    seeded,
    stop: async () => {
      await baseline.stop();
      await indexed.stop();
    },
  };
}
