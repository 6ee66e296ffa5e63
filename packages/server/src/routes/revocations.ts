import type { FastifyInstance } from 'fastify';
import { SessiondError } from '../errors.js';
import { authenticateBasicClient } from '../oauth/resource-server-auth.js';

/** The revocation feed for resource servers (what @sessiond/verify subscribes to). */
export async function revocationRoutes(app: FastifyInstance): Promise<void> {
  const { revocations, config } = app.sessiond;

  app.get('/api/revocations/stream', async (request, reply) => {
    if (!authenticateBasicClient(request.headers.authorization, config.resourceServers)) {
      reply.header('www-authenticate', 'Basic realm="sessiond"');
      throw new SessiondError(
        'invalid_client',
        'the revocation stream needs a registered resource server (HTTP Basic)',
      );
    }
    const lastEventId = request.headers['last-event-id'];
    reply.hijack();
    await revocations.serve(reply.raw, typeof lastEventId === 'string' ? lastEventId : undefined);
  });
}
