import type { TestServer } from './test-server.js';

/** Flags a live session as needing step-up, as the risk engine will (issue 6). */
export async function demandStepUp(server: TestServer, sessionId: string, reason = 'test'): Promise<void> {
  const session = await server.app.sessiond.store.findSession(sessionId);
  if (!session) throw new Error(`no session ${sessionId}`);
  if (!(await server.app.sessiond.sessions.requireStepUp(session, reason))) {
    throw new Error(`session ${sessionId} has ended`);
  }
}

/**
 * Moves the server's clock past SESSIOND_STEP_UP_PASSWORD_MIN_AGE_SECONDS: a session signed in
 * with the password may then step up with it again (decision 024; right after signing in, it
 * may not).
 */
export function letPasswordCountAgain(server: TestServer): void {
  server.clock.advance(server.app.sessiond.config.stepUpPasswordMinAgeSeconds * 1000);
}
