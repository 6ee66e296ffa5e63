#!/usr/bin/env node
// Runs the whole vitest suite twice: on the embedded SQLite default, then on PostgreSQL (the
// multi-node store), and ends with the plain "N passed, N failed" line CI reads. PostgreSQL and
// Redis are started here (scripts/services.sh) unless SESSIOND_TEST_DATABASE_URL and
// SESSIOND_TEST_REDIS_URL already point at running ones.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './lib/free-port.mjs';

/** Suites that pick their store themselves: the second pass would only repeat them. */
const STORE_SPECIFIC = [
  'packages/server/test/store/**',
  'packages/server/test/redis/**',
  'packages/server/test/multinode/**',
  'packages/server/test/chaos/**',
  // They read the SQLite file itself to show what is stored (and that a raw IP is nowhere in it).
  'packages/server/test/privacy-ip-storage.test.ts',
  'packages/server/test/privacy-geoip.test.ts',
  // `npm run demo` runs sessiond on SQLite, as a newcomer does, whatever the pass.
  'examples/live-shop/test/demo.test.ts',
];

function fail(message) {
  console.error(message);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

/** Starts PostgreSQL and Redis in a private directory; returns their URLs and a stop function. */
async function startServices() {
  if (process.env.SESSIOND_TEST_DATABASE_URL && process.env.SESSIOND_TEST_REDIS_URL) {
    return { env: {}, stop: () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sessiond-services-'));
  const started = spawnSync(
    'bash',
    ['scripts/services.sh', 'start', dir, String(await freePort()), String(await freePort())],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stop = () => spawnSync('bash', ['scripts/services.sh', 'stop', dir], { stdio: 'inherit' });
  if (started.status !== 0) {
    stop();
    fail('could not start PostgreSQL and Redis for the suite (see above)');
  }
  const env = Object.fromEntries(
    started.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { env, stop };
}

function vitest(name, env, args) {
  const results = `.vitest-results-${name}.json`;
  rmSync(results, { force: true });
  console.log(`\n== tests on ${name}`);
  const run = spawnSync(
    'npx',
    ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${results}`, ...args],
    { stdio: 'inherit', env: { ...process.env, ...env } },
  );
  if (!existsSync(results)) return { passed: 0, failed: 1, skipped: 0, ok: false };
  const summary = JSON.parse(readFileSync(results, 'utf8'));
  // Files that failed before running any test (an import error, a failing hook) count once each.
  const brokenFiles = summary.testResults.filter(
    (file) => file.status === 'failed' && file.assertionResults.length === 0,
  );
  return {
    passed: summary.numPassedTests,
    failed: summary.numFailedTests + brokenFiles.length,
    skipped: summary.numPendingTests + summary.numTodoTests,
    ok: run.status === 0,
  };
}

const chromium = spawnSync('bash', ['scripts/ensure-chromium.sh'], { stdio: 'inherit' });
if (chromium.status !== 0) fail('Chromium is missing (see above)');

const services = await startServices();
let passes;
try {
  const args = process.argv.slice(2);
  passes = [
    vitest('sqlite', services.env, args),
    vitest('postgres', { ...services.env, SESSIOND_TEST_STORE: 'postgres' }, [
      ...STORE_SPECIFIC.flatMap((pattern) => ['--exclude', pattern]),
      ...args,
    ]),
  ];
} finally {
  services.stop();
}
const total = (key) => passes.reduce((sum, pass) => sum + pass[key], 0);
const skipped = total('skipped');
console.log(`${total('passed')} passed, ${total('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(passes.every((pass) => pass.ok) ? 0 : 1);
