import type { BenchConfig } from '../config.js';
import { cookieFrom, expectJSON } from '../http-json.js';
import { installedVersion } from '../package-version.js';
import { startPeerServer } from '../peer-server.js';
import type { TargetServer } from './target.js';

/** Row 2's express-session peer: GET /session with the login cookie (see src/servers/express-session.ts). */
export async function startExpressSession(config: BenchConfig): Promise<TargetServer> {
  const server = await startPeerServer(config, 'express-session');
  const login = await expectJSON(`${server.baseURL}/login`, { method: 'POST' }, 200);
  const cookie = cookieFrom(login.headers, 'sid');
  const version = installedVersion('express-session', config.benchDir);
  return {
    stop: () => server.stop(),
    targets: [
      {
        id: 'express-session-get',
        row: 'status',
        label: `express-session ${version} + better-sqlite3 (WAL)`,
        request: 'GET /session',
        prepareRun: async () => ({
          url: `${server.baseURL}/session`,
          method: 'GET',
          headers: { cookie },
        }),
      },
    ],
  };
}
