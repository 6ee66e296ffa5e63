import type { BenchConfig } from '../config.js';
import { expectJSON } from '../http-json.js';
import { startPeerServer } from '../peer-server.js';
import type { TargetServer } from './target.js';

/** Row 2's baseline: node:http + one RS256 verify per request (see src/servers/baseline-verify.ts). */
export async function startBaselineVerify(config: BenchConfig): Promise<TargetServer> {
  const server = await startPeerServer(config, 'baseline-verify');
  return {
    stop: () => server.stop(),
    targets: [
      {
        id: 'baseline-verify',
        row: 'status',
        label: 'baseline: node:http + RS256 verify',
        request: 'GET /verify',
        prepareRun: async () => {
          // A fresh token per run, so a long benchmark never presents an expired one.
          const minted = await expectJSON(`${server.baseURL}/token`, { method: 'POST' }, 200);
          const token = (minted.body as { access_token: string }).access_token;
          return {
            url: `${server.baseURL}/verify`,
            method: 'GET',
            headers: { authorization: `Bearer ${token}` },
          };
        },
      },
    ],
  };
}
