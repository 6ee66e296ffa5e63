import type { Client } from 'autocannon';
import { runLoad } from '../autocannon-runner.js';
import type { OpsSample } from './durable-ops.js';
import { NAMESPACE } from './endpoint.js';

// Row 10's HTTP line: the same operation through sessiond's `POST /api/state/:namespace/ops`,
// with as many requests in flight as the WebSocket line has operations (one autocannon
// connection per operation in flight, spread over the same users). Same server, same storage,
// same group commit: the difference is the transport, a request and a token check per operation
// against one message on an authenticated socket.

const PATH = `/api/state/${NAMESPACE}/ops`;

/** Connection i presents access token i mod the number of tokens, and never repeats a client_op_id. */
function opsRequests(accessTokens: readonly string[], tag: string): (client: Client) => void {
  let next = 0;
  return (client: Client): void => {
    const index = next++;
    const accessToken = accessTokens[index % accessTokens.length]!;
    let counter = 0;
    client.setRequests([
      {
        method: 'POST',
        path: PATH,
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        // A repeated client_op_id is a replay that sessiond answers without writing.
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({
            client_op_id: `${tag}-${index}-${counter++}`,
            op: 'increment',
            path: ['items', 'sku-1', 'qty'],
            value: 1,
          }),
        }),
      },
    ]);
  };
}

export async function runHTTPOps(
  baseURL: string,
  accessTokens: readonly string[],
  options: { connections: number; seconds: number; tag: string },
): Promise<OpsSample> {
  const sample = await runLoad(
    { url: `${baseURL}${PATH}`, method: 'POST', setupClient: opsRequests(accessTokens, options.tag) },
    { connections: options.connections, durationSeconds: options.seconds },
  );
  return {
    opsPerSecond: sample.requestsPerSecond,
    p50Ms: sample.p50Ms,
    p99Ms: sample.p99Ms,
    errors: sample.non2xx + sample.errors,
    durationSeconds: sample.durationSeconds,
  };
}
