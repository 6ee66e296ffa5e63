import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ADMIN_PAGE } from '../admin/admin-service.js';
import { AMR_VALUES } from '../backends/asserted-authentication.js';
import type { RegisteredBackend } from '../config.js';
import { SessiondError } from '../errors.js';
import { adminSessionView } from '../http/admin-views.js';
import { requestContext } from '../http/authenticate.js';
import { AppClientId } from '../http/client-id.js';
import { sendExport } from '../http/export-download.js';
import { NoFields, parseInput } from '../http/parse.js';
import type { RequestContext } from '../http/request-context.js';
import { routeUnknownPathsThroughScope } from '../http/unknown-routes.js';
import { iso } from '../http/views.js';
import { authenticateBasicClient } from '../oauth/resource-server-auth.js';
import type { UserRecord } from '../store/records.js';
import { DeviceBody } from './auth.js';

const Id = z.string().min(1).max(128);
const ExternalId = z.string().min(1).max(255);
const IdParams = z.strictObject({ id: Id });
const Claims = z.record(z.string().max(64), z.json());

const CreateBody = z.strictObject({
  user: z.strictObject({
    id: Id.optional(),
    external_id: ExternalId.optional(),
    email: z.string().max(254).optional(),
  }),
  device: DeviceBody.optional(),
  acr: z.enum(['aal1', 'aal2']).optional(),
  amr: z.array(z.enum(AMR_VALUES)).max(8).optional(),
  claims: Claims.optional(),
  client_id: AppClientId.optional(),
  /** The end user's address and user agent as the backend saw them (risk, devices, audit log). */
  ip: z
    .string()
    .max(64)
    .refine((value) => isIP(value) !== 0, 'must be an IPv4 or IPv6 address')
    .optional(),
  user_agent: z.string().max(512).optional(),
});
const ClaimsBody = z.strictObject({ claims: Claims.nullable() });
const UsersQuery = z.strictObject({ external_id: ExternalId });
const SessionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(ADMIN_PAGE.max).default(ADMIN_PAGE.default),
  cursor: z.string().min(1).max(256).optional(),
  state: z.enum(['live', 'all']).default('live'),
});

/** The backend each request was authenticated as. */
const callers = new WeakMap<FastifyRequest, RegisteredBackend>();

function backendOf(request: FastifyRequest): RegisteredBackend {
  const backend = callers.get(request);
  if (!backend) throw new SessiondError('invalid_client', 'no backend credentials');
  return backend;
}

/**
 * `/api/backend/...`: the app's own backends (SESSIOND_BACKENDS, HTTP Basic) open sessions for
 * users they authenticated themselves, and manage those users' sessions and custom claims
 * (decision 022). Every route passes the credential check first, before its input is parsed.
 */
export async function backendRoutes(app: FastifyInstance): Promise<void> {
  const { backends, transport, config } = app.sessiond;

  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        reply.header('cache-control', 'no-store');
        const backend = authenticateBasicClient(request.headers.authorization, config.backends);
        if (!backend) {
          reply.header('www-authenticate', 'Basic realm="sessiond"');
          throw new SessiondError(
            'invalid_client',
            'this route needs a registered backend (HTTP Basic, SESSIOND_BACKENDS)',
          );
        }
        callers.set(request, backend);
      });

      scope.post('/sessions', async (request, reply) => {
        const backend = backendOf(request);
        // No Origin or CSRF check: the caller proved a secret no browser sends by itself.
        const mode = transport.requestedTransport(request);
        const body = parseInput(CreateBody, request.body);
        const device = mode === 'cookie' ? transport.deviceOf(request, body.device) : body.device;
        const { grant } = await backends.createSession(
          backend,
          {
            user: { id: body.user.id, externalId: body.user.external_id, email: body.user.email },
            device,
            acr: body.acr,
            amr: body.amr,
            claims: body.claims,
            clientId: body.client_id,
          },
          endUserContext(request, body),
        );
        return transport.send(reply, mode, grant);
      });

      scope.get('/users', async (request) => {
        const backend = backendOf(request);
        const { external_id } = parseInput(UsersQuery, request.query, 'query');
        const user = await backends.users.findByExternalId(backend.id, external_id);
        return { user: userView(user, external_id) };
      });

      scope.get('/users/:id', async (request) => {
        const backend = backendOf(request);
        const { id } = parseInput(IdParams, request.params, 'path');
        const user = await backends.users.requireUser(id);
        return { user: userView(user, await backends.users.externalIdOf(backend.id, id)) };
      });

      scope.get('/users/:id/sessions', async (request) => {
        backendOf(request);
        const { id } = parseInput(IdParams, request.params, 'path');
        const page = await backends.listSessions(id, parseInput(SessionsQuery, request.query, 'query'));
        const now = app.sessiond.clock.now();
        return { sessions: page.items.map((s) => adminSessionView(s, now)), next_cursor: page.nextCursor };
      });

      scope.patch('/users/:id/claims', async (request) => {
        const backend = backendOf(request);
        const { id } = parseInput(IdParams, request.params, 'path');
        const { claims } = parseInput(ClaimsBody, request.body);
        const changed = await backends.setClaims(backend, id, claims, requestContext(request));
        return { user_id: id, sessions: changed.length };
      });

      scope.get('/users/:id/export', async (request, reply) => {
        const backend = backendOf(request);
        const { id } = parseInput(IdParams, request.params, 'path');
        const body = await app.sessiond.privacy.exports.exportUser(id);
        request.log.info({ backend: backend.id, user_id: id }, 'backend export');
        return sendExport(reply, id, body);
      });

      scope.delete('/users/:id', async (request) => {
        const backend = backendOf(request);
        const { id } = parseInput(IdParams, request.params, 'path');
        const { sessionsRevoked } = await app.sessiond.privacy.erasure.erase(id, {
          actor: 'backend',
          backendId: backend.id,
        });
        request.log.info({ backend: backend.id, user_id: id }, 'backend erase');
        return { user_id: id, erased: true, sessions_revoked: sessionsRevoked };
      });

      scope.post('/users/:id/revoke-all', async (request) => {
        const backend = backendOf(request);
        const { id } = parseInput(IdParams, request.params, 'path');
        parseInput(NoFields, request.body);
        const revoked = await backends.revokeAll(id, requestContext(request));
        request.log.info({ backend: backend.id, user_id: id, revoked }, 'backend revoke-all');
        return { user_id: id, revoked };
      });

      routeUnknownPathsThroughScope(scope);
    },
    { prefix: '/api/backend' },
  );
}

/** The end user's context: what the backend reports, else the backend's own connection. */
function endUserContext(
  request: FastifyRequest,
  body: { ip?: string | undefined; user_agent?: string | undefined },
): RequestContext {
  const own = requestContext(request);
  // The end user's IP the backend reports is minimised and located like a request's (decision 035).
  const reported = body.ip === undefined ? own : request.server.sessiond.clientAddresses.describe(body.ip);
  return {
    ip: reported.ip,
    location: reported.location ?? null,
    userAgent: body.user_agent ?? own.userAgent,
  };
}

function userView(user: UserRecord, externalId: string | null): Record<string, unknown> {
  return { id: user.id, email: user.email, external_id: externalId, created_at: iso(user.createdAt) };
}
