import type { FastifyCorsOptions } from '@fastify/cors';
import { CSRF_HEADER, TRANSPORT_HEADER } from './cookie-transport.js';

/**
 * CORS for the browser origins in SESSIOND_CORS_ORIGINS, exactly those: with credentials, so the
 * cookie transport works from another origin, and with the headers our clients send. Any other
 * origin gets no CORS header at all (its preflight is a 404), so browsers keep it out. Without
 * any configured origin this is not registered and browsers stay same-origin.
 */
export function corsOptions(origins: readonly string[]): FastifyCorsOptions {
  const allowed: ReadonlySet<string> = new Set(origins);
  return {
    // Configured origins are normalised (config.ts), as browsers serialise the Origin header.
    origin: (origin, callback) =>
      callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    credentials: true,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', CSRF_HEADER, TRANSPORT_HEADER],
    // Readable by the page: how long to back off, and which bearer error it was.
    exposedHeaders: ['retry-after', 'www-authenticate'],
  };
}
