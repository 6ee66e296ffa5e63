import type { FastifyRequest } from 'fastify';
import { SessiondError } from '../errors.js';
import type { Authenticated, Authenticator } from '../sessions/authenticator.js';
import type { RequestContext } from './request-context.js';

const BEARER = /^Bearer[ ]+([^\s]+)\s*$/i;

/** The bearer token of a request (RFC 6750 §2.1); tokens in query strings are never read. */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw new SessiondError('token_missing', 'an access token is required');
  const match = BEARER.exec(header);
  if (!match?.[1]) throw new SessiondError('token_invalid', 'authorization header is not a bearer token');
  return match[1];
}

export function authenticateRequest(
  authenticator: Authenticator,
  request: FastifyRequest,
): Promise<Authenticated> {
  return authenticator.authenticate(bearerToken(request));
}

export function requestContext(request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: userAgent ? userAgent.slice(0, 512) : null };
}
