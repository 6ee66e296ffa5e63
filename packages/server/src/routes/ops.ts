import type { FastifyInstance } from 'fastify';

/** Liveness, readiness, metrics and the public key set. */
export async function opsRoutes(app: FastifyInstance): Promise<void> {
  const { keys, store, metrics } = app.sessiond;

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      await store.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ error: 'service_unavailable', message: 'storage is not reachable' });
    }
  });

  app.get('/.well-known/jwks.json', async (_request, reply) => {
    // Short cache: verifiers refetch on an unknown kid anyway, and a rotated key must appear soon.
    reply.header('cache-control', 'public, max-age=300');
    return keys.jwks();
  });
}
