import type { TestServer } from './test-server.js';

/** Flags a live session as needing step-up, as the risk engine will (issue 6). */
export async function demandStepUp(server: TestServer, sessionId: string): Promise<void> {
  const session = await server.app.sessiond.store.findSession(sessionId);
  if (!session) throw new Error(`no session ${sessionId}`);
  await server.app.sessiond.store.requireStepUp(session.id, {
    action: 'step_up_required',
    success: true,
    userId: session.userId,
    sessionId: session.id,
    deviceId: session.deviceId,
    ip: null,
    userAgent: null,
    actor: 'system',
    createdAt: server.clock.now(),
  });
}
