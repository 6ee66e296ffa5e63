#!/usr/bin/env node
// `npm run chaos`: the chaos suite at full length (decision 020). Real sessiond processes,
// real faults (kill -9, pg_ctl -m immediate, Redis killed, a full disk, key rotation, clock
// skew), then the invariants read from the database; prints one table and exits 1 if anything
// acknowledged was lost or any invariant broke. PostgreSQL and Redis come from
// scripts/services.sh unless SESSIOND_TEST_DATABASE_URL and SESSIOND_TEST_REDIS_URL are set.
// The disk-full scenario mounts a tmpfs: run as root (CI does); elsewhere that row fails.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './lib/free-port.mjs';

let env = {};
let stop = () => {};
if (!process.env.SESSIOND_TEST_DATABASE_URL || !process.env.SESSIOND_TEST_REDIS_URL) {
  const dir = mkdtempSync(join(tmpdir(), 'sessiond-chaos-services-'));
  const started = spawnSync(
    'bash',
    ['scripts/services.sh', 'start', dir, String(await freePort()), String(await freePort())],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  stop = () => spawnSync('bash', ['scripts/services.sh', 'stop', dir], { stdio: 'inherit' });
  if (started.status !== 0) {
    stop();
    console.error('could not start PostgreSQL and Redis for the chaos suite (see above)');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  env = Object.fromEntries(
    started.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
let status;
try {
  status = spawnSync('npx', ['tsx', 'packages/server/test/chaos/run-full.ts', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  }).status;
} finally {
  stop();
}
process.exit(status ?? 1);
