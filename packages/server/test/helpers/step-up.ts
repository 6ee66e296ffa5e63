import type { TestServer } from './test-server.js';

/** Flags a live session as needing step-up, as the risk engine will (issue 6). */
export async function demandStepUp(server: TestServer, sessionId: string, reason = 'test'): Promise<void> {
  const session = await server.app.sessiond.store.findSession(sessionId);
  if (!session) throw new Error(`no session ${sessionId}`);
  if (!(await server.app.sessiond.sessions.requireStepUp(session, reason))) {
    throw new Error(`session ${sessionId} has ended`);
  }
}
