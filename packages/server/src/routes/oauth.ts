import type { FastifyError, FastifyInstance } from 'fastify';
import { SessiondError } from '../errors.js';
import { requestContext } from '../http/authenticate.js';
import { sendError } from '../http/error-handler.js';
import { formParameters, parseFormBody, required } from '../oauth/form.js';
import { OAuthError } from '../oauth/oauth-error.js';
import { authenticateBasicClient } from '../oauth/resource-server-auth.js';

/**
 * The OAuth 2.0 endpoints, each as its RFC writes it: form-encoded requests, RFC 6749 §5.2
 * errors, `Cache-Control: no-store`. Encapsulated: the form parser and the OAuth error shape
 * apply to these routes only.
 */
export async function oauthRoutes(app: FastifyInstance): Promise<void> {
  const { oauth, config } = app.sessiond;

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    (_request, body, done) => {
      try {
        done(null, parseFormBody(body as Buffer));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof OAuthError) {
      if (error.code === 'invalid_client' && request.headers.authorization) {
        reply.header('www-authenticate', 'Basic realm="sessiond"');
      }
      return reply.code(error.status).send({ error: error.code, error_description: error.message });
    }
    if (error instanceof SessiondError) return sendError(reply, error);
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(400).send({ error: 'invalid_request', error_description: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: 'server_error', error_description: 'internal error' });
  });

  app.get('/.well-known/oauth-authorization-server', async () => ({
    issuer: config.issuer,
    token_endpoint: `${config.issuer}/oauth/token`,
    revocation_endpoint: `${config.issuer}/oauth/revoke`,
    introspection_endpoint: `${config.issuer}/oauth/introspect`,
    jwks_uri: `${config.issuer}/.well-known/jwks.json`,
    grant_types_supported: ['refresh_token'],
    // Sessions start at POST /api/auth/session/create, not at an authorization endpoint.
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    sessiond_revocation_stream_endpoint: `${config.issuer}/api/revocations/stream`,
  }));

  app.post('/oauth/token', async (request) => {
    const parameters = formParameters(request.body);
    const grantType = required(parameters, 'grant_type');
    const clientId = oauth.requireClient(parameters.get('client_id'));
    if (grantType !== 'refresh_token') {
      throw new OAuthError('unsupported_grant_type', 'only the refresh_token grant is supported');
    }
    const scope = parameters.get('scope');
    const grant = await oauth.refreshGrant(
      {
        clientId,
        refreshToken: required(parameters, 'refresh_token'),
        ...(scope !== undefined ? { scope } : {}),
      },
      requestContext(request),
    );
    return {
      access_token: grant.access.token,
      token_type: 'Bearer',
      expires_in: grant.access.expiresIn,
      refresh_token: grant.refreshToken,
    };
  });

  app.post('/oauth/revoke', async (request, reply) => {
    const parameters = formParameters(request.body);
    const clientId = oauth.requireClient(parameters.get('client_id'));
    const hint = parameters.get('token_type_hint');
    await oauth.revoke(
      { clientId, token: required(parameters, 'token'), ...(hint !== undefined ? { hint } : {}) },
      requestContext(request),
    );
    return reply.code(200).send();
  });

  app.post('/oauth/introspect', async (request) => {
    if (!authenticateBasicClient(request.headers.authorization, config.resourceServers)) {
      throw new OAuthError('invalid_client', 'introspection needs a registered resource server (HTTP Basic)');
    }
    const parameters = formParameters(request.body);
    const hint = parameters.get('token_type_hint');
    return oauth.introspect({
      token: required(parameters, 'token'),
      ...(hint !== undefined ? { hint } : {}),
    });
  });
}
