import Fastify, { type FastifyInstance } from 'fastify';
import { sessiondAuth } from '../../src/fastify.js';
import type { Verifier } from '../../src/verifier.js';

/** A resource server a user would write: one public route, protected routes in one scope. */
export async function startResourceServer(
  verifier: Verifier,
): Promise<{ url: string; app: FastifyInstance }> {
  const app = Fastify();
  app.get('/public', async () => ({ ok: true }));
  await app.register(async (scope) => {
    await scope.register(sessiondAuth, { verifier });
    scope.get('/orders', async (request) => ({ user: request.sessiond.sub, session: request.sessiond.sid }));
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, app };
}
