import type { FastifyInstance } from 'fastify';

/** Liveness, readiness, metrics and the public key set. */
export async function opsRoutes(app: FastifyInstance): Promise<void> {
  const { keys, store, metrics, bus } = app.sessiond;

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  // Storage down: not ready (503). The bus down (Redis away): still serving this node's
  // clients, so 200, but `degraded` says events and rate limits are not shared right now.
  app.get('/readyz', async (_request, reply) => {
    try {
      await store.ping();
    } catch {
      return reply.code(503).send({ error: 'service_unavailable', message: 'storage is not reachable' });
    }
    const busUp = bus.connected;
    return { status: busUp ? 'ready' : 'degraded', storage: 'up', bus: busUp ? 'up' : 'down' };
  });

  app.get('/.well-known/jwks.json', async (_request, reply) => {
    // Short cache: verifiers refetch on an unknown kid anyway, and a rotated key must appear soon.
    reply.header('cache-control', 'public, max-age=300');
    return keys.jwks();
  });
}
