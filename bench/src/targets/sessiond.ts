import { randomBytes } from 'node:crypto';
import type { BenchConfig } from '../config.js';
import { findFreePort } from '../free-port.js';
import { mapWithLimit } from '../map-limit.js';
import { perConnectionHeaders } from '../per-connection-headers.js';
import { type BenchBackend, backendSessionsTarget, basicAuthorization } from './backend-sessions.js';
import type { Issuer } from './issuer.js';
import { describeHashParams, passwordHashParams } from './password-hash-params.js';
import { createRefreshChains } from './refresh-chains.js';
import {
  type Credentials,
  createBackendSession,
  createSession,
  refreshSession,
  signUp,
  type Tokens,
} from './sessiond-api.js';
import { startSessiondChild } from './sessiond-child.js';
import type { TargetServer } from './target.js';

const REFRESH_PATH = '/api/auth/session/refresh';
// Set-up logins run argon2id; a few at a time keeps them from timing out on one core.
const SETUP_CONCURRENCY = 4;
// The resource server of rows 4 and 5 (SESSIOND_RESOURCE_SERVERS), and sessiond's default audience.
const RESOURCE_SERVER_ID = 'bench';
const AUDIENCE = 'sessiond';

/** sessiond and the handle rows 4 and 5 use to verify its tokens. */
export interface SessiondServer extends TargetServer {
  issuer: Issuer;
}

/** Starts the built sessiond on a fresh SQLite data dir: rows 1 to 3b, and the issuer of rows 4 and 5. */
export async function startSessiond(config: BenchConfig): Promise<SessiondServer> {
  const port = await findFreePort();
  const issuerURL = `http://127.0.0.1:${port}`;
  const resourceSecret = randomBytes(24).toString('hex');
  // Row 3b's backend (SESSIOND_BACKENDS wants a secret of at least 32 characters: this is 48).
  const backend: BenchBackend = { id: 'bench-backend', secret: randomBytes(24).toString('hex') };
  const server = await startSessiondChild(config, {
    name: 'sessiond',
    port,
    env: {
      // 50 connections from one IP, one account: the default limits would answer 429.
      SESSIOND_LOGIN_LIMIT_PER_IP: '1000000',
      SESSIOND_LOGIN_LIMIT_PER_ACCOUNT: '1000000',
      // Rows 4 and 5: a verifier checks `iss` against the URL it fetches keys from, and follows
      // the revocation stream with these credentials.
      SESSIOND_ISSUER: issuerURL,
      SESSIOND_RESOURCE_SERVERS: `${RESOURCE_SERVER_ID}:${resourceSecret}`,
      // Row 3b. The backend route has no sign-in limit of its own to raise: the backend's
      // secret is the check, and no password is tried.
      SESSIOND_BACKENDS: `${backend.id}:${backend.secret}`,
    },
  });
  const baseURL = server.baseURL;
  try {
    // One account per workload, so the create load cannot touch (cap, throttle, revoke) the
    // sessions the refresh, status and resource-server runs use.
    const accounts = {
      refresh: { email: 'refresh@bench.test', password: 'correct horse battery' },
      status: { email: 'status@bench.test', password: 'correct horse battery' },
      create: { email: 'create@bench.test', password: 'correct horse battery' },
      resource: { email: 'resource@bench.test', password: 'correct horse battery' },
    } satisfies Record<string, Credentials>;
    for (const credentials of Object.values(accounts)) await signUp(baseURL, credentials);
    const newSessions = (credentials: Credentials, count = config.connections): Promise<Tokens[]> =>
      mapWithLimit(Array.from({ length: count }), SETUP_CONCURRENCY, () =>
        createSession(baseURL, credentials),
      );
    const refreshAll = (sessions: readonly Tokens[]): Promise<Tokens[]> =>
      mapWithLimit(sessions, SETUP_CONCURRENCY, (tokens) => refreshSession(baseURL, tokens.refresh_token));
    // Row 2: one session per connection, refreshed before each run so no access token expires.
    let statusSessions = await newSessions(accounts.status);
    // Row 3b: fail here, with sessiond's answer, if the backend is refused (an id of its own, so
    // the row's connections still provision theirs in the warm-up).
    await createBackendSession(baseURL, basicAuthorization(backend), 'bench-setup-check');
    const hashParams = describeHashParams(passwordHashParams());

    return {
      stop: () => server.stop(),
      issuer: {
        url: issuerURL,
        audience: AUDIENCE,
        clientId: RESOURCE_SERVER_ID,
        clientSecret: resourceSecret,
        newSessions: (count) => newSessions(accounts.resource, count),
        refresh: refreshAll,
      },
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
            statusSessions = await refreshAll(statusSessions);
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
        backendSessionsTarget({ baseURL, backend, connections: config.connections }),
      ],
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
