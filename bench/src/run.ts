// `npm run bench`: starts every server under test, runs autocannon against each target
// (a warm-up, then BENCH_RUNS measured rounds, interleaved so that drift in machine speed
// hits every target alike), then row 4's verify loops in a child process of their own, then
// rows 6 to 8 (@sessiond/client in Chromium and in Node), then, with every one of those servers
// stopped, rows 9 and 10 (real-time sync), then row 11 (the admin API on a million-row log), and
// prints and saves the tables. BENCH_ONLY=http runs the HTTP rows alone (1, 2, 3, 3b, 5),
// BENCH_ONLY=sync rows 9 and 10, BENCH_ONLY=admin row 11, BENCH_ONLY=multinode rows 12 and 13,
// BENCH_ONLY=faces rows 14 and 15 (the admin dashboard and the live shop in Chromium).
import { resolve } from 'node:path';
import { adminRowsFailed } from './admin-rows/admin-row.js';
import { measureAdminRows } from './admin-rows/run-admin-rows.js';
import { closeAll, installExitHandlers } from './cleanup.js';
import type { ClientRows } from './client-rows/client-row.js';
import { measureClientRows } from './client-rows/run-client-rows.js';
import type { BenchConfig } from './config.js';
import { loadConfig } from './config.js';
import { facesRowsFailed } from './faces-rows/faces-row.js';
import { measureFacesRows } from './faces-rows/run-faces-rows.js';
import { measureInterleaved } from './interleaved-rounds.js';
import { errorMessage, log } from './log.js';
import { describeMachine } from './machine.js';
import { multinodeRowsFailed } from './multinode-rows/multinode-row.js';
import { measureMultinodeRows } from './multinode-rows/run-multinode-rows.js';
import { buildReport, renderMarkdown } from './report.js';
import { writeResults } from './results-files.js';
import { measureSignerRow } from './signer-row/run-signer-row.js';
import { measureSyncRows } from './sync-rows/run-sync-rows.js';
import { syncRowsFailed } from './sync-rows/sync-row.js';
import { summarize, type TargetResult } from './target-result.js';
import { startBaselineVerify } from './targets/baseline-verify.js';
import { startBetterAuth } from './targets/better-auth.js';
import { startCeilingSign } from './targets/ceiling-sign.js';
import { startExpressSession } from './targets/express-session.js';
import { startFastifyResource } from './targets/fastify-resource.js';
import type { Issuer } from './targets/issuer.js';
import { passwordHashParams } from './targets/password-hash-params.js';
import { startSessiond } from './targets/sessiond.js';
import type { Target, TargetServer } from './targets/target.js';
import { runVerifyLoops } from './verify-loops/run-verify-loops.js';
import { failedVerifyRow, summarizeVerifyLoops, type VerifyRow } from './verify-loops/verify-row.js';

const NO_ISSUER = 'sessiond did not start, so there is no issuer to verify tokens of';

/** Filled in when sessiond has started; rows 4 and 5 verify its tokens. */
interface IssuerSlot {
  current: Issuer | undefined;
}

function requireIssuer(slot: IssuerSlot): Issuer {
  if (slot.current === undefined) throw new Error(NO_ISSUER);
  return slot.current;
}

/** Every server, in start order: sessiond first, since the resource servers need its issuer. */
function serverStarters(
  config: BenchConfig,
  issuer: IssuerSlot,
): ReadonlyArray<[string, () => Promise<TargetServer>]> {
  return [
    [
      'sessiond',
      async () => {
        const sessiond = await startSessiond(config);
        issuer.current = sessiond.issuer;
        return sessiond;
      },
    ],
    ['ceiling-sign', () => startCeilingSign(config)],
    ['baseline-verify', () => startBaselineVerify(config)],
    ['better-auth', () => startBetterAuth(config)],
    ['express-session', () => startExpressSession(config)],
    ['fastify-resource', () => startFastifyResource(config, requireIssuer(issuer))],
  ];
}

/** Rows 1 to 8 (the HTTP rows alone with BENCH_ONLY=http): every server but the sync rows'. */
interface MainRows {
  results: TargetResult[];
  verify: VerifyRow | null;
  client: ClientRows | null;
  serverFailures: Array<{ server: string; error: string }>;
}

