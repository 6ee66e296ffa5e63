// PEERS for row 5: a Fastify resource server with one route, GET /hello, answering a small
// JSON body. With AUTH=on the route's scope registers @sessiond/verify's `sessiondAuth`, so
// every request is verified (RS256 signature, RFC 8725 / RFC 9068 claim checks, revocation
// lookup) against the benchmark's sessiond; with AUTH=off the same server runs without it.
// The ratio of the two is what the plugin costs a real resource server.
import { createVerifier, sessiondAuth, type Verifier } from '@sessiond/verify';
import Fastify from 'fastify';
import { readIssuerEnv } from './lib/issuer-env.js';
import { readServerEnv } from './lib/server-env.js';

const HOST = '127.0.0.1';
const env = readServerEnv();
const auth = process.env.AUTH;
if (auth !== 'on' && auth !== 'off') throw new Error(`AUTH must be on or off, got ${JSON.stringify(auth)}`);

function startVerifier(): Verifier {
  const issuer = readIssuerEnv();
  return createVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    clientId: issuer.clientId,
    clientSecret: issuer.clientSecret,
    // The harness log shows these if the server never becomes healthy.
    onStatus: (status, error) => process.stderr.write(`revocation stream ${status} ${error ?? ''}\n`),
  });
}

const verifier = auth === 'on' ? startVerifier() : undefined;
// Keep-alive longer than any benchmark run so autocannon's connections are never reset mid-run.
const app = Fastify({ logger: false, keepAliveTimeout: 120_000, forceCloseConnections: true });
// Outside the authenticated scope: the harness probes readiness without a token.
app.get('/healthz', async () => 'ok');
await app.register(async (scope) => {
  if (verifier !== undefined) await scope.register(sessiondAuth, { verifier });
  scope.get('/hello', async () => ({ hello: 'world' }));
});

// Healthy only once the revocation stream is live, so no measured request meets a verifier
// that is still connecting.
await verifier?.ready();
await app.listen({ host: HOST, port: env.port });
process.stdout.write(`fastify-resource (auth ${auth}) ready on http://${HOST}:${env.port}\n`);
process.once('SIGTERM', () => {
  void Promise.all([app.close(), verifier?.close()]).finally(() => process.exit(0));
});
