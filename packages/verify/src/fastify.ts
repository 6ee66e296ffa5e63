import type { AccessTokenClaims } from '@sessiond/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorize } from './authorize.js';
import type { Verifier } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Claims of the verified sessiond access token. */
    sessiond: AccessTokenClaims;
  }
}

/**
 * Fastify plugin: every route in the scope it is registered in requires a valid, unrevoked
 * sessiond access token; `request.sessiond` holds its claims.
 *
 *   await app.register(sessiondAuth, { verifier });
 */
export async function sessiondAuth(app: FastifyInstance, options: { verifier: Verifier }): Promise<void> {
  app.decorateRequest('sessiond', null as unknown as AccessTokenClaims);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await authorize(options.verifier, request.headers.authorization);
    if (result.ok) {
      request.sessiond = result.claims;
      return;
    }
    reply.code(result.status).header('www-authenticate', result.challenge).send(result.body);
    return reply;
  });
}

// Like fastify-plugin: the hook applies to the scope that registers the plugin, not a child.
Object.assign(sessiondAuth, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@sessiond/verify',
});
