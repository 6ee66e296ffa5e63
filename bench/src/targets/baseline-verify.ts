import type { BenchConfig } from '../config.js';
import { expectJSON } from '../http-json.js';
import { mapWithLimit } from '../map-limit.js';
import { startPeerServer } from '../peer-server.js';
import { perConnectionHeaders } from '../per-connection-headers.js';
import type { TargetServer } from './target.js';

/** Row 2's baseline: node:http + one RS256 verify per request (see src/servers/baseline-verify.ts). */
export async function startBaselineVerify(config: BenchConfig): Promise<TargetServer> {
  const server = await startPeerServer(config, 'baseline-verify');
  const mintToken = async (): Promise<string> => {
    const minted = await expectJSON(`${server.baseURL}/token`, { method: 'POST' }, 200);
    return (minted.body as { access_token: string }).access_token;
  };
  return {
    stop: () => server.stop(),
    targets: [
      {
        id: 'baseline-verify',
        row: 'status',
        label: 'baseline: node:http + RS256 verify',
        request: 'GET /verify',
        prepareRun: async () => {
          // Fresh tokens per run, so a long benchmark never presents an expired one.
          const tokens = await mapWithLimit(Array.from({ length: config.connections }), 4, mintToken);
          return {
            url: `${server.baseURL}/verify`,
            method: 'GET',
            setupClient: perConnectionHeaders(tokens.map((token) => ({ authorization: `Bearer ${token}` }))),
          };
        },
      },
    ],
  };
}
