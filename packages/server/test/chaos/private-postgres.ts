import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/test-server.js';

const SERVICES = fileURLToPath(new URL('../../../../scripts/services.sh', import.meta.url));

function run(command: string, args: string[], what: string): string {
  const done = spawnSync(command, args, { encoding: 'utf8' });
  if (done.status !== 0) {
    throw new Error(
      `${what} failed (${done.error?.message ?? `exit ${done.status}`}): ${done.stderr}${done.stdout}`,
    );
  }
  return done.stdout;
}

/**
 * A PostgreSQL of the scenario's own, started by scripts/services.sh in a private directory:
 * the suites running beside it keep the shared one (SESSIOND_TEST_DATABASE_URL), which a crash
 * would take from under them. (services.sh starts a Redis too; the cluster uses its own.)
 */
export class PrivatePostgres {
  private constructor(
    private readonly dir: string,
    readonly url: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'sessiond-chaos-pg-'));
    const out = run(
      'bash',
      [SERVICES, 'start', dir, String(await freePort()), String(await freePort())],
      'scripts/services.sh start',
    );
    const url = /SESSIOND_TEST_DATABASE_URL=(\S+)/.exec(out)?.[1];
    if (!url) throw new Error(`scripts/services.sh printed no database URL: ${out}`);
    return new PrivatePostgres(dir, url);
  }

  /** A crash: `pg_ctl -m immediate` (no checkpoint; recovery replays the WAL at the next start). */
  crash(): void {
    this.#pgCtl(['-D', join(this.dir, 'pg'), '-m', 'immediate', '-w', 'stop']);
  }

  /** Starts it again with the options of its last start (postmaster.opts). */
  start(): void {
    const data = join(this.dir, 'pg');
    this.#pgCtl(['-D', data, '-l', join(data, 'server.log'), '-w', '-t', '30', 'restart']);
  }

  stop(): void {
    spawnSync('bash', [SERVICES, 'stop', this.dir], { stdio: 'ignore' });
  }

  #pgCtl(args: string[]): void {
    const bin = readdirSync('/usr/lib/postgresql')
      .sort((a, b) => Number(a) - Number(b))
      .at(-1);
    const pgCtl = `/usr/lib/postgresql/${bin}/bin/pg_ctl`;
    // postgres refuses root, as in services.sh.
    if (process.getuid?.() === 0) run('runuser', ['-u', 'postgres', '--', pgCtl, ...args], 'pg_ctl');
    else run(pgCtl, args, 'pg_ctl');
  }
}
