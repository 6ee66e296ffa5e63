import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AuthorizeOptions, authorize } from './authorize.js';
import type { CustomClaims, VerifiedClaims, Verifier } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Claims of the verified sessiond access token (custom claims typed by the app where it reads them). */
    sessiond: VerifiedClaims<CustomClaims>;
  }
}

/**
 * Fastify plugin: every route in the scope it is registered in requires a valid, unrevoked
 * sessiond access token (401) whose claims hold what `claims` requires (403 `forbidden`);
 * `request.sessiond` holds its claims.
 *
 *   await app.register(sessiondAuth, { verifier });
 *   await app.register(sessiondAuth, { verifier, claims: { roles: 'admin' } });
 */
export async function sessiondAuth(
  app: FastifyInstance,
  options: { verifier: Verifier<CustomClaims> } & AuthorizeOptions,
): Promise<void> {
  if (!app.hasRequestDecorator('sessiond'))
    app.decorateRequest('sessiond', null as unknown as VerifiedClaims);
  const required = options.claims === undefined ? {} : { claims: options.claims };
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await authorize(options.verifier, request.headers.authorization, required);
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
