import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { waitForOutput } from '../helpers/child-output.js';
import { queryOnce, testDatabaseURL } from '../helpers/postgres.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { freePort, RESOURCE_SERVER } from '../helpers/test-server.js';

/** The built server: `npm test` builds first; during development run `npx tsc -b` at the root. */
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export const CLUSTER_SECRET = 'cluster-master-secret-0123456789abcdef0123456789';
export const CLUSTER_ISSUER = 'http://sessiond.cluster';

export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every child this worker started, killed if the worker itself goes away before `close`. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const orphan of children) orphan.kill('SIGKILL');
  });
}

/** One `sessiond start` process. Its port and data dir stay the same across restarts. */
export class ClusterNode {
  readonly url: string;
  #child: ChildProcess | undefined;
  #exited: Promise<NodeExit> = Promise.resolve({ code: null, signal: null });
  #stdout = '';
  #stderr = '';
  #pids: number[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** True from a successful start until the process exits. */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The pid of every process this node has been, oldest first: a restart adds one. */
  get pids(): readonly number[] {
    return this.#pids;
  }

  /** Everything the node printed on stdout (pino lines at SESSIOND_LOG_LEVEL), across restarts. */
  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Parsed pino lines of stdout. */
  logLines(): Array<Record<string, unknown>> {
    return this.#stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /**
   * Waits until `count` pino lines from index `from` on (of `logLines()`) match `match`: how a
   * test knows the node has received a request (at SESSIOND_LOG_LEVEL=info, "incoming request").
   */
  async waitForLogLines(
    match: (line: Record<string, unknown>) => boolean,
    options: { from?: number; count?: number; timeoutMs?: number } = {},
  ): Promise<Array<Record<string, unknown>>> {
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    for (;;) {
      const found = this.logLines()
        .slice(options.from ?? 0)
        .filter(match);
      if (found.length >= (options.count ?? 1)) return found;
      if (Date.now() > deadline) {
        throw new Error(`node ${this.name}: ${found.length} of ${options.count ?? 1} log lines seen`);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Resolves when the current process exits (at once if none runs). */
  get exited(): Promise<NodeExit> {
    return this.#exited;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`node ${this.name} is already running`);
    const child = spawn(process.execPath, [MAIN, 'start'], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    this.#child = child;
    if (child.pid !== undefined) this.#pids.push(child.pid);
    child.stdout?.on('data', (chunk: Buffer) => {
      this.#stdout += chunk;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk;
    });
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await waitForOutput(child, /sessiond listening on/, { timeoutMs: 20_000, what: `node ${this.name}` });
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<NodeExit> {
    this.signal(signal);
    return this.#exited;
  }

  /** Sends `signal` without waiting (a test has requests in flight meanwhile). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) throw new Error(`node ${this.name} is not running`);
    this.#child?.kill(signal);
  }

  /** Stops the node (SIGTERM) if it runs, then starts it again on the same port. */
  async restart(): Promise<void> {
    if (this.running) await this.stop('SIGTERM');
    await this.start();
  }

  /** Cleanup: SIGKILL if still running, whatever happened before. */
  async kill(): Promise<void> {
    if (this.running) this.#child?.kill('SIGKILL');
    await this.#exited;
  }
}

export interface Cluster {
  readonly nodes: readonly ClusterNode[];
  readonly redis: RedisProcess;
  readonly databaseURL: string;
  /** SQL against the cluster's database, for assertions on what is stored. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Kills every process, drops the database and removes the data dirs. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * `nodes` sessiond processes sharing one fresh PostgreSQL database (created on
 * SESSIOND_TEST_DATABASE_URL, dropped by `close`) and one redis-server of the cluster's own.
 * Every node has the same secret and issuer, as behind a load balancer. `env` adds or overrides
 * SESSIOND_* variables on every node.
 */
export async function startCluster(
  options: {
    nodes?: number;
    env?: Record<string, string>;
    /** Per node (0, 1, ...), on top of `env`: a fault for one node only (the chaos suite). */
    nodeEnv?: (index: number) => Record<string, string>;
    /** The PostgreSQL server to create the database on; default SESSIOND_TEST_DATABASE_URL. */
    serverURL?: string;
  } = {},
): Promise<Cluster> {
  const name = `sessiond_mn_${randomBytes(6).toString('hex')}`;
  const serverURL = options.serverURL ?? testDatabaseURL();
  await queryOnce(`CREATE DATABASE ${name}`, [], serverURL);
  const databaseURL = new URL(serverURL);
  databaseURL.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: databaseURL.toString(), max: 2 });
  pool.on('error', () => {});

  const redis = new RedisProcess(await freePort());
  const nodes: ClusterNode[] = [];
  const dataDirs: string[] = [];
  let closed = false;
  const cluster: Cluster = {
    nodes,
    redis,
    databaseURL: databaseURL.toString(),
    async query(text, values) {
      return (await pool.query(text, values)).rows;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(nodes.map((node) => node.kill()));
      await redis.kill();
      await pool.end();
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
      await queryOnce(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, [], serverURL);
    },
  };

  try {
    await redis.start();
    // Nothing of the test runner's own SESSIOND_* (or NODE_OPTIONS) leaks into the nodes.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] =>
          entry[1] !== undefined && !entry[0].startsWith('SESSIOND_') && entry[0] !== 'NODE_OPTIONS',
      ),
    );
    for (let i = 0; i < (options.nodes ?? 3); i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-node-'));
      dataDirs.push(dataDir);
      const port = await freePort();
      nodes.push(
        new ClusterNode(String.fromCharCode(65 + i), port, {
          ...inherited,
          SESSIOND_HOST: '127.0.0.1',
          SESSIOND_PORT: String(port),
          SESSIOND_DATA_DIR: dataDir,
          SESSIOND_DATABASE_URL: databaseURL.toString(),
          SESSIOND_DATABASE_POOL_SIZE: '5',
          SESSIOND_REDIS_URL: redis.url,
          SESSIOND_SECRET: CLUSTER_SECRET,
          SESSIOND_ISSUER: CLUSTER_ISSUER,
          SESSIOND_RESOURCE_SERVERS: `${RESOURCE_SERVER.id}:${RESOURCE_SERVER.secret}`,
          SESSIOND_LOG_LEVEL: 'warn',
          SESSIOND_SIGNUP_LIMIT_PER_IP: '1000000',
          SESSIOND_LOGIN_LIMIT_PER_IP: '1000000',
          ...options.env,
          ...options.nodeEnv?.(i),
        }),
      );
    }
    // All at once, as a deployment rolls out: one migrates, the others wait on its lock.
    await Promise.all(nodes.map((node) => node.start()));
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}
