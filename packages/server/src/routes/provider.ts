import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SessiondError } from '../errors.js';
import { bearerToken } from '../http/authenticate.js';
import { authorizationErrorPage } from '../provider/authorization-error-page.js';
import { parseAuthorizationRequest } from '../provider/authorization-request.js';
import { authorizationResponse } from '../provider/authorization-response.js';
import { sessionScopes } from '../provider/id-token-issuer.js';
import { providerMetadata } from '../provider/provider-metadata.js';
import { userInfoClaims } from '../provider/userinfo.js';

/**
 * sessiond as an OpenID provider (issue 15, decision 028): discovery, the authorization endpoint
 * and userinfo. Registered inside the OAuth routes, so it shares their form parser and no-store.
 */
export async function providerRoutes(app: FastifyInstance): Promise<void> {
  const { config, authorization, ssoCookie, authenticator, store, clock } = app.sessiond;

  app.get('/.well-known/openid-configuration', async () => providerMetadata(config));

  const authorize = async (request: FastifyRequest, reply: FastifyReply, params: URLSearchParams) => {
    const parsed = parseAuthorizationRequest(params, config.clientRegistry, clock.now());
    if (parsed.kind === 'untrusted') {
      return reply.code(400).type('text/html; charset=utf-8').send(authorizationErrorPage(parsed.message));
    }
    if (parsed.kind === 'error') {
      const location = authorizationResponse(parsed.redirectURI, config.issuer, {
        error: parsed.error,
        description: parsed.description,
        state: parsed.state,
      });
      return reply.redirect(location, 302);
    }
    const { location } = await authorization.begin(parsed.request, await ssoCookie.read(request));
    return reply.redirect(location, 302);
  };
  app.get('/oauth/authorize', async (request, reply) =>
    authorize(request, reply, new URL(request.url, 'http://sessiond').searchParams),
  );
  // OpenID Core §3.1.2.1: the authorization endpoint takes POST (form) as well as GET.
  app.post('/oauth/authorize', async (request, reply) => {
    if (!(request.body instanceof URLSearchParams)) {
      return reply
        .code(400)
        .type('text/html; charset=utf-8')
        .send(authorizationErrorPage('the request must be a form (application/x-www-form-urlencoded)'));
    }
    return authorize(request, reply, request.body);
  });

  // OpenID Core §5.3: the user of an app session's access token (RFC 6750 errors in WWW-Authenticate).
  const userinfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const refuse = (status: number, error: string | undefined, description: string) => {
      const challenge = error
        ? `Bearer realm="sessiond", error="${error}", error_description="${description}"`
        : 'Bearer realm="sessiond"';
      return reply
        .code(status)
        .header('www-authenticate', challenge)
        .send({ error: error ?? 'invalid_request', error_description: description });
    };
    let token: string | undefined;
    try {
      token = bearerToken(request);
    } catch {
      return refuse(401, 'invalid_token', 'the Authorization header is not a bearer token');
    }
    // RFC 6750 §2.2: a POST may carry the token as a form field instead; never both ways (§2).
    const bodyToken = request.method === 'POST' ? formTokenOf(request.body) : undefined;
    if (bodyToken !== undefined) {
      if (token !== undefined)
        return refuse(400, 'invalid_request', 'send the access token one way, not two');
      token = bodyToken;
    }
    // RFC 6750 §3.1: a request without credentials gets the challenge with no error code.
    if (token === undefined) return refuse(401, undefined, 'an access token is required');
    let session: Awaited<ReturnType<typeof authenticator.authenticate>>['session'];
    try {
      ({ session } = await authenticator.authenticate(token));
    } catch (error) {
      if (error instanceof SessiondError && error.status === 401) {
        return refuse(401, 'invalid_token', 'the access token is invalid, expired or revoked');
      }
      throw error;
    }
    if (!sessionScopes(session).includes('openid')) {
      return refuse(403, 'insufficient_scope', 'the session was not granted the openid scope');
    }
    const user = await store.findUserById(session.userId);
    if (!user) return refuse(401, 'invalid_token', 'the user of this token no longer exists');
    return reply.send(userInfoClaims(session, user));
  };
  app.get('/oauth/userinfo', userinfo);
  app.post('/oauth/userinfo', userinfo);
}

/** The `access_token` field of a form-encoded body (RFC 6750 §2.2), if there is one. */
function formTokenOf(body: unknown): string | undefined {
  if (!(body instanceof URLSearchParams)) return undefined;
  return body.get('access_token') || undefined;
}
