import type { BenchConfig } from '../config.js';
import { cookieFrom, expectJSON } from '../http-json.js';
import { mapWithLimit } from '../map-limit.js';
import { installedVersion } from '../package-version.js';
import { startPeerServer } from '../peer-server.js';
import { perConnectionHeaders } from '../per-connection-headers.js';
import type { TargetServer } from './target.js';

/** Row 2's express-session peer: GET /session with login cookies (see src/servers/express-session.ts). */
export async function startExpressSession(config: BenchConfig): Promise<TargetServer> {
  const server = await startPeerServer(config, 'express-session');
  // One login, hence one stored session, per connection.
  const cookies = await mapWithLimit(Array.from({ length: config.connections }), 4, async () => {
    const login = await expectJSON(`${server.baseURL}/login`, { method: 'POST' }, 200);
    return cookieFrom(login.headers, 'sid');
  });
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
          setupClient: perConnectionHeaders(cookies.map((cookie) => ({ cookie }))),
        }),
      },
    ],
  };
}
