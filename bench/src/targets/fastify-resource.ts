import type { ChildServer } from '../child-server.js';
import type { BenchConfig } from '../config.js';
import { expectJSON } from '../http-json.js';
import { installedVersion } from '../package-version.js';
import { startPeerServer } from '../peer-server.js';
import { perConnectionHeaders } from '../per-connection-headers.js';
import { type Issuer, issuerEnv } from './issuer.js';
import type { Tokens } from './sessiond-api.js';
import type { TargetServer } from './target.js';

const PATH = '/hello';

/**
 * Row 5: the same Fastify server with and without @sessiond/verify's `sessiondAuth` (see
 * src/servers/fastify-resource.ts). The authed one gets one sessiond session per connection.
 */
export async function startFastifyResource(config: BenchConfig, issuer: Issuer): Promise<TargetServer> {
  const started: ChildServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((server) => server.stop()));
  };
  try {
    const authed = await startPeerServer(config, 'fastify-sessiond-auth', {
      script: 'fastify-resource',
      env: { AUTH: 'on', ...issuerEnv(issuer) },
    });
    started.push(authed);
    const plain = await startPeerServer(config, 'fastify-no-auth', {
      script: 'fastify-resource',
      env: { AUTH: 'off' },
    });
    started.push(plain);
    let sessions: Tokens[] = await issuer.newSessions(config.connections);
    // The plugin must really be in the way: no token is refused, a sessiond token is accepted.
    await expectJSON(`${authed.baseURL}${PATH}`, { method: 'GET' }, 401);
    const bearer = (tokens: Tokens) => ({ authorization: `Bearer ${tokens.access_token}` });
    await expectJSON(`${authed.baseURL}${PATH}`, { method: 'GET', headers: bearer(sessions[0]!) }, 200);
    const version = installedVersion('fastify', config.benchDir);
    return {
      stop,
      targets: [
        {
          id: 'fastify-sessiond-auth',
          row: 'resource',
          label: `Fastify ${version} + sessiondAuth (@sessiond/verify)`,
          request: `GET ${PATH} (Bearer)`,
          prepareRun: async () => {
            // Refreshed before every run, so no access token expires during a long benchmark.
            sessions = await issuer.refresh(sessions);
            return {
              url: `${authed.baseURL}${PATH}`,
              method: 'GET',
              setupClient: perConnectionHeaders(sessions.map(bearer)),
            };
          },
        },
        {
          id: 'fastify-no-auth',
          row: 'resource',
          label: `Fastify ${version}, no auth`,
          request: `GET ${PATH}`,
          prepareRun: async () => ({ url: `${plain.baseURL}${PATH}`, method: 'GET' }),
        },
      ],
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