async function measureMainRows(config: BenchConfig): Promise<MainRows> {
  const servers: TargetServer[] = [];
  const serverFailures: Array<{ server: string; error: string }> = [];
  const issuer: IssuerSlot = { current: undefined };
  for (const [name, start] of serverStarters(config, issuer)) {
    log(`starting ${name}`);
    try {
      servers.push(await start());
    } catch (error) {
      // The others still run, so one broken server leaves the rest of the table readable.
      serverFailures.push({ server: name, error: errorMessage(error) });
      log(`  ${name} did not start: ${errorMessage(error)}`);
    }
  }

  const targets: Target[] = servers.flatMap((server) => server.targets);
  const measured = await measureInterleaved(targets, config);
  const httpOnly = config.only === 'http';
  // Row 4 runs with no load on: the servers are idle, sessiond only feeds the revocation stream.
  const verify = httpOnly ? null : await measureVerifyLoops(config, issuer.current);
  // Rows 6 to 8 likewise: sessiond only answers the client's own calls.
  const client = httpOnly ? null : await measureClientRows(config, issuer.current);
  for (const server of servers) await server.stop();
  return {
    results: targets.map((target) => summarize(target, measured.get(target.id)!)),
    verify,
    client,
    serverFailures,
  };
}

async function main(): Promise<number> {
  installExitHandlers();
  const config = loadConfig();
  const startedAt = new Date().toISOString();

  const earlier: MainRows =
    config.only === 'all' || config.only === 'http'
      ? await measureMainRows(config)
      : { results: [], verify: null, client: null, serverFailures: [] };
  const selected = (rows: BenchConfig['only']): boolean => config.only === 'all' || config.only === rows;
  // Rows 9 and 10 next, on a machine where no other server is left running.
  const sync = selected('sync') ? await measureSyncRows(config) : null;
  // Row 11 on its own servers, after everything else has stopped.
  const admin = selected('admin') ? await measureAdminRows(config) : null;
  // Rows 14 and 15 on their own servers and browser: the dashboard and the live shop.
  const faces = selected('faces') ? await measureFacesRows(config) : null;
  // Rows 12 and 13 last: their own PostgreSQL, Redis and nodes, started and stopped around them.
  const multinode = selected('multinode') ? await measureMultinodeRows(config) : null;
  // Row 16 with them: the bare signer, a refresh's ceiling (issue 18), in the same run.
  const signer = selected('multinode')
    ? await measureSignerRow({ seconds: config.durationSeconds, runs: config.runs })
    : '';

  const machine = describeMachine(resolve(config.benchDir, '..'));
  const report = buildReport(
    {
      startedAt,
      ...machine,
      connections: config.connections,
      warmupSeconds: config.warmupSeconds,
      durationSeconds: config.durationSeconds,
      runs: config.runs,
      only: config.only,
      passwordHashParams: passwordHashParams(),
    },
    earlier.results,
    earlier.verify,
    earlier.client,
    sync,
    admin,
    multinode,
    faces,
    earlier.serverFailures,
  );
  const markdown = `${renderMarkdown(report)}${signer ? `\n${signer}` : ''}`;
  process.stdout.write(`\n${markdown}`);
  // A partial run gets files of its own, so it never overwrites the last full table.
  const files = await writeResults(
    config.resultsDir,
    config.only === 'all' ? 'latest' : `latest-${config.only}`,
    report,
    markdown,
  );
  log(`\nwrote ${files.join(' and ')}`);

  // A missing server or a failed run means the table is incomplete: say so in the exit code.
  const incomplete =
    earlier.serverFailures.length > 0 ||
    report.results.some((result) => result.failures.length > 0) ||
    (earlier.verify?.failure ?? null) !== null ||
    earlier.client?.results.some((result) => result.failure !== null) === true ||
    (sync !== null && syncRowsFailed(sync)) ||
    (admin !== null && adminRowsFailed(admin)) ||
    (multinode !== null && multinodeRowsFailed(multinode)) ||
    (faces !== null && facesRowsFailed(faces));
  return incomplete ? 1 : 0;
}

async function measureVerifyLoops(config: BenchConfig, issuer: Issuer | undefined): Promise<VerifyRow> {
  if (issuer === undefined) return failedVerifyRow(NO_ISSUER);
  log(
    `row 4: verify loops, ${config.warmupSeconds} s warm-up and ${config.runs} × ${config.durationSeconds} s each`,
  );
  try {
    return summarizeVerifyLoops(await runVerifyLoops(config, issuer), config.benchDir);
  } catch (error) {
    log(`  verify loops failed: ${errorMessage(error)}`);
    return failedVerifyRow(errorMessage(error));
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  log(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await closeAll();
}
