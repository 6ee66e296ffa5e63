import type { FastifyRequest } from 'fastify';
import { SessiondError } from '../errors.js';
import type { Authenticated, Authenticator } from '../sessions/authenticator.js';
import type { CookieTransport } from './cookie-transport.js';
import type { RequestContext } from './request-context.js';

const BEARER = /^Bearer[ ]+([^\s]+)\s*$/i;

/**
 * The bearer token of a request (RFC 6750 §2.1), or undefined without an `Authorization` header;
 * tokens in query strings are never read.
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = BEARER.exec(header);
  if (!match?.[1]) throw new SessiondError('token_invalid', 'authorization header is not a bearer token');
  return match[1];
}

/** An authenticated request, and the credential it was authenticated by. */
export interface AuthenticatedRequest extends Authenticated {
  readonly credential: 'bearer' | 'cookie';
}

/**
 * `Authorization: Bearer` first; without that header, the access-token cookie of the cookie
 * transport, which a state-changing request may only use with the CSRF defence.
 */
export async function authenticateRequest(
  services: { authenticator: Authenticator; transport: CookieTransport },
  request: FastifyRequest,
): Promise<AuthenticatedRequest> {
  const { authenticator, transport } = services;
  const bearer = bearerToken(request);
  if (bearer !== undefined) return { ...(await authenticator.authenticate(bearer)), credential: 'bearer' };
  const cookie = transport.cookies.accessToken(request);
  if (cookie === undefined) throw new SessiondError('token_missing', 'an access token is required');
  transport.guardCookieAuthenticated(request);
  return { ...(await authenticator.authenticate(cookie)), credential: 'cookie' };
}

/**
 * The caller's context for the services: the IP already in its stored form, and its location
 * looked up from the full address (decision 035). Nothing past this point sees the full IP.
 */
export function requestContext(request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent'];
  const { ip, location } = request.server.sessiond.clientAddresses.describe(request.ip);
  return { ip, userAgent: userAgent ? userAgent.slice(0, 512) : null, location };
}
