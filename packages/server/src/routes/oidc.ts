import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SessiondError } from '../errors.js';
import { requestContext } from '../http/authenticate.js';
import { AppClientId } from '../http/client-id.js';
import { parseInput } from '../http/parse.js';
import { tokenResponse } from '../http/views.js';
import { DeviceId } from './auth.js';

const ProviderParams = z.strictObject({ provider: z.string().max(64) });

/** RFC 7636 §4.2: BASE64URL(SHA-256(verifier)), 43 characters. */
const CodeChallenge = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'code_challenge must be an S256 challenge');

const StartQuery = z.strictObject({
  redirect: z.string().max(2048).optional(),
  client_id: AppClientId.optional(),
  /** Native apps (RFC 8252): the app's own PKCE challenge; only S256. */
  code_challenge: CodeChallenge.optional(),
  code_challenge_method: z.literal('S256', 'code_challenge_method must be S256').optional(),
  /** Native apps: echoed back to the app's redirect with the code. */
  state: z.string().max(512).optional(),
});

const ExchangeBody = z.strictObject({
  code: z.string().regex(/^oc_[A-Za-z0-9_-]{43}$/, 'code is not a sign-in code sessiond issued'),
  /** RFC 7636 §4.1: 43-128 unreserved characters. */
  code_verifier: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{43,128}$/, 'code_verifier must be 43-128 unreserved characters'),
  device: z
    .strictObject({
      id: DeviceId.optional(),
      secret: z
        .string()
        .regex(/^ds_[A-Za-z0-9_-]{43}$/, 'device secret is not one sessiond issued')
        .optional(),
      name: z.string().max(100).optional(),
      platform: z.string().max(50).optional(),
    })
    .optional(),
});

function rawQuery(request: FastifyRequest): URLSearchParams {
  const at = request.url.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : request.url.slice(at + 1));
}

/** Sign-in through an upstream OpenID provider (decision 023): start, callback, native exchange. */
export async function oidcRoutes(app: FastifyInstance): Promise<void> {
  const { oidc, oidcProviders, loginState, transport } = app.sessiond;

  app.get('/api/auth/oidc/:provider/start', async (request, reply) => {
    const { provider } = parseInput(ProviderParams, request.params);
    const query = parseInput(StartQuery, request.query);
    if (query.code_challenge_method !== undefined && query.code_challenge === undefined) {
      throw new SessiondError('invalid_request', 'code_challenge_method without code_challenge');
    }
    if (query.code_challenge !== undefined && query.code_challenge_method === undefined) {
      throw new SessiondError('invalid_request', 'code_challenge_method must be S256');
    }
    if (query.state !== undefined && query.code_challenge === undefined) {
      throw new SessiondError('invalid_request', 'state is for native sign-ins (with code_challenge)');
    }
    const { url, state } = await oidc.start({
      provider,
      redirect: query.redirect,
      clientId: query.client_id,
      ...(query.code_challenge !== undefined
        ? {
            app: {
              codeChallenge: query.code_challenge,
              ...(query.state !== undefined ? { state: query.state } : {}),
            },
          }
        : {}),
    });
    loginState.set(reply, state);
    return reply.redirect(url.href, 303);
  });

  app.get('/api/auth/oidc/:provider/callback', async (request, reply) => {
    const { provider } = parseInput(ProviderParams, request.params);
    oidcProviders.get(provider);
    const query = rawQuery(request);
    const state = loginState.read(request, { provider, state: query.get('state') ?? undefined });
    // Used once, whatever happens next.
    loginState.clear(reply);
    if (!state) {
      throw new SessiondError(
        'oidc_state_invalid',
        'this sign-in was not started in this browser, or took too long: start it again',
      );
    }
    // The browser's device cookie names its device: a returning browser is not a new device.
    const outcome = await oidc.callback(
      state,
      query,
      requestContext(request),
      transport.deviceOf(request, undefined),
    );
    if (outcome.kind === 'web') {
      transport.cookies.set(reply, outcome.grant);
      if (outcome.grant.device.secret !== undefined) {
        transport.cookies.setDeviceSecret(reply, outcome.grant.device.secret);
      }
    }
    return reply.redirect(outcome.redirect.href, 303);
  });

  app.post('/api/auth/oidc/exchange', async (request) => {
    const body = parseInput(ExchangeBody, request.body);
    const grant = await oidc.exchange(
      { code: body.code, codeVerifier: body.code_verifier, ...(body.device ? { device: body.device } : {}) },
      requestContext(request),
    );
    return tokenResponse(grant);
  });
}
