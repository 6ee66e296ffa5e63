// A resource server that accepts sessiond access tokens: `node examples/resource-server.mjs`
// (after `npm run build`). Configure with SESSIOND_ISSUER, SESSIOND_CLIENT_ID,
// SESSIOND_CLIENT_SECRET (one of sessiond's SESSIOND_RESOURCE_SERVERS) and PORT.
import { createVerifier, sessiondAuth } from '@sessiond/verify';
import Fastify from 'fastify';

const verifier = createVerifier({
  issuer: process.env.SESSIOND_ISSUER ?? 'http://127.0.0.1:7420',
  audience: 'sessiond',
  clientId: process.env.SESSIOND_CLIENT_ID ?? 'orders',
  clientSecret: process.env.SESSIOND_CLIENT_SECRET ?? '',
  onStatus: (status) => console.log(`revocation stream: ${status}`),
});

const app = Fastify();
app.get('/health', async () => ({ ok: true, revocations: verifier.status() }));
await app.register(async (protectedRoutes) => {
  await protectedRoutes.register(sessiondAuth, { verifier });
  protectedRoutes.get('/orders', async (request) => ({ user: request.sessiond.sub, orders: [] }));
});

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 7430) });
console.log(`resource server listening on ${address}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await app.close();
    await verifier.close();
    process.exit(0);
  });
}
