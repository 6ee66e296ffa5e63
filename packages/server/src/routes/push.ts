import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authenticateRequest } from '../http/authenticate.js';
import { parseInput } from '../http/parse.js';
import { preferencesView } from '../push/push-service.js';
import { PUSH_KINDS, type PushKind } from '../push/push-store.js';
import { PushSubscriptionBody } from '../push/push-subscription-input.js';

const PreferencesBody = z
  .strictObject({
    enabled: z.boolean().optional(),
    kinds: z
      .strictObject(
        Object.fromEntries(PUSH_KINDS.map((kind) => [kind, z.boolean().optional()])) as Record<
          PushKind,
          z.ZodOptional<z.ZodBoolean>
        >,
      )
      .optional(),
  })
  .refine((body) => body.enabled !== undefined || body.kinds !== undefined, 'name enabled or kinds');

/** Web Push (decision 037): the VAPID key, this device's subscription, the user's opt-out. */
export async function pushRoutes(app: FastifyInstance): Promise<void> {
  const { push } = app.sessiond;

  // Public: a page needs it before it can subscribe, and it is a public key.
  app.get('/api/auth/push/vapid-key', async () => ({ public_key: push.service.vapidPublicKey }));

  app.get('/api/auth/push/subscription', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const status = await push.service.status(auth.session);
    return { subscribed: status.subscribed, preferences: preferencesView(status.preferences) };
  });

  app.post('/api/auth/push/subscription', async (request, reply) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const body = parseInput(PushSubscriptionBody, request.body);
    const saved = await push.service.subscribe(auth.session, body);
    reply.code(201);
    return {
      subscription: { device_id: auth.session.deviceId, created_at: new Date(saved.createdAt).toISOString() },
    };
  });

  app.delete('/api/auth/push/subscription', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    return { deleted: await push.service.unsubscribe(auth.session) };
  });

  app.get('/api/auth/push/preferences', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const { preferences } = await push.service.status(auth.session);
    return { preferences: preferencesView(preferences) };
  });

  app.put('/api/auth/push/preferences', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const body = parseInput(PreferencesBody, request.body);
    const preferences = await push.service.setPreferences(auth.session.userId, {
      ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
      ...(body.kinds !== undefined ? { kinds: body.kinds } : {}),
    });
    return { preferences: preferencesView(preferences) };
  });
}
