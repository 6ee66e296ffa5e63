import type { FastifyError, FastifyInstance } from 'fastify';
import { SessiondError } from '../errors.js';
import { noteAnsweredError } from '../http/answered-error.js';
import { requestContext } from '../http/authenticate.js';
import { sendError } from '../http/error-handler.js';
import { acceptFormBodies, formParameters, required } from '../oauth/form.js';
import { OAuthError } from '../oauth/oauth-error.js';
import { authenticateBasicClient } from '../oauth/resource-server-auth.js';
import { authenticateClient } from '../provider/client-authentication.js';
import { sessionScopes } from '../provider/id-token-issuer.js';
import { providerMetadata } from '../provider/provider-metadata.js';
import type { TokenGrant } from '../sessions/session-service.js';
import { providerRoutes } from './provider.js';

/**
 * The OAuth 2.0 endpoints, each as its RFC writes it: form-encoded requests, RFC 6749 §5.2
 * errors, `Cache-Control: no-store`. Encapsulated: the form parser and the OAuth error shape
 * apply to these routes only.
 */
export async function oauthRoutes(app: FastifyInstance): Promise<void> {
  const { oauth, config, store, authorizationCodeGrant, idTokens } = app.sessiond;

  // A body that does not decode is invalid_request, answered in RFC 6749's shape below.
  acceptFormBodies(app, (message) => new OAuthError('invalid_request', message));
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = (status: number, code: string, description: string) => {
      noteAnsweredError(request, code);
      return reply.code(status).send({ error: code, error_description: description });
    };
    if (error instanceof OAuthError) {
      if (error.code === 'invalid_client' && request.headers.authorization) {
        reply.header('www-authenticate', 'Basic realm="sessiond"');
      }
      return answer(error.status, error.code, error.message);
    }
    if (error instanceof SessiondError) return sendError(reply, error);
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return answer(400, 'invalid_request', error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return answer(500, 'server_error', 'internal error');
  });

  // RFC 8414 and OpenID Discovery serve one document (provider-metadata.ts): they cannot disagree.
  app.get('/.well-known/oauth-authorization-server', async () => providerMetadata(config));
  await app.register(providerRoutes);

  app.post('/oauth/token', async (request) => {
    const parameters = formParameters(request.body);
    const grantType = required(parameters, 'grant_type');
    const client = authenticateClient(
      { authorization: request.headers.authorization, parameters },
      config.clientRegistry,
    );
    if (grantType === 'authorization_code') {
      const { grant, nonce } = await authorizationCodeGrant.exchange(
        {
          client,
          code: required(parameters, 'code'),
          redirectURI: parameters.get('redirect_uri'),
          codeVerifier: parameters.get('code_verifier'),
        },
        requestContext(request),
      );
      return tokenResponse(grant, nonce);
    }
    if (grantType !== 'refresh_token') {
      throw new OAuthError(
        'unsupported_grant_type',
        'only the authorization_code and refresh_token grants are supported',
      );
    }
    const scope = parameters.get('scope');
    const grant = await oauth.refreshGrant(
      {
        clientId: client.id,
        refreshToken: required(parameters, 'refresh_token'),
        ...(scope !== undefined ? { scope } : {}),
      },
      requestContext(request),
    );
    return tokenResponse(grant, undefined);
  });

  /** RFC 6749 §5.1; an app session with the openid scope gets an ID token, on refresh too (OpenID Core §12.2). */
  async function tokenResponse(
    grant: TokenGrant,
    nonce: string | undefined,
  ): Promise<Record<string, unknown>> {
    const body: Record<string, unknown> = {
      access_token: grant.access.token,
      token_type: 'Bearer',
      expires_in: grant.access.expiresIn,
      refresh_token: grant.refreshToken,
    };
    const scopes = sessionScopes(grant.session);
    if (scopes.length === 0) return body;
    body.scope = scopes.join(' ');
    if (!scopes.includes('openid')) return body;
    const user = await store.findUserById(grant.session.userId);
    if (!user) throw new OAuthError('invalid_grant', 'the user of this session no longer exists');
    body.id_token = await idTokens.issue({
      session: grant.session,
      user,
      accessToken: grant.access.token,
      nonce,
    });
    return body;
  }

  app.post('/oauth/revoke', async (request, reply) => {
    const parameters = formParameters(request.body);
    const client = authenticateClient(
      { authorization: request.headers.authorization, parameters },
      config.clientRegistry,
    );
    const hint = parameters.get('token_type_hint');
    await oauth.revoke(
      { clientId: client.id, token: required(parameters, 'token'), ...(hint !== undefined ? { hint } : {}) },
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
