import { execFile, execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pg, { type QueryResultRow } from 'pg';
import { track } from '../cleanup.js';
import type { BenchConfig } from '../config.js';
import { findFreePort } from '../free-port.js';
import { createTempDir } from '../temp-dir.js';

// Rows 12 and 13 run their nodes against one PostgreSQL, and row 13 against one Redis, both started
// for the benchmark by the repository's scripts/services.sh (the same script the test suites use)
// in a temp dir on free loopback ports, never the machine's defaults. They are stopped however the
// run ends. (Row 12's setups each get a Redis of their own: redis-server.ts.)

const run = promisify(execFile);

export interface Services {
  /** `redis://127.0.0.1:PORT`. */
  redisURL: string;
  /** A new, empty database on the PostgreSQL server; answers its URL. */
  createDatabase(name: string): Promise<string>;
  /** The server's version, e.g. `15.18`, for the table. */
  postgresVersion: string;
  stop(): Promise<void>;
}

/** `KEY=VALUE` lines of services.sh's output. */
function parseURLs(stdout: string): { databaseURL: string; redisURL: string } {
  const value = (key: string): string => {
    const line = stdout.split('\n').find((candidate) => candidate.startsWith(`${key}=`));
    if (line === undefined) throw new Error(`scripts/services.sh printed no ${key}:\n${stdout}`);
    return line.slice(key.length + 1).trim();
  };
  return { databaseURL: value('SESSIOND_TEST_DATABASE_URL'), redisURL: value('SESSIOND_TEST_REDIS_URL') };
}

async function query<T extends QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

export async function startServices(config: BenchConfig): Promise<Services> {
  const script = resolve(config.benchDir, '../scripts/services.sh');
  const dir = createTempDir('services');
  const stopSync = (): void => {
    execFileSync('bash', [script, 'stop', dir], { stdio: 'ignore' });
  };
  // Registered before the start, so a start that fails halfway still stops what it started.
  const untrack = track({
    close: async () => {
      await run('bash', [script, 'stop', dir]);
    },
    closeNow: stopSync,
  });
  const stop = async (): Promise<void> => {
    untrack();
    await run('bash', [script, 'stop', dir]);
  };
  try {
    const pgPort = await findFreePort();
    let redisPort = await findFreePort();
    while (redisPort === pgPort) redisPort = await findFreePort();
    const { stdout } = await run('bash', [script, 'start', dir, String(pgPort), String(redisPort)]).catch(
      (error: { stderr?: string; message?: string }) => {
        throw new Error(
          `scripts/services.sh could not start PostgreSQL and Redis: ${error.stderr?.trim() || error.message}`,
        );
      },
    );
    const { databaseURL: adminURL, redisURL } = parseURLs(stdout);
    const [version] = await query<{ server_version: string }>(adminURL, 'SHOW server_version');
    return {
      redisURL,
      postgresVersion: version?.server_version.split(' ')[0] ?? 'unknown',
      createDatabase: async (name) => {
        // Bench-chosen names only; quoted anyway.
        await query(adminURL, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
        const url = new URL(adminURL);
        url.pathname = `/${name}`;
        return url.toString();
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}
