import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ADMIN_UI_HEADERS } from '../admin-ui/admin-ui-headers.js';
import { ADMIN_JS } from '../admin-ui/admin-ui-script.js';
import { type AdminUIVisit, CSRF_HEADER } from '../admin-ui/admin-ui-session.js';
import { ADMIN_CSS } from '../admin-ui/admin-ui-styles.js';
import { ADMIN_ASSET_PATH, adminDashboardView, adminSignInView } from '../admin-ui/admin-ui-views.js';
import { SessiondError } from '../errors.js';
import { adminLogView, adminSessionView } from '../http/admin-views.js';
import { requestContext } from '../http/authenticate.js';
import type { SafeHTML } from '../http/html.js';
import { NoFields, parseInput } from '../http/parse.js';
import { routeUnknownPathsThroughScope } from '../http/unknown-routes.js';
import { deviceView } from '../http/views.js';
import { acceptFormBodies } from '../oauth/form.js';
import {
  DaysQuery,
  DevicesQuery,
  IdParams,
  IPsQuery,
  LogsQuery,
  RangeQuery,
  SessionsQuery,
  TopQuery,
} from './admin.js';

const SignInForm = z.strictObject({ key: z.string().max(1024).default('') });
const SignOutForm = z.strictObject({ csrf: z.string().max(128).optional() });
const LookupQuery = z.strictObject({ q: z.string().min(1).max(320) });

/** The visit each /admin/api request was authenticated as. */
const visits = new WeakMap<FastifyRequest, AdminUIVisit>();

function page(reply: FastifyReply, status: number, view: SafeHTML): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(view.text);
}

function formOf(body: unknown): Record<string, string> {
  if (!(body instanceof URLSearchParams)) {
    throw new SessiondError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  return Object.fromEntries(body);
}

/**
 * The admin dashboard (decision 031): GET /admin (the admin key form, or the dashboard once
 * signed in), its two assets, the sign-in and sign-out forms, and /admin/api/...: the admin
 * services behind the dashboard's cookie and CSRF token (the key-authenticated /api/admin stays
 * as it is). Encapsulated: the form parser and the headers apply here only.
 */
export async function adminUIRoutes(app: FastifyInstance): Promise<void> {
  const { adminUI, admin, clock } = app.sessiond;
  const { session } = adminUI;

  acceptFormBodies(app, (message) => new SessiondError('invalid_request', message));
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of Object.entries(ADMIN_UI_HEADERS)) reply.header(name, value);
    done(null, payload);
  });
  app.addHook('preClose', async () => adminUI.health.closeAll());

  app.get('/admin', async (request, reply) => {
    parseInput(NoFields, request.query, 'query');
    const visit = await session.visit(request);
    if (visit === undefined) return page(reply, 200, adminSignInView({}));
    return page(reply, 200, adminDashboardView({ csrf: visit.csrfToken, keyId: visit.identity.keyId }));
  });

  app.get(`${ADMIN_ASSET_PATH}/admin.css`, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(ADMIN_CSS),
  );
  app.get(`${ADMIN_ASSET_PATH}/admin.js`, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(ADMIN_JS),
  );

  app.post('/admin/sign-in', async (request, reply) => {
    session.checkSameOrigin(request);
    const { key } = parseInput(SignInForm, formOf(request.body));
    try {
      const identity = await session.signIn(reply, key.trim());
      request.log.info({ admin_key: identity.keyId }, 'admin dashboard sign-in');
    } catch (error) {
      if (!(error instanceof SessiondError) || error.code !== 'admin_key_invalid') throw error;
      request.log.info('admin dashboard sign-in refused');
      return page(reply, 401, adminSignInView({ error: 'That is not a valid admin API key.' }));
    }
    return reply.redirect('/admin', 303);
  });

  app.post('/admin/sign-out', async (request, reply) => {
    const { csrf } = parseInput(SignOutForm, formOf(request.body));
    session.checkCSRF(request, await session.visit(request), csrf);
    session.signOut(reply);
    return page(reply, 200, adminSignInView({ signedOut: true }));
  });

  await app.register(
    async (api) => {
      api.addHook('onRequest', async (request) => {
        const visit = await session.require(request);
        if (request.method !== 'GET' && request.method !== 'HEAD') {
          const token = request.headers[CSRF_HEADER];
          session.checkCSRF(request, visit, typeof token === 'string' ? token : undefined);
        }
        visits.set(request, visit);
      });

      api.get('/users/lookup', async (request) => {
        const { q } = parseInput(LookupQuery, request.query, 'query');
        return { users: await adminUI.users.find(q) };
      });

      api.get('/users/:id/sessions', async (request) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        const page = await admin.service.listSessions(id, parseInput(SessionsQuery, request.query, 'query'));
        const now = clock.now();
        return { sessions: page.items.map((s) => adminSessionView(s, now)), next_cursor: page.nextCursor };
      });

      api.get('/users/:id/devices', async (request) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        const page = await admin.service.listDevices(id, parseInput(DevicesQuery, request.query, 'query'));
        return { devices: page.items.map(deviceView), next_cursor: page.nextCursor };
      });

      api.post('/sessions/:id/revoke', async (request) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        parseInput(NoFields, request.body ?? {});
        const revoked = await admin.service.revokeSession(id, requestContext(request));
        request.log.info(
          { admin_key: visits.get(request)?.identity.keyId, session_id: id, revoked },
          'admin dashboard revoke',
        );
        return { session_id: id, revoked };
      });

      api.post('/users/:id/revoke-all', async (request) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        parseInput(NoFields, request.body ?? {});
        const revoked = await admin.service.revokeAll(id, requestContext(request));
        request.log.info(
          { admin_key: visits.get(request)?.identity.keyId, user_id: id, revoked },
          'admin dashboard revoke-all',
        );
        return { user_id: id, revoked };
      });

      api.get('/logs', async (request) => {
        const { limit, cursor, user_id, ...filter } = parseInput(LogsQuery, request.query, 'query');
        const page = await admin.service.searchLogs({ ...filter, userId: user_id }, { limit, cursor });
        return { logs: page.items.map(adminLogView), next_cursor: page.nextCursor };
      });

      api.get('/analytics/logins-per-day', async (request) =>
        admin.analytics.loginsPerDay(parseInput(DaysQuery, request.query, 'query')),
      );
      api.get('/analytics/active-by-device', async (request) => {
        parseInput(NoFields, request.query, 'query');
        return admin.analytics.activeByDevice();
      });
      api.get('/analytics/session-duration', async (request) =>
        admin.analytics.sessionDuration(parseInput(RangeQuery, request.query, 'query')),
      );
      api.get('/analytics/failed-logins', async (request) =>
        admin.analytics.failedLogins(parseInput(TopQuery, request.query, 'query')),
      );
      api.get('/analytics/suspicious-ips', async (request) => {
        const { min_attempts, ...query } = parseInput(IPsQuery, request.query, 'query');
        return admin.analytics.suspiciousIPs({ ...query, minAttempts: min_attempts });
      });

      api.get('/health/stream', async (request, reply) => {
        parseInput(NoFields, request.query, 'query');
        reply.hijack();
        await adminUI.health.serve(reply.raw, { ...ADMIN_UI_HEADERS });
      });

      routeUnknownPathsThroughScope(api);
    },
    { prefix: '/admin/api' },
  );
}
