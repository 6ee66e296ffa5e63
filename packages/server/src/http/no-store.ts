import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

function underAPI(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path === '/api' || path.startsWith('/api/');
}

/** Whether no cache, shared or private, may keep this answer. */
function mustNotStore(request: FastifyRequest, reply: FastifyReply): boolean {
  // Everything under /api/ is per-user, or an error, or both.
  if (underAPI(request.url)) return true;
  if (reply.statusCode >= 400) return true;
  // An answer to credentials depends on them, unless the route said otherwise (the JWKS stays
  // public whoever asks; the OAuth endpoints set no-store themselves).
  const credentials = request.headers.authorization !== undefined || request.headers.cookie !== undefined;
  return credentials && !reply.hasHeader('cache-control');
}

/**
 * One hook for `Cache-Control: no-store` (RFC 9111 §5.2.2.5) rather than one per route, so a
 * new route cannot forget it: every answer under /api/, every error, every answer to a request
 * that carried credentials.
 */
export function installNoStore(app: FastifyInstance): void {
  // A callback hook: it runs on every response, and an async one costs a promise each.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (mustNotStore(request, reply)) reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
