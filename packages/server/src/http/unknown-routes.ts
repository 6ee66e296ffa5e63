import type { FastifyInstance } from 'fastify';
import { SessiondError } from '../errors.js';

/** OPTIONS stays with CORS: a preflight carries no credentials. */
const ROUTED_METHODS = ['DELETE', 'GET', 'PATCH', 'POST', 'PUT'];

/**
 * Every other path and method of a credentialed scope (`/api/admin`, `/api/backend`) answers
 * 404 from inside the scope, so the scope's credential check runs first: without credentials an
 * unknown route answers exactly as a known one does, and routes cannot be probed.
 */
export function routeUnknownPathsThroughScope(scope: FastifyInstance): void {
  for (const url of ['', '/*']) {
    scope.route({
      method: ROUTED_METHODS,
      url,
      handler: async (request) => {
        throw new SessiondError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
      },
    });
  }
}
