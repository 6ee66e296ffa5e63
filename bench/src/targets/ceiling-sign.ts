import { randomBytes } from 'node:crypto';
import type { BenchConfig } from '../config.js';
import { startPeerServer } from '../peer-server.js';
import type { TargetServer } from './target.js';

/** Row 1's ceiling: node:http + one RS256 sign per request (see src/servers/ceiling-sign.ts). */
export async function startCeilingSign(config: BenchConfig): Promise<TargetServer> {
  const server = await startPeerServer(config, 'ceiling-sign');
  // A body of the same shape and size as a sessiond refresh request; the server never looks it up.
  const body = JSON.stringify({ refresh_token: randomBytes(32).toString('base64url') });
  return {
    stop: () => server.stop(),
    targets: [
      {
        id: 'ceiling-sign',
        row: 'refresh',
        label: 'ceiling: node:http + RS256 sign',
        request: 'POST /sign',
        prepareRun: async () => ({
          url: `${server.baseURL}/sign`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        }),
      },
    ],
  };
}
