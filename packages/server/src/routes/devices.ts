import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authenticateRequest, requestContext } from '../http/authenticate.js';
import { parseInput } from '../http/parse.js';
import { deviceView } from '../http/views.js';
import { DeviceId } from './auth.js';

const DeviceParams = z.strictObject({ id: DeviceId });
const TrustBody = z.strictObject({ trusted: z.boolean().optional() });

/** A user's devices: list, trust and forget (both sensitive: step-up applies). */
export async function deviceRoutes(app: FastifyInstance): Promise<void> {
  const { devices, sessions } = app.sessiond;

  app.get('/api/auth/devices', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const list = await devices.list(auth.session.userId);
    return {
      devices: list.map((device) => ({
        ...deviceView(device),
        current: device.id === auth.session.deviceId,
      })),
    };
  });

  app.post('/api/auth/devices/:id/trust', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    await app.sessiond.stepUpPolicy.requireNoPendingStepUp(auth);
    const { id } = parseInput(DeviceParams, request.params, 'path');
    const body = parseInput(TrustBody, request.body);
    const device = await devices.setTrust(auth.session.userId, id, body.trusted ?? true, {
      ...requestContext(request),
      sessionId: auth.session.id,
    });
    return { device: deviceView(device) };
  });

  app.delete('/api/auth/devices/:id', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    await app.sessiond.stepUpPolicy.requireNoPendingStepUp(auth);
    const { id } = parseInput(DeviceParams, request.params, 'path');
    await sessions.forgetDevice(auth, id, requestContext(request));
    return { forgotten: true };
  });
}
