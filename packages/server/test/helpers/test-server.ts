import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { createTestSchema, suiteOnPostgres, type TestSchema } from './postgres.js';
import { TestClock } from './test-clock.js';

export const RESOURCE_SERVER = { id: 'api', secret: 'api-secret-0123456789' } as const;

/** A loopback port free right now (to listen on, or to know nothing listens there). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export const TEST_SECRET = 'test-master-secret-0123456789abcdef0123456789abcdef';

export interface TestServer {
  url: string;
  app: FastifyInstance;
  clock: TestClock;
  dataDir: string;
  /** The variables that point a `sessiond` command (CLI) at this server's database and secret. */
  cliEnv: Record<string, string>;
  /** Every byte the server has stored, as text: to prove a secret is not kept in the clear. */
  storedText(): Promise<string>;
  /** Stops the server and starts a new one on the same data dir (same SQLite file and secret). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real sessiond on a real SQLite file in a fresh temp dir, listening on a loopback port; in
 * the PostgreSQL pass of the suite (SESSIOND_TEST_STORE=postgres), on a fresh schema of the test
 * PostgreSQL instead. `env` overrides SESSIOND_* variables.
 */
export async function startTestServer(
  options: {
    env?: Record<string, string>;
    clock?: TestClock;
    logDestination?: NodeJS.WritableStream;
    /**
     * Listen on a port chosen up front and make the issuer that very URL, as OAuth discovery
     * (RFC 8414 §3.3) requires; restarts keep the port, so clients can reconnect.
     */
    issuerIsURL?: boolean;
    /** Extra routes on the same origin (browser tests serve their page this way). */
    routes?: (app: FastifyInstance) => void;
    /** Wraps the store the app uses (fault injection, delays). */
    wrapStore?: (store: SessionStore) => SessionStore;
  } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-test-'));
  const clock = options.clock ?? new TestClock();
  const port = options.issuerIsURL ? await freePort() : 0;
  const schema: TestSchema | undefined = suiteOnPostgres() ? await createTestSchema() : undefined;
  const cliEnv: Record<string, string> = {
    SESSIOND_DATA_DIR: dataDir,
    SESSIOND_SECRET: TEST_SECRET,
    // The server's own issuer: with a database URL, every sessiond (the CLI too) must name one.
    SESSIOND_ISSUER:
      options.env?.SESSIOND_ISSUER ??
      (options.issuerIsURL ? `http://127.0.0.1:${port}` : 'http://sessiond.test'),
    ...(schema ? { SESSIOND_DATABASE_URL: schema.url, SESSIOND_DATABASE_POOL_SIZE: '4' } : {}),
  };
  const config = loadConfig({
    ...cliEnv,
    SESSIOND_PORT: '0',
    SESSIOND_LOG_LEVEL: 'silent',
    SESSIOND_RESOURCE_SERVERS: 'api:api-secret-0123456789',
    // Suites sign up many users from 127.0.0.1; accounts.test.ts checks the limit itself.
    SESSIOND_SIGNUP_LIMIT_PER_IP: '100000',
    ...options.env,
  });
  const listen = async (): Promise<{ app: FastifyInstance; url: string }> => {
    const app = await buildApp({
      config,
      clock,
      ...(options.wrapStore ? { wrapStore: options.wrapStore } : {}),
      ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    });
    options.routes?.(app);
    const url = await app.listen({ host: '127.0.0.1', port });
    return { app, url };
  };
  let current = await listen();
  const server: TestServer = {
    get url() {
      return current.url;
    },
    get app() {
      return current.app;
    },
    clock,
    dataDir,
    cliEnv,
    async storedText() {
      if (schema) {
        const tables = await schema.query<{ name: string }>(
          'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1',
          [schema.name],
        );
        const rows = await Promise.all(
          tables.map(({ name }) => schema.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`)),
        );
        return rows
          .flat()
          .map(({ row }) => row)
          .join('\n');
      }
      return readdirSync(dataDir)
        .filter((file) => file.startsWith('sessiond.db'))
        .map((file) => readFileSync(join(dataDir, file)).toString('latin1'))
        .join('');
    },
    async restart() {
      await current.app.close();
      current = await listen();
    },
    async close() {
      await current.app.close();
      rmSync(dataDir, { recursive: true, force: true });
      await schema?.drop();
    },
  };
  return server;
}
