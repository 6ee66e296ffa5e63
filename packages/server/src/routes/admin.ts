import { isIP } from 'node:net';
import { LOG_ACTIONS } from '@sessiond/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TOP_N } from '../admin/admin-analytics.js';
import type { AdminIdentity } from '../admin/admin-authenticator.js';
import { ADMIN_PAGE } from '../admin/admin-service.js';
import { adminLogView, adminSessionView } from '../http/admin-views.js';
import { requestContext } from '../http/authenticate.js';
import { sendExport } from '../http/export-download.js';
import { NoFields, parseInput } from '../http/parse.js';
import { routeUnknownPathsThroughScope } from '../http/unknown-routes.js';
import { deviceView } from '../http/views.js';

/** The admin API's query schemas are shared with the dashboard's routes (routes/admin-ui.ts). */
const Id = z.string().min(1).max(128);
export const IdParams = z.strictObject({ id: Id });
const Cursor = z.string().min(1).max(256).optional();
const pageLimit = z.coerce.number().int().min(1).max(ADMIN_PAGE.max).default(ADMIN_PAGE.default);
const topLimit = z.coerce.number().int().min(1).max(TOP_N.max).default(TOP_N.default);
/** An ISO 8601 date-time with an offset, or a date (midnight UTC); epoch ms once parsed. */
const Time = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((value) => Date.parse(value));
const IP = z
  .string()
  .max(64)
  .refine((value) => isIP(value) !== 0, 'must be an IPv4 or IPv6 address');

export const SessionsQuery = z.strictObject({
  limit: pageLimit,
  cursor: Cursor,
  state: z.enum(['live', 'all']).default('all'),
});
export const DevicesQuery = z.strictObject({ limit: pageLimit, cursor: Cursor });
export const LogsQuery = z.strictObject({
  user_id: Id.optional(),
  action: z.enum(LOG_ACTIONS).optional(),
  ip: IP.optional(),
  from: Time.optional(),
  to: Time.optional(),
  limit: pageLimit,
  cursor: Cursor,
});
export const DaysQuery = z.strictObject({ from: z.iso.date().optional(), to: z.iso.date().optional() });
export const RangeQuery = z.strictObject({ from: Time.optional(), to: Time.optional() });
export const TopQuery = z.strictObject({ from: Time.optional(), to: Time.optional(), limit: topLimit });
export const IPsQuery = z.strictObject({
  from: Time.optional(),
  to: Time.optional(),
  limit: topLimit,
  min_attempts: z.coerce.number().int().min(1).max(1_000_000_000).default(1),
});

/** The key each admin request was authenticated by, for the log lines of what it changed. */
const identities = new WeakMap<FastifyRequest, AdminIdentity>();

/**
 * `/api/admin/...`: operators, authenticated by an admin API key (`Authorization: Bearer`), see
 * and revoke any user's sessions, search the audit log and read its analytics. Every route of
 * this scope passes the key check first, before its input is even parsed.
 */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  const { keys, service, analytics } = app.sessiond.admin;
  const { privacy } = app.sessiond;

  await app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request, reply) => {
        // Other users' sessions and IPs: no cache may keep them, refusals included.
        reply.header('cache-control', 'no-store');
        identities.set(request, await keys.authenticate(request.headers.authorization));
      });

      admin.get('/users/:id/sessions', async (request) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        const query = parseInput(SessionsQuery, request.query, 'query');
        const page = await service.listSessions(id, query);
        const now = app.sessiond.clock.now();
        return { sessions: page.items.map((s) => adminSessionView(s, now)), next_cursor: page.nextCursor };
      });

      admin.get('/users/:id/devices', async (request) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        const page = await service.listDevices(id, parseInput(DevicesQuery, request.query, 'query'));
        return { devices: page.items.map(deviceView), next_cursor: page.nextCursor };
      });

      admin.post('/sessions/:id/revoke', async (request) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        parseInput(NoFields, request.body);
        const revoked = await service.revokeSession(id, requestContext(request));
        request.log.info(
          { admin_key: identities.get(request)?.keyId, session_id: id, revoked },
          'admin revoke',
        );
        return { session_id: id, revoked };
      });

      admin.post('/users/:id/revoke-all', async (request) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        parseInput(NoFields, request.body);
        const revoked = await service.revokeAll(id, requestContext(request));
        request.log.info(
          { admin_key: identities.get(request)?.keyId, user_id: id, revoked },
          'admin revoke-all',
        );
        return { user_id: id, revoked };
      });

      admin.get('/users/:id/export', async (request, reply) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        const body = await privacy.exports.exportUser(id);
        request.log.info({ admin_key: identities.get(request)?.keyId, user_id: id }, 'admin export');
        return sendExport(reply, id, body);
      });

      admin.delete('/users/:id', async (request) => {
        const { id } = parseInput(IdParams, request.params, 'path');
        const { sessionsRevoked } = await privacy.erasure.erase(id, { actor: 'admin' });
        request.log.info({ admin_key: identities.get(request)?.keyId, user_id: id }, 'admin erase');
        return { user_id: id, erased: true, sessions_revoked: sessionsRevoked };
      });

      admin.get('/logs', async (request) => {
        const { limit, cursor, user_id, ...filter } = parseInput(LogsQuery, request.query, 'query');
        const page = await service.searchLogs({ ...filter, userId: user_id }, { limit, cursor });
        return { logs: page.items.map(adminLogView), next_cursor: page.nextCursor };
      });

      admin.get('/analytics/logins-per-day', async (request) =>
        analytics.loginsPerDay(parseInput(DaysQuery, request.query, 'query')),
      );

      admin.get('/analytics/active-by-device', async (request) => {
        parseInput(NoFields, request.query, 'query');
        return analytics.activeByDevice();
      });

      admin.get('/analytics/session-duration', async (request) =>
        analytics.sessionDuration(parseInput(RangeQuery, request.query, 'query')),
      );

      admin.get('/analytics/failed-logins', async (request) =>
        analytics.failedLogins(parseInput(TopQuery, request.query, 'query')),
      );

      admin.get('/analytics/suspicious-ips', async (request) => {
        const { min_attempts, ...query } = parseInput(IPsQuery, request.query, 'query');
        return analytics.suspiciousIPs({ ...query, minAttempts: min_attempts });
      });

      routeUnknownPathsThroughScope(admin);
    },
    { prefix: '/api/admin' },
  );
}
