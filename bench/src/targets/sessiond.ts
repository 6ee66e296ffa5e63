import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { startChildServer } from '../child-server.js';
import type { BenchConfig } from '../config.js';
import { findFreePort } from '../free-port.js';
import { mapWithLimit } from '../map-limit.js';
import { perConnectionHeaders } from '../per-connection-headers.js';
import { createTempDir } from '../temp-dir.js';
import { describeHashParams, passwordHashParams } from './password-hash-params.js';
import { createRefreshChains } from './refresh-chains.js';
import { type Credentials, createSession, refreshSession, signUp, type Tokens } from './sessiond-api.js';
import type { TargetServer } from './target.js';

const REFRESH_PATH = '/api/auth/session/refresh';
// Set-up logins run argon2id; a few at a time keeps them from timing out on one core.
const SETUP_CONCURRENCY = 4;

/** Starts the built sessiond on a fresh SQLite data dir and serves rows 1, 2 and 3. */
export async function startSessiond(config: BenchConfig): Promise<TargetServer> {
  if (!existsSync(config.sessiondMain)) {
    throw new Error(`${config.sessiondMain} does not exist: run \`npm run build\` at the repository root`);
  }
  const port = await findFreePort();
  const server = await startChildServer({
    name: 'sessiond',
    command: process.execPath,
    args: [config.sessiondMain, 'start'],
    env: {
      SESSIOND_HOST: '127.0.0.1',
      SESSIOND_PORT: String(port),
      SESSIOND_DATA_DIR: createTempDir('sessiond'),
      SESSIOND_SECRET: randomBytes(32).toString('hex'),
      SESSIOND_LOG_LEVEL: 'warn',
      // 50 connections from one IP, one account: the default limits would answer 429.
      SESSIOND_LOGIN_LIMIT_PER_IP: '1000000',
      SESSIOND_LOGIN_LIMIT_PER_ACCOUNT: '1000000',
      NODE_ENV: 'production',
    },
    cwd: config.benchDir,
    baseURL: `http://127.0.0.1:${port}`,
    startTimeoutMs: 60_000,
  });
  const baseURL = server.baseURL;
  try {
    // One account per workload, so the create load cannot touch (cap, throttle, revoke) the
    // sessions the refresh and status runs use.
    const accounts = {
      refresh: { email: 'refresh@bench.test', password: 'correct horse battery' },
      status: { email: 'status@bench.test', password: 'correct horse battery' },
      create: { email: 'create@bench.test', password: 'correct horse battery' },
    } satisfies Record<string, Credentials>;
    for (const credentials of Object.values(accounts)) await signUp(baseURL, credentials);
    const newSessions = (credentials: Credentials): Promise<Tokens[]> =>
      mapWithLimit(Array.from({ length: config.connections }), SETUP_CONCURRENCY, () =>
        createSession(baseURL, credentials),
      );
    // Row 2: one session per connection, refreshed before each run so no access token expires.
    let statusSessions = await newSessions(accounts.status);
    const hashParams = describeHashParams(passwordHashParams());

    return {
      stop: () => server.stop(),
      targets: [
        {
          id: 'sessiond-refresh',
          row: 'refresh',
          label: 'sessiond',
          request: `POST ${REFRESH_PATH}`,
          prepareRun: async () => {
            // A run ends with requests in flight whose answers (the next tokens) are lost, so
            // every run starts from fresh sessions: one per connection.
            const sessions = await newSessions(accounts.refresh);
            const chains = createRefreshChains(
              REFRESH_PATH,
              sessions.map((tokens) => tokens.refresh_token),
            );
            return { url: `${baseURL}${REFRESH_PATH}`, method: 'POST', setupClient: chains.setupClient };
          },
        },
        {
          id: 'sessiond-status',
          row: 'status',
          label: 'sessiond',
          request: 'GET /api/auth/session/status',
          prepareRun: async () => {
            statusSessions = await mapWithLimit(statusSessions, SETUP_CONCURRENCY, (tokens) =>
              refreshSession(baseURL, tokens.refresh_token),
            );
            const headers = statusSessions.map((tokens) => ({
              authorization: `Bearer ${tokens.access_token}`,
            }));
            return {
              url: `${baseURL}/api/auth/session/status`,
              method: 'GET',
              setupClient: perConnectionHeaders(headers),
            };
          },
        },
        {
          id: 'sessiond-create',
          row: 'create',
          label: `sessiond (${hashParams})`,
          request: 'POST /api/auth/session/create',
          prepareRun: async () => ({
            url: `${baseURL}/api/auth/session/create`,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...accounts.create, device: { name: 'autocannon', platform: 'bench' } }),
          }),
        },
      ],
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
